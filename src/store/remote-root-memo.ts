// What the last run learned about a remote root when its agent opened it: the root's identity (the far
// machine and the real path, which key the pair's index and lock), whether it was missing, and what the
// agent could keep. A run reads it before ssh has connected, so that the local half of its work (the pair
// lock, the index, the base, the walk of the local root) can go on while the connection is made; the
// agent's real answer is then compared with it, and on any difference that work is dropped and done again
// (sync/pair.ts). A memo is therefore only ever a guess: a missing, stale or unreadable one costs time,
// never correctness. One small file per remote root spec, in the state dir.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AbsPath } from '../core/types.js';
import { sha256Hex } from '../hash/sha256.js';

export interface RemoteRootFacts {
  /** What the index knows the root by (`ssh://<machine><real path>`). */
  readonly identity: AbsPath;
  readonly missing: boolean;
  /** The agent could read and write extended attributes. */
  readonly xattrs: boolean;
  /** The agent could set owners and groups. */
  readonly mayChown: boolean;
}

/**
 * The memo's name: the root as written and the ssh command that reaches it (another command, say another
 * ProxyJump, may reach another machine by the same name). The text is hashed, not stored: no host names
 * or paths in file names.
 */
export function memoFileOf(stateDir: string, rootText: string, sshCommand: string): string {
  const digest = sha256Hex(Buffer.from(rootText, 'utf8'), Buffer.of(0), Buffer.from(sshCommand, 'utf8'));
  return join(stateDir, `remote-${digest.slice(0, 24)}.json`);
}

/** The facts the last run wrote, or null (none yet, or a file that is not what this version writes). */
export function readRemoteRootFacts(file: string): RemoteRootFacts | null {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { identity, missing, xattrs, mayChown } = value as Record<string, unknown>;
  if (typeof identity !== 'string' || !identity.startsWith('ssh://')) return null;
  if (typeof missing !== 'boolean' || typeof xattrs !== 'boolean' || typeof mayChown !== 'boolean') return null;
  return { identity: identity as AbsPath, missing, xattrs, mayChown };
}

/**
 * Writes the facts (temp file, then rename: a reader sees the old memo or the new one). A failure is
 * ignored: the memo only saves time, and the state dir's real problems surface from the index.
 */
export function writeRemoteRootFacts(file: string, facts: RemoteRootFacts): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, `${JSON.stringify(facts)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
  }
}

export function sameRemoteRootFacts(a: RemoteRootFacts, b: RemoteRootFacts): boolean {
  return a.identity === b.identity && a.missing === b.missing && a.xattrs === b.xattrs && a.mayChown === b.mayChown;
}
