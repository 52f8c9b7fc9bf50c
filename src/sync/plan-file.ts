import * as v from 'valibot';
import { anObject, closedObject, exactKeys, parseJsonFile } from '../config/schema-issues.js';
import {
  CONFLICT_POLICIES,
  type Action,
  type Conflict,
  type ConflictPolicy,
  type ConflictVersion,
  type ConflictResolution,
  type EntryKind,
  type Expectation,
  type Plan,
  type RelPath,
  type ScannedEntry,
  type Side,
  type StatId,
} from '../core/types.js';
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
  const entry =
    e.kind === 'file'
      ? { kind: 'file', size: e.size, mtimeNs: e.mtimeNs.toString(), mode: e.mode, hash: e.hash }
      : e.kind === 'dir'
        ? { kind: 'dir', mode: e.mode, mtimeNs: e.mtimeNs.toString() }
        : { kind: 'symlink', target: b64(e.target), mtimeNs: e.mtimeNs.toString() };
  return { entry, stat: statJson(s.stat), observedAtNs: s.observedAtNs.toString() };
}

/** Reads a plan file back; anything malformed is a one-line UsageError (exit 2) naming the file and key. */
export function parsePlan(text: string, file: string): { mode: SyncMode; policy: ConflictPolicy; left: string; right: string; actions: Action[] } {
  const doc = parseJsonFile(PLAN_SCHEMA, text, file);
  return { mode: doc.mode, policy: doc.policy, left: doc.roots.left, right: doc.roots.right, actions: doc.actions };
}

// The schema below is the file format: every key serializePlan writes, and no other (a hand edit with a
// typo is an error, not an ignored key). It also turns the stored forms back into the in-memory ones:
// base64 into byte strings, decimal strings into bigints.

const SIDES = ['left', 'right'] as const satisfies readonly Side[];
const KINDS = ['file', 'dir', 'symlink'] as const satisfies readonly EntryKind[];
const RESOLUTIONS = ['kept-both', 'loser-trashed', 'skipped'] as const satisfies readonly ConflictResolution[];

const base64 = v.pipe(v.string(), v.regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'base64'), v.transform(unb64));
/** A path inside a root: the engine resolves it under the root, so `..`, `.` and empty parts must never get there. */
const relPath = v.pipe(
  base64,
  v.check((p) => p !== '' && p.split('/').every((part) => part !== '' && part !== '.' && part !== '..' && !part.includes('\0')), 'a relative path in base64 (no empty, "." or ".." parts)'),
  v.transform((p) => p as RelPath),
);
const absPath = v.pipe(
  base64,
  v.check((p) => p.startsWith('/') && !p.includes('\0'), 'an absolute path in base64'),
);
/** 64-bit numbers (times in ns, inode numbers) are stored as decimal strings: JSON numbers lose their low bits. */
const int64 = v.pipe(
  v.string(),
  v.regex(/^-?\d{1,20}$/, 'a whole number as a decimal string'),
  v.transform((s: string) => BigInt(s)),
);
const uint64 = v.pipe(
  v.string(),
  v.regex(/^\d{1,20}$/, 'a whole number of 0 or more as a decimal string'),
  v.transform((s: string) => BigInt(s)),
);
const size = v.pipe(v.number(), v.safeInteger('a whole number'), v.minValue(0, 'a size of 0 or more'));
const mode = v.pipe(v.number(), v.integer('a whole number'), v.minValue(0, 'a mode from 0 to 0o7777'), v.maxValue(0o7777, 'a mode from 0 to 0o7777'));
const hash = v.nullable(v.pipe(v.string(), v.regex(/^[0-9a-f]{16}$/, 'an XXH64 hash as 16 hex digits')));

const statEntries = { size, mtimeNs: int64, ino: uint64, ctimeNs: int64 };
const stat = closedObject(statEntries);
const expectation = v.nullable(closedObject({ kind: v.picklist(KINDS), ...statEntries }));

const fileEntry = exactKeys({ kind: v.literal('file'), size, mtimeNs: int64, mode, hash });
const dirEntry = exactKeys({ kind: v.literal('dir'), mode, mtimeNs: int64 });
const symlinkEntry = exactKeys({ kind: v.literal('symlink'), target: base64, mtimeNs: int64 });
const scanned = closedObject({ entry: v.pipe(anObject, v.variant('kind', [fileEntry, dirEntry, symlinkEntry])), stat, observedAtNs: int64 });
const scannedDir = closedObject({ entry: v.pipe(anObject, dirEntry), stat, observedAtNs: int64 });

const version = closedObject({ kind: v.picklist(KINDS), size: v.nullable(size), mtimeNs: int64, hash });
const conflictRecord = closedObject({
  path: relPath,
  left: version,
  right: version,
  policy: v.picklist(CONFLICT_POLICIES),
  resolution: v.picklist(RESOLUTIONS),
  winner: v.nullable(v.picklist(SIDES)),
  copyName: v.nullable(relPath),
});

/** `pathText` is the path for humans to read in the file; `path` (its bytes) is what counts. */
const actionBase = { path: relPath, pathText: v.string(), target: v.picklist(SIDES), expect: expectation };
const action = v.variant('type', [
  exactKeys({ type: v.literal('delete'), ...actionBase }),
  exactKeys({ type: v.literal('copy'), ...actionBase, source: scanned }),
  exactKeys({ type: v.literal('meta'), ...actionBase, source: scanned }),
  exactKeys({ type: v.literal('mkdir'), ...actionBase, source: scannedDir }),
  v.pipe(
    exactKeys({ type: v.literal('conflict'), ...actionBase, winner: scanned, loser: scanned, copyName: v.nullable(relPath), conflict: conflictRecord }),
    // The conflict record is what the index and the report keep; apply acts on the action. They must tell the same story.
    v.forward(
      v.check((a) => a.conflict.path === a.path, "the action's path"),
      ['conflict', 'path'],
    ),
    v.forward(
      v.check((a) => a.conflict.copyName === a.copyName, "the action's copyName"),
      ['conflict', 'copyName'],
    ),
    v.forward(
      v.check((a) => a.conflict.winner !== null && a.conflict.winner !== a.target, 'the side the action does not write'),
      ['conflict', 'winner'],
    ),
    v.forward(
      v.check((a) => a.conflict.resolution === (a.copyName === null ? 'loser-trashed' : 'kept-both'), 'kept-both with a copyName, loser-trashed without'),
      ['conflict', 'resolution'],
    ),
  ),
]);

const PLAN_SCHEMA = closedObject({
  format: v.literal(PLAN_FORMAT, JSON.stringify(PLAN_FORMAT)),
  createdAt: v.string(),
  mode: v.picklist(['one-way', 'two-way'] as const satisfies readonly SyncMode[]),
  policy: v.picklist(CONFLICT_POLICIES),
  roots: closedObject({ left: absPath, right: absPath }),
  actions: v.array(v.pipe(anObject, action, v.transform(actionOf))),
});

type StoredAction = v.InferOutput<typeof action>;

/** The in-memory action: the stored one without its readable path. */
function actionOf(stored: StoredAction): Action {
  const { pathText: _readable, ...a } = stored;
  return a;
}
