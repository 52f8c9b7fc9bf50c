import type { Action, Conflict, ConflictPolicy, ConflictVersion, Expectation, Plan, ScannedEntry, StatId } from '../core/types.js';
import type { SyncMode } from './settings.js';

/**
 * `tsync plan … -o plan.json` / `tsync apply plan.json`: a plan as a file. Every action carries its
 * preconditions: the state its target had (kind, size, mtime, inode, ctime) and, for copies, the
 * source's (plus its content hash where known). `apply` re-checks both right before each write and
 * refuses, action by action, whatever moved on. Paths are stored as base64 of their bytes (names are
 * bytes, not text), with a readable copy beside them; 64-bit numbers as decimal strings. Reading a plan
 * back is plan-parse.ts: it needs the schema library, which writing one (and every other command) does not.
 */
export const PLAN_FORMAT = 'tsync-plan/1';

export interface PlanFile {
  readonly format: typeof PLAN_FORMAT;
  readonly createdAt: string;
  readonly mode: SyncMode;
  readonly policy: ConflictPolicy;
  /**
   * A local root: its real path, as base64 of its bytes. A remote root: as the user gave it (`host:path`,
   * `ssh://…`, reached again that way by apply) and its identity (machine id and real path, base64), which
   * apply checks before it writes (older plans have local roots only, and read as before).
   */
  readonly roots: { readonly left: StoredRoot; readonly right: StoredRoot };
  readonly actions: readonly unknown[];
}

type StoredRoot = string | { readonly remote: string; readonly identity: string };

/** A root as a plan records it: a local real path, or a remote root as given plus its identity (open-sides.ts). */
export type PlanRoot = { readonly kind: 'local'; readonly path: string } | { readonly kind: 'remote'; readonly spec: string; readonly identity: string };

const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');

const storedRoot = (r: PlanRoot): StoredRoot => (r.kind === 'local' ? b64(r.path) : { remote: r.spec, identity: b64(r.identity) });

export function serializePlan(plan: Plan, meta: { mode: SyncMode; policy: ConflictPolicy; left: PlanRoot; right: PlanRoot }): string {
  const file: PlanFile = {
    format: PLAN_FORMAT,
    createdAt: new Date().toISOString(),
    mode: meta.mode,
    policy: meta.policy,
    roots: { left: storedRoot(meta.left), right: storedRoot(meta.right) },
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
    case 'link':
      return { ...base, source: scannedJson(a.source), linkTo: b64(a.linkTo), linkToExpect: expectJson(a.linkToExpect) };
    case 'conflict':
      return { ...base, winner: scannedJson(a.winner), loser: scannedJson(a.loser), copyName: nullableB64(a.copyName), conflict: conflictJson(a.conflict) };
  }
}

/** Key by key, not a spread: the file format is what PLAN_SCHEMA admits, whatever fields the in-memory type grows. */
function conflictJson(c: Conflict): Record<string, unknown> {
  return { path: b64(c.path), left: versionJson(c.left), right: versionJson(c.right), policy: c.policy, resolution: c.resolution, winner: c.winner, copyName: nullableB64(c.copyName) };
}

const versionJson = (ver: ConflictVersion): Record<string, unknown> => ({ kind: ver.kind, size: ver.size, mtimeNs: ver.mtimeNs.toString(), hash: ver.hash });
const nullableB64 = (s: string | null): string | null => (s === null ? null : b64(s));

function expectJson(e: Expectation): Record<string, unknown> | null {
  return e === null ? null : { kind: e.kind, ...statJson(e) };
}

function statJson(s: StatId): Record<string, unknown> {
  return { size: s.size, mtimeNs: s.mtimeNs.toString(), ino: s.ino.toString(), ctimeNs: s.ctimeNs.toString() };
}

function scannedJson(s: ScannedEntry): Record<string, unknown> {
  const e = s.entry;
  const owner = { uid: e.uid, gid: e.gid }; // absent ones (not kept) are left out by JSON.stringify
  const entry =
    e.kind === 'file'
      ? { kind: 'file', size: e.size, mtimeNs: e.mtimeNs.toString(), mode: e.mode, hash: e.hash, ...owner, xattrs: e.xattrs }
      : e.kind === 'dir'
        ? { kind: 'dir', mode: e.mode, mtimeNs: e.mtimeNs.toString(), ...owner, xattrs: e.xattrs }
        : { kind: 'symlink', target: b64(e.target), mtimeNs: e.mtimeNs.toString(), ...owner };
  return { entry, stat: statJson(s.stat), observedAtNs: s.observedAtNs.toString() };
}
