// Root ignores mode 000, so tests about permissions run the CLI as an unprivileged user (setpriv) when
// we are root, with the trees and state chowned to that user. As any other user, the CLI runs as ourselves.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir, runCli, type RunOptions } from './cli.js';

export const NOBODY = { uid: 65534, gid: 65534 } as const;
const isRoot = process.getuid?.() === 0;

export interface Unprivileged {
  /** Who the CLI runs as (undefined: ourselves, already unprivileged). */
  readonly runAs: RunOptions['asUser'];
  /** Why such tests cannot run here, or null when they can. */
  readonly skipReason: string | null;
  /** For test names: empty, or why the test was skipped. */
  readonly suffix: string;
}

let cached: Unprivileged | undefined;

export function unprivileged(): Unprivileged {
  if (cached !== undefined) return cached;
  const skipReason = probe();
  cached = { runAs: isRoot ? NOBODY : undefined, skipReason, suffix: skipReason === null ? '' : ` [skipped: ${skipReason}]` };
  return cached;
}

/** Gives a tree to the user the CLI runs as. */
export function handOver(dir: string): void {
  if (isRoot) execFileSync('chown', ['-R', `${NOBODY.uid}:${NOBODY.gid}`, dir]);
}

function probe(): string | null {
  if (!isRoot) return null;
  const dir = makeTempDir('tsync-e2e-probe-');
  try {
    mkdirSync(join(dir, 'src'));
    execFileSync('chown', ['-R', `${NOBODY.uid}:${NOBODY.gid}`, dir]);
    const version = runCli(['--version'], { asUser: NOBODY, cwd: dir });
    if (version.code !== 0) return `node or the project is not usable by uid ${NOBODY.uid} (setpriv ... tsync --version: exit ${version.code}: ${version.stderr.trim()})`;
    const write = runCli(['sync', '--one-way', '--state-dir', join(dir, 'state'), join(dir, 'src'), join(dir, 'dst')], { asUser: NOBODY, cwd: dir });
    if (!existsSync(join(dir, 'dst'))) return `uid ${NOBODY.uid} cannot write below ${dir} (exit ${write.code}: ${write.stderr.trim()})`;
    return null;
  } catch (e) {
    return `cannot run as uid ${NOBODY.uid}: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    removeTempDir(dir);
  }
}
