import * as v from 'valibot';
import { anObject, closedObject, exactKeys, parseJsonFile } from '../config/schema-issues.js';
import { CONFLICT_POLICIES, type Action, type ConflictPolicy, type ConflictResolution, type EntryKind, type RelPath, type Side } from '../core/types.js';
import { isSafeRelPath } from '../core/paths.js';
import { PLAN_FORMAT, type PlanRoot } from './plan-file.js';
import type { SyncMode } from './settings.js';

// `tsync apply plan.json`: a plan file (written by plan-file.ts) read back and checked. Only `apply`
// loads this module, and with it valibot.

const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('latin1');

/** Reads a plan file back; anything malformed is a one-line UsageError (exit 2) naming the file and key. */
export function parsePlan(text: string, file: string): { mode: SyncMode; policy: ConflictPolicy; left: PlanRoot; right: PlanRoot; actions: Action[] } {
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
  v.check(isSafeRelPath, 'a relative path in base64 (no empty, "." or ".." parts)'),
  v.transform((p) => p as RelPath),
);
const absPath = v.pipe(
  base64,
  v.check((p) => p.startsWith('/') && !p.includes('\0'), 'an absolute path in base64'),
);
/**
 * A root: a local real path (a string, the only form older plans have), or a remote root as given plus
 * its identity (an object). Chosen by the value's type, so that an issue names what that form expects.
 */
const localRoot = v.pipe(
  absPath,
  v.transform((path): PlanRoot => ({ kind: 'local', path })),
);
const remoteRoot = v.pipe(
  closedObject({
    remote: v.pipe(v.string(), v.minLength(1, 'a remote root as given (host:path or ssh://…)')),
    identity: v.pipe(
      base64,
      v.check((p) => p.startsWith('ssh://') && !p.includes('\0'), 'a remote identity (ssh://machine/path) in base64'),
    ),
  }),
  v.transform(({ remote, identity }): PlanRoot => ({ kind: 'remote', spec: remote, identity })),
);
const root = v.lazy((input) => (typeof input === 'string' ? localRoot : remoteRoot));
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

// owner, group and xattr digest: present only where the planning run kept them
const id = v.optional(v.pipe(v.number(), v.integer('a whole number'), v.minValue(0, 'an id from 0 to 4294967294'), v.maxValue(0xfffffffe, 'an id from 0 to 4294967294')));
const xattrs = v.optional(v.pipe(v.string(), v.regex(/^([0-9a-f]{16})?$/, 'an xattr digest: 16 hex digits, or empty')));
const fileEntry = exactKeys({ kind: v.literal('file'), size, mtimeNs: int64, mode, hash, uid: id, gid: id, xattrs });
const dirEntry = exactKeys({ kind: v.literal('dir'), mode, mtimeNs: int64, uid: id, gid: id, xattrs });
const symlinkEntry = exactKeys({ kind: v.literal('symlink'), target: base64, mtimeNs: int64, uid: id, gid: id });
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
  exactKeys({ type: v.literal('link'), ...actionBase, source: scanned, linkTo: relPath, linkToExpect: expectation }),
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
  roots: closedObject({ left: root, right: root }),
  actions: v.array(v.pipe(anObject, action, v.transform(actionOf))),
});

type StoredAction = v.InferOutput<typeof action>;

/** The in-memory action: the stored one without its readable path. */
function actionOf(stored: StoredAction): Action {
  const { pathText: _readable, ...a } = stored;
  return a;
}
