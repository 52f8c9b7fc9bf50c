// Random user operations on two real trees, as plain data (so fast-check can print and shrink them),
// and a small interpreter that applies them. The interpreter never follows a symlink: an operation
// whose path goes through anything but real directories is skipped (a no-op), like an operation whose
// precondition does not hold (deleting what is not there, chmod of a symlink...).
import fc from 'fast-check';
import { chmodSync, lstatSync, lutimesSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type SideName = 'A' | 'B';

/** A small name space, so that operations on the two sides collide often. */
export const POOL = ['a', 'b', 'd', 'd/x', 'd/y', 'd/e', 'd/e/z'] as const;
export type PoolPath = (typeof POOL)[number];

/** A file on both sides that no operation touches: keeps a root from ever being empty (tsync halts on that). */
export const SENTINEL = 'keep';

/**
 * `seq`: a fresh whole second, later than every earlier `seq` (distinct mtimes: 'newer' has a winner).
 * `tie`: one fixed second shared by every `tie` write (equal mtimes: the tie-break decides).
 * `now`: whatever the kernel set (nanoseconds). `future`: an hour from now.
 */
export type MtimeSpec = 'seq' | 'tie' | 'now' | 'future';

export type Content = 'unique' | 'k0' | 'k1' | 'empty';

export type Op =
  /** Create or overwrite (in place) a file. `unique` content is new bytes; `k0`/`k1`/`empty` are the same bytes wherever written. */
  | { readonly t: 'write'; readonly s: SideName; readonly p: PoolPath; readonly content: Content; readonly pad: number; readonly mt: MtimeSpec }
  /** New bytes of the same length, in place, then the old mtime (and atime) put back. */
  | { readonly t: 'same'; readonly s: SideName; readonly p: PoolPath }
  /** rm -rf */
  | { readonly t: 'del'; readonly s: SideName; readonly p: PoolPath }
  | { readonly t: 'chmod'; readonly s: SideName; readonly p: PoolPath; readonly m: number }
  /** touch -d (touch -h for a symlink: its own mtime, never the target's): a metadata-only edit. */
  | { readonly t: 'touch'; readonly s: SideName; readonly p: PoolPath; readonly mt: MtimeSpec }
  | { readonly t: 'mkdir'; readonly s: SideName; readonly p: PoolPath }
  /** rename(2): onto a free name, or over a file/symlink when moving a file/symlink. */
  | { readonly t: 'mv'; readonly s: SideName; readonly from: PoolPath; readonly to: PoolPath }
  /** rm -rf, then something of another kind at the same path (a directory may get a child file `k`). */
  | { readonly t: 'replace'; readonly s: SideName; readonly p: PoolPath; readonly kind: 'file' | 'dir' | 'symlink'; readonly child: boolean }
  /** Create a symlink, or retarget an existing one. */
  | { readonly t: 'symlink'; readonly s: SideName; readonly p: PoolPath; readonly target: number };

export const FILE_MODES = [0o644, 0o600, 0o755, 0o640] as const;
export const DIR_MODES = [0o755, 0o700, 0o750] as const;
export const LINK_TARGETS = ['a', 'd/x', 'nowhere', '../outside'] as const;

/** Seconds: 2023-11-14T22:13:20Z. `seq` mtimes count up from here; `tie` is one fixed second before it. */
export const T0 = 1_700_000_000;
export const T_TIE = T0 - 1000;

export const sideArb: fc.Arbitrary<SideName> = fc.constantFrom<SideName>('A', 'B');
export const pathArb: fc.Arbitrary<PoolPath> = fc.constantFrom(...POOL);

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('write' as const),
      s: sideArb,
      p: pathArb,
      content: fc.constantFrom<Content>('unique', 'unique', 'unique', 'unique', 'k0', 'k1', 'empty'),
      pad: fc.integer({ min: 0, max: 3 }),
      mt: fc.constantFrom<MtimeSpec>('seq', 'seq', 'seq', 'seq', 'tie', 'now', 'future'),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('same' as const), s: sideArb, p: pathArb }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('del' as const), s: sideArb, p: pathArb }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('chmod' as const), s: sideArb, p: pathArb, m: fc.integer({ min: 0, max: 11 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('touch' as const), s: sideArb, p: pathArb, mt: fc.constantFrom<MtimeSpec>('seq', 'seq', 'tie', 'now', 'future') }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('mkdir' as const), s: sideArb, p: pathArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('mv' as const), s: sideArb, from: pathArb, to: pathArb }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('replace' as const), s: sideArb, p: pathArb, kind: fc.constantFrom('file' as const, 'dir' as const, 'symlink' as const), child: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('symlink' as const), s: sideArb, p: pathArb, target: fc.integer({ min: 0, max: LINK_TARGETS.length - 1 }) }) },
);

/** A metadata-only edit (touch or chmod), or a write of shared bytes: what makes both sides agree on content but not on metadata. */
const metaEditArb = (s: SideName, p: PoolPath): fc.Arbitrary<Op> =>
  fc.oneof(
    fc.record({ t: fc.constant('touch' as const), s: fc.constant(s), p: fc.constant(p), mt: fc.constantFrom<MtimeSpec>('seq', 'tie', 'now') }),
    fc.record({ t: fc.constant('chmod' as const), s: fc.constant(s), p: fc.constant(p), m: fc.integer({ min: 0, max: 11 }) }),
    fc.record({
      t: fc.constant('write' as const),
      s: fc.constant(s),
      p: fc.constant(p),
      content: fc.constant<Content>('k0'),
      pad: fc.constant(0),
      mt: fc.constantFrom<MtimeSpec>('seq', 'tie', 'now'),
    }),
  );

/**
 * One such edit on each side of the same path: random single operations seldom meet on one path, and
 * the two-way metadata merge (a field changed on one side, or on both) is only exercised when they do.
 */
export const metaPairArb: fc.Arbitrary<Op[]> = pathArb.chain((p) => fc.tuple(metaEditArb('A', p), metaEditArb('B', p)).map(([a, b]) => [a, b]));

/** Per-history counters: every `unique` write gets bytes never written before, every `seq` write a later second. */
export interface OpContext {
  readonly roots: Readonly<Record<SideName, string>>;
  contentCounter: number;
  seqCounter: number;
}

type Kind = 'file' | 'dir' | 'symlink' | 'other';

function kindAt(abs: string): Kind | null {
  try {
    const st = lstatSync(abs);
    return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ENOTDIR / ELOOP: a parent is not a real directory (callers check ancestors before acting)
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return null;
    throw e;
  }
}

function ancestors(p: string): string[] {
  const out: string[] = [];
  for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) out.push(p.slice(0, i));
  return out;
}

/** Every ancestor a real directory (missing ones created when `create`)? False: the op is skipped. */
function ancestorsOk(root: string, p: string, create: boolean): boolean {
  for (const a of ancestors(p)) {
    const k = kindAt(join(root, a));
    if (k === 'dir') continue;
    if (k === null && create) {
      mkdirSync(join(root, a));
      continue;
    }
    return false;
  }
  return true;
}

export function uniqueContent(ctx: OpContext, length?: number): string {
  const body = `u${String(++ctx.contentCounter).padStart(7, '0')}`;
  return length === undefined ? body : body.padEnd(length, '.').slice(0, length);
}

function contentOf(ctx: OpContext, c: Content, pad: number): string {
  if (c === 'empty') return '';
  const body = c === 'unique' ? uniqueContent(ctx) : `${c}`.padEnd(8, '-');
  return body + '.'.repeat(pad);
}

function setMtime(ctx: OpContext, abs: string, mt: MtimeSpec): void {
  if (mt === 'now') return;
  utimesSync(abs, secondsFor(ctx, mt), secondsFor(ctx, mt));
}

/** The seconds an mtime spec stands for (`now`: the clock, with its fraction). */
function secondsFor(ctx: OpContext, mt: MtimeSpec): number {
  if (mt === 'now') return Date.now() / 1000;
  return mt === 'tie' ? T_TIE : mt === 'future' ? Math.floor(Date.now() / 1000) + 3600 : T0 + ++ctx.seqCounter;
}

function secondsOf(ns: bigint): number {
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
}

/** Applies one operation; returns false when it did not apply (its precondition did not hold). */
export function applyOp(ctx: OpContext, op: Op): boolean {
  const root = ctx.roots[op.s];
  switch (op.t) {
    case 'write': {
      const abs = join(root, op.p);
      if (!ancestorsOk(root, op.p, true)) return false;
      const k = kindAt(abs);
      if (k !== null && k !== 'file') return false;
      writeFileSync(abs, contentOf(ctx, op.content, op.pad));
      setMtime(ctx, abs, op.mt);
      return true;
    }
    case 'same': {
      const abs = join(root, op.p);
      if (!ancestorsOk(root, op.p, false) || kindAt(abs) !== 'file') return false;
      const st = lstatSync(abs, { bigint: true });
      const old = readFileSync(abs);
      writeFileSync(abs, uniqueContent(ctx, old.length));
      utimesSync(abs, secondsOf(st.atimeNs), secondsOf(st.mtimeNs));
      return true;
    }
    case 'del': {
      const abs = join(root, op.p);
      if (!ancestorsOk(root, op.p, false) || kindAt(abs) === null) return false;
      rmSync(abs, { recursive: true, force: true });
      return true;
    }
    case 'chmod': {
      const abs = join(root, op.p);
      if (!ancestorsOk(root, op.p, false)) return false;
      const k = kindAt(abs);
      if (k === 'file') chmodSync(abs, FILE_MODES[op.m % FILE_MODES.length] as number);
      else if (k === 'dir') chmodSync(abs, DIR_MODES[op.m % DIR_MODES.length] as number);
      else return false;
      return true;
    }
    case 'touch': {
      const abs = join(root, op.p);
      if (!ancestorsOk(root, op.p, false)) return false;
      const k = kindAt(abs);
      const t = secondsFor(ctx, op.mt);
      if (k === 'symlink') lutimesSync(abs, t, t);
      else if (k === 'file' || k === 'dir') utimesSync(abs, t, t);
      else return false;
      return true;
    }
    case 'mkdir': {
      const abs = join(root, op.p);
      if (!ancestorsOk(root, op.p, true) || kindAt(abs) !== null) return false;
      mkdirSync(abs);
      return true;
    }
    case 'mv': {
      if (op.from === op.to || op.to.startsWith(`${op.from}/`)) return false;
      if (!ancestorsOk(root, op.from, false) || !ancestorsOk(root, op.to, false)) return false;
      const from = join(root, op.from);
      const to = join(root, op.to);
      const kf = kindAt(from);
      if (kf === null) return false;
      const kt = kindAt(to);
      if (kt !== null && (kf === 'dir' || kt === 'dir')) return false;
      renameSync(from, to);
      return true;
    }
    case 'replace': {
      const abs = join(root, op.p);
      if (!ancestorsOk(root, op.p, false)) return false;
      const k = kindAt(abs);
      if (k === null || k === op.kind) return false;
      rmSync(abs, { recursive: true, force: true });
      if (op.kind === 'file') {
        writeFileSync(abs, uniqueContent(ctx));
        setMtime(ctx, abs, 'seq');
      } else if (op.kind === 'dir') {
        mkdirSync(abs);
        if (op.child) {
          writeFileSync(join(abs, 'k'), uniqueContent(ctx));
          setMtime(ctx, join(abs, 'k'), 'seq');
        }
      } else {
        symlinkSync('nowhere', abs);
      }
      return true;
    }
    case 'symlink': {
      const abs = join(root, op.p);
      if (!ancestorsOk(root, op.p, true)) return false;
      const k = kindAt(abs);
      if (k === 'symlink') unlinkSync(abs);
      else if (k !== null) return false;
      symlinkSync(LINK_TARGETS[op.target] as string, abs);
      return true;
    }
  }
}
