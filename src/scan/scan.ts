import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { displayPath, isOwnName, joinRel } from '../core/paths.js';
import { vouchedHash } from '../core/stat-cache.js';
import type { AbsPath, Base, Entry, Problem, RelPath, ScannedEntry, Side, SideRecord, Snapshot } from '../core/types.js';
import { fromBytes, toBytes } from '../fs/paths.js';
import { errCode, kindOfStat, nowNs, statIdOf } from '../fs/stat.js';
import { isTempName } from '../engine/temp-name.js';

export interface ScanOptions {
  readonly root: AbsPath;
  readonly side: Side;
  /** The index: its stat cache vouches for unchanged files so they are not re-read. */
  readonly base: Base;
  /** How this side's records are found in the base. */
  readonly sideRecord: (path: RelPath) => SideRecord | null | undefined;
  /** --checksum: trust no cached hash. */
  readonly checksum: boolean;
}

export interface ScanResult extends Snapshot {
  /** Temp files left by an earlier run that was killed: the session removes them. */
  readonly leftoverTemps: readonly RelPath[];
}

const SLASH = 0x2f;

/**
 * Walks a root without following symlinks and returns what is there. Synchronous on purpose: a scan is
 * one lstat after another, and the synchronous calls avoid a thread-pool round trip per entry (measured
 * faster than fs.promises for trees of small files). Iterative, so a 1,000-level tree needs no deep stack.
 */
export function scanTree(opts: ScanOptions): ScanResult {
  const entries = new Map<RelPath, ScannedEntry>();
  const problems: Problem[] = [];
  const leftoverTemps: RelPath[] = [];
  const rootBytes = toBytes(opts.root);
  const stack: (RelPath | null)[] = [null];

  while (stack.length > 0) {
    const dir = stack.pop() ?? null;
    const dirBytes = dir === null ? rootBytes : Buffer.concat([rootBytes, Buffer.of(SLASH), toBytes(dir)]);
    let names: Buffer[];
    try {
      names = readdirSync(dirBytes, { encoding: 'buffer' });
    } catch (e) {
      if (dir === null) throw e; // the root itself: the session reports it
      const code = errCode(e);
      if (code === 'ENOENT') entries.delete(dir); // vanished while we walked: it is simply not there
      else problems.push(problem(opts.side, dir, 'unreadable', `cannot list directory (${code})`));
      continue;
    }
    for (const nameBytes of names) {
      const name = fromBytes(nameBytes);
      const path = joinRel(dir, name);
      if (isOwnName(name)) {
        if (isTempName(name)) leftoverTemps.push(path);
        continue;
      }
      const abs = Buffer.concat([dirBytes, Buffer.of(SLASH), nameBytes]);
      const scanned = scanOne(opts, path, abs, problems);
      if (scanned === null) continue;
      entries.set(path, scanned);
      if (scanned.entry.kind === 'dir') stack.push(path);
    }
  }
  return { side: opts.side, entries, problems, leftoverTemps };
}

function scanOne(opts: ScanOptions, path: RelPath, abs: Buffer, problems: Problem[]): ScannedEntry | null {
  let st;
  try {
    st = lstatSync(abs, { bigint: true });
  } catch (e) {
    const code = errCode(e);
    if (code !== 'ENOENT') problems.push(problem(opts.side, path, 'unreadable', `cannot stat (${code})`));
    return null;
  }
  const observedAtNs = nowNs();
  const stat = statIdOf(st);
  const kind = kindOfStat(st);
  let entry: Entry;
  switch (kind) {
    case 'file': {
      const hash = opts.checksum ? null : vouchedHash(stat, opts.base.get(path), opts.sideRecord(path));
      entry = { kind: 'file', size: stat.size, mtimeNs: stat.mtimeNs, mode: Number(st.mode) & 0o7777, hash };
      break;
    }
    case 'dir':
      entry = { kind: 'dir', mode: Number(st.mode) & 0o7777, mtimeNs: stat.mtimeNs };
      break;
    case 'symlink':
      try {
        entry = { kind: 'symlink', target: fromBytes(readlinkSync(abs, { encoding: 'buffer' })), mtimeNs: stat.mtimeNs };
      } catch (e) {
        const code = errCode(e);
        if (code !== 'ENOENT') problems.push(problem(opts.side, path, 'unreadable', `cannot read link (${code})`));
        return null;
      }
      break;
    case 'special':
      // fifos, sockets and devices are never opened (a fifo would block the run forever)
      problems.push(problem(opts.side, path, 'special-file', 'special file (fifo, socket or device) skipped'));
      return null;
  }
  return { entry, stat, observedAtNs };
}

function problem(side: Side, path: RelPath, code: Problem['code'], what: string): Problem {
  return { side, path, code, message: `${displayPath(path)}: ${what}` };
}
