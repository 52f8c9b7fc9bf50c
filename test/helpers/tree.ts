// Byte-exact snapshots of real trees, and small builders for them.
//
// Names are Linux byte strings, not text, so a snapshot key is the raw bytes of the relative path
// decoded as latin1 (one char per byte): non-UTF-8 names, NFC vs NFD and newlines all stay distinct.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

export interface EntrySnapshot {
  readonly type: EntryType;
  /** st_mode & 0o7777 */
  readonly mode: number;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  /** sha256 of a file's bytes; null for anything else. */
  readonly contentSha: string | null;
  /** A symlink's target text, as latin1 of its raw bytes; null for anything else. */
  readonly linkTarget: string | null;
  /** Identity, compared only with `{ identity: true }` (the same tree before and after a run). */
  readonly ino: bigint;
  readonly ctimeNs: bigint;
}

/** Relative path (latin1 of the raw bytes) -> entry. The root itself is not included. */
export type TreeSnapshot = Map<string, EntrySnapshot>;

const SLASH = Buffer.from('/');

/** The snapshot key of a path given as UTF-8 text. */
export function key(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** The snapshot key of a path given as raw bytes. */
export function keyOfBytes(bytes: Buffer): string {
  return bytes.toString('latin1');
}

/** `root/rel` as a byte path, whatever bytes `rel` holds. */
export function pathBytes(root: string | Buffer, rel: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from(root), SLASH, typeof rel === 'string' ? Buffer.from(rel, 'utf8') : rel]);
}

/** Walks `root` without following symlinks. Names starting with `.tsync` (tsync's own) are left out. */
export function snapshotTree(root: string | Buffer): TreeSnapshot {
  const out: TreeSnapshot = new Map();
  const walk = (dirAbs: Buffer, prefix: string): void => {
    for (const name of readdirSync(dirAbs, { encoding: 'buffer' })) {
      if (name.toString('latin1').startsWith('.tsync')) continue;
      const abs = Buffer.concat([dirAbs, SLASH, name]);
      const rel = prefix === '' ? keyOfBytes(name) : `${prefix}/${keyOfBytes(name)}`;
      const entry = snapshotEntry(abs);
      out.set(rel, entry);
      if (entry.type === 'dir') walk(abs, rel);
    }
  };
  walk(Buffer.from(root), '');
  return out;
}

export function snapshotEntry(abs: Buffer): EntrySnapshot {
  const st = lstatSync(abs, { bigint: true });
  const type: EntryType = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
  return {
    type,
    mode: Number(st.mode & 0o7777n),
    size: st.size,
    mtimeNs: st.mtimeNs,
    contentSha: type === 'file' ? createHash('sha256').update(readFileSync(abs)).digest('hex') : null,
    linkTarget: type === 'symlink' ? readlinkSync(abs, { encoding: 'buffer' }).toString('latin1') : null,
    ino: st.ino,
    ctimeNs: st.ctimeNs,
  };
}

export interface CompareOptions {
  /** Also require the same inode and ctime: "nothing was rewritten or touched". */
  readonly identity?: boolean;
  /** Leave out paths at or below these keys (e.g. paths a run was expected to skip). */
  readonly exclude?: readonly string[];
}

/**
 * What differs between two snapshots, one line per difference (empty: identical). Mtimes are compared
 * to the microsecond (tsync sets times through libuv, which keeps microseconds). Symlink modes and
 * times are not compared: Linux ignores link modes and tsync promises link targets, not link times.
 * Directory sizes are file-system bookkeeping and are not compared either.
 */
export function compareTrees(expected: TreeSnapshot, actual: TreeSnapshot, opts: CompareOptions = {}): string[] {
  const excluded = (k: string): boolean => (opts.exclude ?? []).some((x) => k === x || k.startsWith(`${x}/`));
  const diffs: string[] = [];
  for (const [k, e] of expected) {
    if (excluded(k)) continue;
    const a = actual.get(k);
    if (a === undefined) diffs.push(`${show(k)}: missing (expected ${e.type})`);
    else diffs.push(...compareEntry(k, e, a, opts.identity === true));
  }
  for (const [k, a] of actual) {
    if (!excluded(k) && !expected.has(k)) diffs.push(`${show(k)}: unexpected ${a.type}`);
  }
  return diffs;
}

/** Two-way sync does not carry directory mtimes (they change with every listing change): compares the rest. */
export function sameTrees(a: string, b: string): string[] {
  const left = snapshotTree(a);
  const isDirMtimeDiff = (diff: string): boolean => {
    const m = /^"(.*)": mtime /.exec(diff);
    return m?.[1] !== undefined && left.get(m[1])?.type === 'dir';
  };
  return compareTrees(left, snapshotTree(b)).filter((d) => !isDirMtimeDiff(d));
}

function compareEntry(k: string, e: EntrySnapshot, a: EntrySnapshot, identity: boolean): string[] {
  const p = show(k);
  if (e.type !== a.type) return [`${p}: type ${e.type} != ${a.type}`];
  const diffs: string[] = [];
  if (e.type !== 'symlink') {
    if (e.mode !== a.mode) diffs.push(`${p}: mode ${octal(e.mode)} != ${octal(a.mode)}`);
    if (e.mtimeNs / 1000n !== a.mtimeNs / 1000n) diffs.push(`${p}: mtime ${e.mtimeNs}ns != ${a.mtimeNs}ns (differs at microsecond resolution)`);
  }
  if (e.type === 'file') {
    if (e.size !== a.size) diffs.push(`${p}: size ${e.size} != ${a.size}`);
    else if (e.contentSha !== a.contentSha) diffs.push(`${p}: content differs (same size ${e.size})`);
  }
  if (e.type === 'symlink' && e.linkTarget !== a.linkTarget) {
    diffs.push(`${p}: link target ${show(e.linkTarget ?? '')} != ${show(a.linkTarget ?? '')}`);
  }
  if (identity) {
    if (e.ino !== a.ino) diffs.push(`${p}: inode ${e.ino} != ${a.ino} (replaced)`);
    else if (e.ctimeNs !== a.ctimeNs) diffs.push(`${p}: ctime ${e.ctimeNs} != ${a.ctimeNs} (touched)`);
  }
  return diffs;
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

/** A key for humans: printable ASCII as is, every other byte as \xNN. */
export function show(k: string): string {
  let out = '';
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    out += c >= 0x20 && c < 0x7f && c !== 0x5c ? k[i] : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return JSON.stringify(out);
}

// ---- builders -------------------------------------------------------------------------------------

/** Writes a file (creating parents), optionally with a mode. `rel` may be raw bytes. */
export function put(root: string, rel: string | Buffer, content: string | Buffer, mode?: number): Buffer {
  const abs = pathBytes(root, rel);
  mkdirSync(parentOf(abs), { recursive: true });
  writeFileSync(abs, content);
  if (mode !== undefined) chmodSync(abs, mode);
  return abs;
}

export function dir(root: string, rel: string | Buffer, mode?: number): Buffer {
  const abs = pathBytes(root, rel);
  mkdirSync(abs, { recursive: true });
  if (mode !== undefined) chmodSync(abs, mode);
  return abs;
}

export function link(root: string, rel: string | Buffer, target: string | Buffer): Buffer {
  const abs = pathBytes(root, rel);
  mkdirSync(parentOf(abs), { recursive: true });
  symlinkSync(target, abs);
  return abs;
}

function parentOf(abs: Buffer): Buffer {
  return abs.subarray(0, abs.lastIndexOf(0x2f));
}

/**
 * Sets atime and mtime to exact nanoseconds with coreutils `touch` (utimensat): Node's utimes goes
 * through a double and libuv, which cannot set arbitrary nanoseconds. `-h`: a symlink itself, not its target.
 */
export function setTimesNs(paths: string | Buffer | readonly (string | Buffer)[], mtimeNs: bigint, atimeNs: bigint = mtimeNs): void {
  const list: readonly (string | Buffer)[] = typeof paths === 'string' || Buffer.isBuffer(paths) ? [paths] : paths;
  // argv is text: a byte path that is not UTF-8 cannot be passed to touch (no test needs it to).
  const texts = list.map((p) => {
    if (typeof p === 'string') return p;
    if (!Buffer.from(p.toString('utf8'), 'utf8').equals(p)) throw new Error(`setTimesNs needs UTF-8 paths, got ${show(p.toString('latin1'))}`);
    return p.toString('utf8');
  });
  execFileSync('touch', ['-h', '-m', '-d', `@${nsText(mtimeNs)}`, '--', ...texts]);
  execFileSync('touch', ['-h', '-a', '-d', `@${nsText(atimeNs)}`, '--', ...texts]);
}

function nsText(ns: bigint): string {
  return `${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}

/**
 * Gives every entry below `root` a whole-second mtime (and atime) derived from its relative path, so
 * the same path always gets the same time. Whole seconds are exact as a double, so a test that pins
 * its times checks mtimes to the microsecond without depending on sub-microsecond rounding (which
 * mirror.test.ts checks on its own).
 */
export function pinTimes(root: string): void {
  const walk = (dirAbs: Buffer, prefix: string): void => {
    for (const name of readdirSync(dirAbs, { encoding: 'buffer' })) {
      if (name.toString('latin1').startsWith('.tsync')) continue;
      const abs = Buffer.concat([dirAbs, SLASH, name]);
      const rel = prefix === '' ? keyOfBytes(name) : `${prefix}/${keyOfBytes(name)}`;
      const t = pinnedSeconds(rel);
      lutimesSync(abs, t, t); // setting a child's times leaves its directory's mtime alone
      if (lstatSync(abs).isDirectory()) walk(abs, rel);
    }
  };
  walk(Buffer.from(root), '');
}

/** 2020-09-13 plus up to ~3 years, from an FNV-1a hash of the path's bytes. */
export function pinnedSeconds(rel: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < rel.length; i++) {
    h ^= rel.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return 1_600_000_000 + (h % 100_000_000);
}

/** Every name at any depth below `root` that starts with `.tsync` (tsync's temp files and markers). */
export function findOwnNames(root: string): string[] {
  const found: string[] = [];
  const walk = (dirAbs: Buffer, prefix: string): void => {
    for (const name of readdirSync(dirAbs, { encoding: 'buffer' })) {
      const abs = Buffer.concat([dirAbs, SLASH, name]);
      const rel = prefix === '' ? keyOfBytes(name) : `${prefix}/${keyOfBytes(name)}`;
      if (name.toString('latin1').startsWith('.tsync')) found.push(rel);
      if (lstatSync(abs).isDirectory()) walk(abs, rel);
    }
  };
  walk(Buffer.from(root), '');
  return found;
}
