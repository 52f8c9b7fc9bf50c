import { sideLabel } from '../core/sides.js';
import { RootError } from '../errors.js';
import { StateStore } from '../store/store.js';
import { openSides } from './open-sides.js';

export interface IndexLookOptions {
  readonly stateDir: string;
  /** --ssh, for a remote root. */
  readonly sshCommand?: string;
}

/**
 * A read-only look at a pair's index (`tsync conflicts`): the roots are resolved as a sync resolves them
 * (open-sides.ts; a remote root by its agent, whose machine id and real path are the root's identity in
 * the index), both must exist, and nothing is locked, so that the look may run beside a sync or watch.
 * The remote session ends before `use` runs: the index is all it reads.
 */
export async function withPairIndex<T>(a: string, b: string, o: IndexLookOptions, use: (store: StateStore) => T): Promise<T> {
  const sides = await openSides({ left: a, right: b, mode: 'two-way', ...(o.sshCommand === undefined ? {} : { sshCommand: o.sshCommand }) });
  await Promise.allSettled([sides.endpoints.left.close(), sides.endpoints.right.close()]);
  const { roots } = sides;
  if (roots.leftMissing) throw new RootError(`${sideLabel('left', 'two-way')} ${roots.leftText} does not exist`);
  if (roots.rightMissing) throw new RootError(`${sideLabel('right', 'two-way')} ${roots.rightText} does not exist`);
  const { store } = StateStore.open(o.stateDir, roots.left, roots.right);
  try {
    return use(store);
  } finally {
    store.close();
  }
}
