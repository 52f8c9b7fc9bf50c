import type { Action, Conflict, ConflictPolicy, ConflictVersion, Entry, Expectation, Plan, RelPath, ScannedEntry, StatId } from '../core/types.js';
import { UsageError } from '../errors.js';
import type { SyncMode } from './settings.js';

/**
 * `tsync plan … -o plan.json` / `tsync apply plan.json`: a plan as a file. Every action carries its
 * preconditions: the state its target had (kind, size, mtime, inode, ctime) and, for copies, the
 * source's (plus its content hash where known). `apply` re-checks both right before each write and
 * refuses, action by action, whatever moved on. Paths are stored as base64 of their bytes (names are
 * bytes, not text), with a readable copy beside them; 64-bit numbers as decimal strings.
 */
export const PLAN_FORMAT = 'tsync-plan/1';

export interface PlanFile {
  readonly format: typeof PLAN_FORMAT;
  readonly createdAt: string;
  readonly mode: SyncMode;
  readonly policy: ConflictPolicy;
  /** Real paths of the roots, as base64 of their bytes. */
  readonly roots: { readonly left: string; readonly right: string };
  readonly actions: readonly unknown[];
}

const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');
const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('latin1');

export function serializePlan(plan: Plan, meta: { mode: SyncMode; policy: ConflictPolicy; left: string; right: string }): string {
  const file: PlanFile = {
    format: PLAN_FORMAT,
    createdAt: new Date().toISOString(),
    mode: meta.mode,
    policy: meta.policy,
    roots: { left: b64(meta.left), right: b64(meta.right) },
    actions: plan.actions.map(actionJson),
  };
  return `${JSON.stringify(file, null, 1)}\n`;
}

function actionJson(a: Action): Record<string, unknown> {
  const base = { type: a.type, path: b64(a.path), pathText: Buffer.from(a.path, 'latin1').toString('utf8'), target: a.target, expect: expectJson(a.expect) };
  switch (a.type) {
    case 'delete':
      return base;
    case 'copy':
    case 'mkdir':
    case 'meta':
      return { ...base, source: scannedJson(a.source) };
    case 'conflict':
      return { ...base, winner: scannedJson(a.winner), loser: scannedJson(a.loser), copyName: a.copyName === null ? null : b64(a.copyName), conflict: { ...a.conflict, path: b64(a.conflict.path), copyName: a.conflict.copyName === null ? null : b64(a.conflict.copyName), left: versionJson(a.conflict.left), right: versionJson(a.conflict.right) } };
  }
}

const versionJson = (v: { kind: string; size: number | null; mtimeNs: bigint; hash: string | null }): Record<string, unknown> => ({ ...v, mtimeNs: v.mtimeNs.toString() });

function expectJson(e: Expectation): Record<string, unknown> | null {
  return e === null ? null : { kind: e.kind, ...statJson(e) };
}

function statJson(s: StatId): Record<string, unknown> {
  return { size: s.size, mtimeNs: s.mtimeNs.toString(), ino: s.ino.toString(), ctimeNs: s.ctimeNs.toString() };
}

function scannedJson(s: ScannedEntry): Record<string, unknown> {
  const e = s.entry;
  const entry =
    e.kind === 'file'
      ? { kind: 'file', size: e.size, mtimeNs: e.mtimeNs.toString(), mode: e.mode, hash: e.hash }
      : e.kind === 'dir'
        ? { kind: 'dir', mode: e.mode, mtimeNs: e.mtimeNs.toString() }
        : { kind: 'symlink', target: b64(e.target), mtimeNs: e.mtimeNs.toString() };
  return { entry, stat: statJson(s.stat), observedAtNs: s.observedAtNs.toString() };
}

/** Reads a plan file back; anything malformed is a UsageError (exit 2) naming what is wrong. */
export function parsePlan(text: string, file: string): { mode: SyncMode; policy: ConflictPolicy; left: string; right: string; actions: Action[] } {
  const fail = (what: string): never => {
    throw new UsageError(`plan ${file}: ${what}`);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return fail('not valid JSON');
  }
  const d = obj(doc) ?? fail('not a plan');
  if (d.format !== PLAN_FORMAT) fail(`unknown format ${JSON.stringify(d.format)} (expected ${PLAN_FORMAT})`);
  const mode = d.mode === 'one-way' || d.mode === 'two-way' ? d.mode : fail('bad mode');
  const roots = obj(d.roots) ?? fail('no roots');
  const left = typeof roots.left === 'string' ? unb64(roots.left) : fail('bad roots');
  const right = typeof roots.right === 'string' ? unb64(roots.right) : fail('bad roots');
  if (!Array.isArray(d.actions)) fail('no actions');
  const actions = (d.actions as unknown[]).map((a, i) => {
    try {
      return actionOf(a);
    } catch (e) {
      return fail(`action ${i + 1}: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
  return { mode, policy: (typeof d.policy === 'string' ? d.policy : 'keep-both') as ConflictPolicy, left, right, actions };
}

function actionOf(raw: unknown): Action {
  const a = obj(raw) ?? bad('not an object');
  const path = unb64(str(a.path)) as RelPath;
  const target = a.target === 'left' || a.target === 'right' ? a.target : bad('bad target');
  const expect = a.expect === null ? null : expectOf(obj(a.expect) ?? bad('bad expect'));
  switch (a.type) {
    case 'delete':
      return { type: 'delete', path, target, expect };
    case 'copy':
      return { type: 'copy', path, target, expect, source: scannedOf(a.source) };
    case 'meta':
      return { type: 'meta', path, target, expect, source: scannedOf(a.source) };
    case 'mkdir': {
      const source = scannedOf(a.source);
      if (source.entry.kind !== 'dir') bad('mkdir of a non-directory');
      return { type: 'mkdir', path, target, expect, source: { ...source, entry: source.entry as Extract<Entry, { kind: 'dir' }> } };
    }
    case 'conflict': {
      const c = obj(a.conflict) ?? bad('bad conflict');
      const copyName = a.copyName === null ? null : (unb64(str(a.copyName)) as RelPath);
      const winner = c.winner === 'left' || c.winner === 'right' ? c.winner : null;
      const conflict: Conflict = {
        path,
        left: versionOf(c.left),
        right: versionOf(c.right),
        policy: str(c.policy) as ConflictPolicy,
        resolution: copyName === null ? 'loser-trashed' : 'kept-both',
        winner,
        copyName,
      };
      return { type: 'conflict', path, target, expect, winner: scannedOf(a.winner), loser: scannedOf(a.loser), copyName, conflict };
    }
    default:
      return bad(`unknown action type ${String(a.type)}`);
  }
}

function expectOf(e: Record<string, unknown>): Expectation {
  const kind = e.kind === 'file' || e.kind === 'dir' || e.kind === 'symlink' ? e.kind : bad('bad kind');
  return { kind, ...statOf(e) };
}

function versionOf(raw: unknown): ConflictVersion {
  const v = obj(raw) ?? bad('bad conflict version');
  const kind = v.kind === 'file' || v.kind === 'dir' || v.kind === 'symlink' ? v.kind : bad('bad kind');
  return { kind, size: typeof v.size === 'number' ? v.size : null, mtimeNs: BigInt(str(v.mtimeNs)), hash: typeof v.hash === 'string' ? v.hash : null };
}

function statOf(s: Record<string, unknown>): StatId {
  return { size: num(s.size), mtimeNs: BigInt(str(s.mtimeNs)), ino: BigInt(str(s.ino)), ctimeNs: BigInt(str(s.ctimeNs)) };
}

function scannedOf(raw: unknown): ScannedEntry {
  const s = obj(raw) ?? bad('bad source');
  const e = obj(s.entry) ?? bad('bad entry');
  let entry: Entry;
  if (e.kind === 'file') entry = { kind: 'file', size: num(e.size), mtimeNs: BigInt(str(e.mtimeNs)), mode: num(e.mode), hash: typeof e.hash === 'string' ? e.hash : null };
  else if (e.kind === 'dir') entry = { kind: 'dir', mode: num(e.mode), mtimeNs: BigInt(str(e.mtimeNs)) };
  else if (e.kind === 'symlink') entry = { kind: 'symlink', target: unb64(str(e.target)), mtimeNs: BigInt(str(e.mtimeNs)) };
  else return bad('bad entry kind');
  return { entry, stat: statOf(obj(s.stat) ?? bad('bad stat')), observedAtNs: BigInt(str(s.observedAtNs)) };
}

function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : bad('expected a string');
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : bad('expected a number');
}

function bad(what: string): never {
  throw new Error(what);
}
