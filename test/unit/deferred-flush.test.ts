// Settling the flush the last run owed, made beside the next run's walk (src/sync/deferred-flush.ts, overlap).
// The index and the endpoint are stand-ins here, and only they: what is under test is the order of the steps
// (the marks cleared only once the flush has ended) and what a failed flush leaves, and a local flush cannot be
// made to fail on a real file system (a failed targeted fsync falls back to a syncfs, which reports nothing).
// The real flush and index are in test/e2e/flush.test.ts.
import { describe, expect, it } from 'vitest';
import { currentBootId } from '../../src/fs/boot-id.js';
import type { OwedFlush, OwedSettlement } from '../../src/store/unflushed.js';
import { type FlushingEndpoint, type OwedStore, settleOwedFlush } from '../../src/sync/deferred-flush.js';

const BOOT = currentBootId() ?? 'no-boot-id';
const MOUNT = 'mount-1';

/** An index that owes a syncfs of the right side, recording how it was settled. */
function owingStore(): OwedStore & { readonly settled: OwedSettlement[] } {
  const owed: OwedFlush = { bootId: BOOT, sides: { right: { rootMade: false, mount: MOUNT, bootId: BOOT, paths: null } } };
  const settled: OwedSettlement[] = [];
  return {
    settled,
    owedFlush: () => (settled.length === 0 ? owed : null),
    settleOwedFlush: (how) => {
      settled.push(how);
      return how === 'lost' ? { dropped: 3, restored: 1 } : { dropped: 0, restored: 0 };
    },
  };
}

/** A local endpoint whose syncfs ends when the test says, or fails. */
function localEndpoint(): FlushingEndpoint & { finish(): void; fail(): void; readonly asked: string[] } {
  let end: { resolve: (lines: readonly string[]) => void; reject: (e: unknown) => void } | null = null;
  const asked: string[] = [];
  const pending = (): Promise<readonly string[]> =>
    new Promise((resolve, reject) => {
      end = { resolve, reject };
    });
  return {
    asked,
    isLocal: true,
    cacheStamp: async () => ({ bootId: BOOT, mount: MOUNT }),
    flush: async () => {
      asked.push('flush');
      return pending();
    },
    flushFileSystem: async () => {
      asked.push('syncfs');
      return pending();
    },
    finish: () => end?.resolve(['syncfs']),
    fail: () => end?.reject(new Error('EIO')),
  };
}

/** Lets every callback already due run (the flush's start, or its end's consequences). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe.skipIf(currentBootId() === null)('the owed flush made beside the walk', () => {
  it('is under way when the pair is handed over, and the marks are cleared only once it has ended', async () => {
    const store = owingStore();
    const right = localEndpoint();
    const s = await settleOwedFlush({ store, endpoints: { right }, dryRun: false, overlap: true });
    expect(s.warning).toBeNull();
    expect(s.farPart).toBeNull();
    expect(s.inFlight).not.toBeNull();
    await settle();
    expect(right.asked).toEqual(['syncfs']);
    // the walk goes on meanwhile; nothing is settled yet
    expect(store.settled).toEqual([]);
    right.finish();
    await expect(s.inFlight).resolves.toEqual({ warning: null, lost: false });
    expect(store.settled).toEqual(['flushed']);
  });

  it('a flush that fails takes the rows back, and says the base must be read again', async () => {
    const store = owingStore();
    const right = localEndpoint();
    const s = await settleOwedFlush({ store, endpoints: { right }, dryRun: false, overlap: true });
    await settle();
    right.fail();
    const late = await s.inFlight;
    expect(late?.lost).toBe(true);
    expect(late?.warning).toMatch(/their flush failed before they were flushed\): 3 paths it recorded are compared afresh/);
    expect(store.settled).toEqual(['lost']);
  });

  it('without overlap (and in a dry run) the flush is made, or left owed, before the pair is handed over', async () => {
    const store = owingStore();
    const right = localEndpoint();
    const opening = settleOwedFlush({ store, endpoints: { right }, dryRun: false });
    await settle();
    expect(store.settled).toEqual([]);
    right.finish();
    const s = await opening;
    expect(s.inFlight).toBeNull();
    expect(store.settled).toEqual(['flushed']);
    const dry = owingStore();
    const d = await settleOwedFlush({ store: dry, endpoints: { right: localEndpoint() }, dryRun: true, overlap: true });
    expect(d.inFlight).toBeNull();
    expect(dry.settled).toEqual([]);
  });

  it('a remote side is never flushed beside the walk (its flush shares the link the walk uses)', async () => {
    const store = owingStore();
    const right = { ...localEndpoint(), isLocal: false };
    const opening = settleOwedFlush({ store, endpoints: { right }, dryRun: false, overlap: true });
    await settle();
    right.finish();
    const s = await opening;
    expect(s.inFlight).toBeNull();
    expect(store.settled).toEqual(['flushed']);
  });
});
