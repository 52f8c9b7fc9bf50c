// Table-driven scenarios for the three-way reconcile (base, left, right), in the style of Mutagen's
// reconcile_test.go. Every scenario runs under each of its policies and again mirrored (left and right
// swapped, policy left <-> right), where the result must be the mirror image (Syncthing's conflict_test.go).
import { describe, expect, it } from 'vitest';
import { relPath } from '../../src/core/paths.js';
import { expectOf } from '../../src/core/propagate.js';
import { planTwoWay } from '../../src/core/reconcile-two-way.js';
import { CONFLICT_POLICIES } from '../../src/core/types.js';
import type { Action, BaseRecord, ConflictPolicy, Plan, Problem, ScannedEntry, Side, Snapshot } from '../../src/core/types.js';
import { base, dir, expectedCopyName, file, hashOf, link, NOW_MS, other, record, sec, snapshot, T0, type Tree } from './fixtures/entries.js';
import { blockedViolations, orderViolations, parentViolations } from './fixtures/invariants.js';

type ActionType = Action['type'];
/** [type, path, target side]; for a conflict the target is the loser's side. */
type ExpectedAction = readonly [ActionType, string, Side];

interface ExpectedConflict {
  readonly path: string;
  /** null: skipped (policy skip). */
  readonly winner: Side | null;
}

/** What a meta action must set on its target: the merged fields (those not given are not checked). */
interface ExpectedMeta {
  readonly path: string;
  readonly target: Side;
  readonly mode?: number;
  readonly mtimeNs?: bigint;
}

interface Expected {
  readonly actions: readonly ExpectedAction[];
  readonly metas?: readonly ExpectedMeta[];
  readonly agreed?: readonly string[];
  readonly conflicts?: readonly ExpectedConflict[];
  readonly skipped?: readonly string[];
}

interface Scenario {
  readonly name: string;
  /** A value may be a full BaseRecord (sides recorded with different stats). */
  readonly base?: Readonly<Record<string, ScannedEntry | BaseRecord>>;
  readonly left: Tree;
  readonly right: Tree;
  readonly leftProblems?: readonly string[];
  readonly rightProblems?: readonly string[];
  /** Default: all five. */
  readonly policies?: readonly ConflictPolicy[];
  readonly expect: Expected | ((policy: ConflictPolicy) => Expected);
}

const NON_SKIP: readonly ConflictPolicy[] = ['keep-both', 'newer', 'left', 'right'];

/** The winner of a content conflict under a policy, when `newer` holds the newer mtime. */
function winnerUnder(policy: ConflictPolicy, newer: Side): Side | null {
  if (policy === 'skip') return null;
  if (policy === 'left' || policy === 'right') return policy;
  return newer;
}

/**
 * A content conflict at `path` (both sides changed it differently), `newer` holding the newer mtime;
 * `before`/`after` are the other actions of the plan that come before/after the conflict phase.
 */
function contentConflict(
  path: string,
  newer: Side,
  rest: { before?: readonly ExpectedAction[]; after?: readonly ExpectedAction[]; agreed?: readonly string[] } = {},
): (policy: ConflictPolicy) => Expected {
  return (policy) => {
    const winner = winnerUnder(policy, newer);
    const conflictAction: readonly ExpectedAction[] = winner === null ? [] : [['conflict', path, other(winner)]];
    return {
      actions: [...(rest.before ?? []), ...conflictAction, ...(rest.after ?? [])],
      agreed: rest.agreed ?? [],
      conflicts: [{ path, winner }],
      skipped: winner === null ? [path] : [],
    };
  };
}

/**
 * A file or symlink (on `fileSide`) against a directory at `path`: the directory keeps the name under every
 * policy but skip; `below` are the copies into the directory on the file's side.
 */
function dirWins(path: string, fileSide: Side, below: readonly string[] = []): (policy: ConflictPolicy) => Expected {
  return (policy) =>
    policy === 'skip'
      ? { actions: [], conflicts: [{ path, winner: null }], skipped: [path] }
      : {
          actions: [['conflict', path, fileSide], ['mkdir', path, fileSide], ...below.map((p): ExpectedAction => ['copy', p, fileSide]), ['meta', path, fileSide]],
          conflicts: [{ path, winner: other(fileSide) }],
        };
}

const scenarios: readonly Scenario[] = [
  // --- nothing changed ---------------------------------------------------------------------------------
  {
    name: 'unchanged file on both sides',
    base: { a: file('v1') },
    left: { a: file('v1') },
    right: { a: file('v1') },
    expect: { actions: [], agreed: ['a'] },
  },
  {
    name: 'unchanged tree with a symlink on both sides',
    base: { d: dir(), 'd/a': file('v1'), l: link('d/a') },
    left: { d: dir(), 'd/a': file('v1'), l: link('d/a') },
    right: { d: dir(), 'd/a': file('v1'), l: link('d/a') },
    expect: { actions: [], agreed: ['d', 'd/a', 'l'] },
  },
  // --- created ---------------------------------------------------------------------------------------------
  {
    name: 'file created on one side',
    left: { 'a.txt': file('v1') },
    right: {},
    expect: { actions: [['copy', 'a.txt', 'right']] },
  },
  {
    name: 'directory with a file created on one side',
    left: { n: dir(), 'n/a': file('v1') },
    right: {},
    expect: {
      actions: [
        ['mkdir', 'n', 'right'],
        ['copy', 'n/a', 'right'],
        ['meta', 'n', 'right'],
      ],
    },
  },
  {
    name: 'nested directories created on one side',
    left: { n: dir(), 'n/m': dir(), 'n/m/a': file('v1') },
    right: {},
    expect: {
      actions: [
        ['mkdir', 'n', 'right'],
        ['mkdir', 'n/m', 'right'],
        ['copy', 'n/m/a', 'right'],
        ['meta', 'n/m', 'right'],
        ['meta', 'n', 'right'],
      ],
    },
  },
  {
    name: 'symlink created on one side',
    left: { l: link('somewhere') },
    right: {},
    expect: { actions: [['copy', 'l', 'right']] },
  },
  {
    name: 'same file created on both sides (different mtimes): both take the newer mtime, no conflict',
    left: { a: file('v1') },
    right: { a: file('v1', { mtimeNs: sec(10) }) },
    expect: { actions: [['meta', 'a', 'left']], metas: [{ path: 'a', target: 'left', mode: 0o644, mtimeNs: sec(10) }] },
  },
  {
    name: 'same file created on both sides with different modes: the newer mode wins',
    left: { a: file('v1', { mode: 0o600, mtimeNs: sec(10) }) },
    right: { a: file('v1') },
    expect: { actions: [['meta', 'a', 'right']] },
  },
  {
    name: 'same directory created on both sides',
    left: { d: dir() },
    right: { d: dir({ mtimeNs: sec(10) }) },
    expect: { actions: [], agreed: ['d'] },
  },
  {
    name: 'different files created on both sides',
    left: { 'a.txt': file('v1', { mtimeNs: sec(10) }) },
    right: { 'a.txt': file('v2') },
    expect: contentConflict('a.txt', 'left'),
  },
  {
    name: 'first sync: the union of both trees',
    left: { a: file('v1'), d: dir(), 'd/l': file('v1') },
    right: { b: file('v2'), d: dir(), 'd/r': file('v3') },
    expect: {
      actions: [
        ['copy', 'a', 'right'],
        ['copy', 'b', 'left'],
        ['copy', 'd/l', 'right'],
        ['copy', 'd/r', 'left'],
      ],
      agreed: ['d'],
    },
  },
  // --- modified --------------------------------------------------------------------------------------------
  {
    name: 'file modified on one side',
    base: { a: file('v1') },
    left: { a: file('v2', { mtimeNs: sec(10) }) },
    right: { a: file('v1') },
    expect: { actions: [['copy', 'a', 'right']] },
  },
  {
    name: 'file modified on one side, same size and mtime (only the hash differs)',
    base: { a: file('v1') },
    left: { a: file('v2') },
    right: { a: file('v1') },
    expect: { actions: [['copy', 'a', 'right']] },
  },
  {
    name: 'file modified identically on both sides, different mtimes: both take the newer mtime',
    base: { a: file('v1') },
    left: { a: file('v2', { mtimeNs: sec(10) }) },
    right: { a: file('v2', { mtimeNs: sec(20) }) },
    expect: { actions: [['meta', 'a', 'left']], metas: [{ path: 'a', target: 'left', mode: 0o644, mtimeNs: sec(20) }] },
  },
  {
    name: 'file modified identically on both sides, same mtime: agreed',
    base: { a: file('v1') },
    left: { a: file('v2', { mtimeNs: sec(10) }) },
    right: { a: file('v2', { mtimeNs: sec(10) }) },
    expect: { actions: [], agreed: ['a'] },
  },
  {
    name: 'file modified differently on both sides',
    base: { a: file('v1') },
    left: { a: file('v2', { mtimeNs: sec(20) }) },
    right: { a: file('v3', { mtimeNs: sec(10) }) },
    expect: contentConflict('a', 'left'),
  },
  {
    name: 'file in a directory modified differently on both sides (extension kept)',
    base: { docs: dir(), 'docs/report.md': file('v1') },
    left: { docs: dir(), 'docs/report.md': file('v2', { mtimeNs: sec(10) }) },
    right: { docs: dir(), 'docs/report.md': file('longer v3', { mtimeNs: sec(20) }) },
    expect: contentConflict('docs/report.md', 'right', { agreed: ['docs'] }),
  },
  {
    name: 'conflict next to propagated changes',
    base: { x: file('v1'), y: file('v1'), d: dir() },
    left: { x: file('v2', { mtimeNs: sec(20) }), y: file('v1'), d: dir(), 'd/new': file('v1'), z: file('v3') },
    right: { x: file('v3', { mtimeNs: sec(10) }), d: dir() },
    expect: contentConflict('x', 'left', {
      before: [['delete', 'y', 'left']],
      after: [
        ['copy', 'd/new', 'right'],
        ['copy', 'z', 'right'],
      ],
      agreed: ['d'],
    }),
  },
  // --- metadata only ------------------------------------------------------------------------------------
  {
    name: 'mode-only change on one side',
    base: { a: file('v1') },
    left: { a: file('v1', { mode: 0o755 }) },
    right: { a: file('v1') },
    expect: { actions: [['meta', 'a', 'right']] },
  },
  {
    name: 'mtime-only change on one side',
    base: { a: file('v1') },
    left: { a: file('v1', { mtimeNs: sec(10) }) },
    right: { a: file('v1') },
    expect: { actions: [['meta', 'a', 'right']] },
  },
  {
    name: 'mtime change within the tolerance is no change',
    base: { a: file('v1') },
    left: { a: file('v1', { mtimeNs: T0 + 1_999n }) },
    right: { a: file('v1') },
    expect: { actions: [], agreed: ['a'] },
  },
  {
    name: 'mode changed differently on both sides, same content: the newer side’s mode wins',
    base: { a: file('v1') },
    left: { a: file('v1', { mode: 0o600 }) },
    right: { a: file('v1', { mode: 0o755, mtimeNs: sec(10) }) },
    expect: { actions: [['meta', 'a', 'left']] },
  },
  {
    name: 'both sides touched to different mtimes: both take the newer',
    base: { a: file('v1') },
    left: { a: file('v1', { mtimeNs: sec(20) }) },
    right: { a: file('v1', { mtimeNs: sec(10) }) },
    expect: { actions: [['meta', 'a', 'right']], metas: [{ path: 'a', target: 'right', mode: 0o644, mtimeNs: sec(20) }] },
  },
  {
    name: 'both sides touched to an older mtime: both take the newer of the two, not the base’s',
    base: { a: file('v1', { mtimeNs: sec(100) }) },
    left: { a: file('v1', { mtimeNs: sec(10) }) },
    right: { a: file('v1', { mtimeNs: sec(20) }) },
    expect: { actions: [['meta', 'a', 'left']], metas: [{ path: 'a', target: 'left', mode: 0o644, mtimeNs: sec(20) }] },
  },
  {
    name: 'a touch on one side, a chmod on the other: both changes kept, on both sides',
    base: { a: file('v1') },
    left: { a: file('v1', { mtimeNs: sec(10) }) },
    right: { a: file('v1', { mode: 0o755, ctimeNs: sec(30) }) },
    expect: {
      actions: [
        ['meta', 'a', 'left'],
        ['meta', 'a', 'right'],
      ],
      metas: [
        { path: 'a', target: 'left', mode: 0o755, mtimeNs: sec(10) },
        { path: 'a', target: 'right', mode: 0o755, mtimeNs: sec(10) },
      ],
    },
  },
  {
    name: 'chmod on both sides to different modes, equal mtimes: the larger mode, on both sides',
    base: { a: file('v1') },
    left: { a: file('v1', { mode: 0o600, ctimeNs: sec(30) }) },
    right: { a: file('v1', { mode: 0o755, ctimeNs: sec(30) }) },
    expect: { actions: [['meta', 'a', 'left']], metas: [{ path: 'a', target: 'left', mode: 0o755, mtimeNs: T0 }] },
  },
  {
    name: 'chmod on both sides and a touch on one: the touched (newer) side’s mode, and its mtime',
    base: { a: file('v1') },
    left: { a: file('v1', { mode: 0o600, mtimeNs: sec(10) }) },
    right: { a: file('v1', { mode: 0o755, ctimeNs: sec(30) }) },
    expect: { actions: [['meta', 'a', 'right']], metas: [{ path: 'a', target: 'right', mode: 0o600, mtimeNs: sec(10) }] },
  },
  {
    // the last run agreed on an (older) mtime, set it on the left, and failed to set it on the right
    name: 'a side whose record missed the last meta fix (failed run): the base’s agreed mtime wins, even if older',
    base: { a: record(file('v1'), file('v1'), file('v1', { mtimeNs: sec(20) })) },
    left: { a: file('v1') },
    right: { a: file('v1', { mtimeNs: sec(20) }) },
    expect: { actions: [['meta', 'a', 'right']], metas: [{ path: 'a', target: 'right', mtimeNs: T0 }] },
  },
  {
    name: 'directory mode changed on each side to different modes: the newer side’s mode (directory mtimes are not merged)',
    base: { d: dir() },
    left: { d: dir({ mode: 0o700, mtimeNs: sec(10) }) },
    right: { d: dir({ mode: 0o750 }) },
    expect: { actions: [['meta', 'd', 'right']], metas: [{ path: 'd', target: 'right', mode: 0o700, mtimeNs: T0 }] },
  },
  {
    name: 'directory mode changed on each side, equal mtimes: the larger mode',
    base: { d: dir() },
    left: { d: dir({ mode: 0o700, ctimeNs: sec(30) }) },
    right: { d: dir({ mode: 0o750, ctimeNs: sec(30) }) },
    expect: { actions: [['meta', 'd', 'left']], metas: [{ path: 'd', target: 'left', mode: 0o750, mtimeNs: T0 }] },
  },
  {
    name: 'directory mode changed on one side',
    base: { d: dir() },
    left: { d: dir({ mode: 0o700 }) },
    right: { d: dir() },
    expect: { actions: [['meta', 'd', 'right']] },
  },
  {
    name: 'directory mtime changed on one side is no change',
    base: { d: dir() },
    left: { d: dir({ mtimeNs: sec(10) }) },
    right: { d: dir() },
    expect: { actions: [], agreed: ['d'] },
  },
  // --- deleted -------------------------------------------------------------------------------------------
  {
    name: 'file deleted on one side',
    base: { a: file('v1') },
    left: {},
    right: { a: file('v1') },
    expect: { actions: [['delete', 'a', 'right']] },
  },
  {
    name: 'symlink deleted on one side',
    base: { l: link('t') },
    left: {},
    right: { l: link('t') },
    expect: { actions: [['delete', 'l', 'right']] },
  },
  {
    name: 'file deleted on both sides',
    base: { a: file('v1') },
    left: {},
    right: {},
    expect: { actions: [] },
  },
  {
    name: 'modified on one side, deleted on the other: the modification is restored',
    base: { a: file('v1') },
    left: {},
    right: { a: file('v2', { mtimeNs: sec(10) }) },
    expect: { actions: [['copy', 'a', 'left']] },
  },
  {
    name: 'mode changed on one side, deleted on the other: the file is restored',
    base: { a: file('v1') },
    left: {},
    right: { a: file('v1', { mode: 0o755 }) },
    expect: { actions: [['copy', 'a', 'left']] },
  },
  {
    name: 'directory tree deleted on one side',
    base: { d: dir(), 'd/a': file('v1'), 'd/e': dir(), 'd/e/b': file('v2') },
    left: {},
    right: { d: dir(), 'd/a': file('v1'), 'd/e': dir(), 'd/e/b': file('v2') },
    expect: {
      actions: [
        ['delete', 'd/e/b', 'right'],
        ['delete', 'd/a', 'right'],
        ['delete', 'd/e', 'right'],
        ['delete', 'd', 'right'],
      ],
    },
  },
  {
    name: 'directory deleted on one side, a file inside modified on the other',
    base: { d: dir(), 'd/a': file('v1'), 'd/b': file('v1') },
    left: {},
    right: { d: dir(), 'd/a': file('v2', { mtimeNs: sec(10) }), 'd/b': file('v1') },
    expect: {
      actions: [
        ['delete', 'd/b', 'right'],
        ['mkdir', 'd', 'left'],
        ['copy', 'd/a', 'left'],
        ['meta', 'd', 'left'],
      ],
    },
  },
  {
    name: 'directory deleted on one side, a new file created inside on the other',
    base: { d: dir(), 'd/a': file('v1') },
    left: {},
    right: { d: dir(), 'd/a': file('v1'), 'd/n': file('v2') },
    expect: {
      actions: [
        ['delete', 'd/a', 'right'],
        ['mkdir', 'd', 'left'],
        ['copy', 'd/n', 'left'],
        ['meta', 'd', 'left'],
      ],
    },
  },
  {
    name: 'directory deleted on one side, a deep file modified on the other',
    base: { d: dir(), 'd/e': dir(), 'd/e/a': file('v1'), 'd/f': file('v1') },
    left: {},
    right: { d: dir(), 'd/e': dir(), 'd/e/a': file('v2', { mtimeNs: sec(10) }), 'd/f': file('v1') },
    expect: {
      actions: [
        ['delete', 'd/f', 'right'],
        ['mkdir', 'd', 'left'],
        ['mkdir', 'd/e', 'left'],
        ['copy', 'd/e/a', 'left'],
        ['meta', 'd/e', 'left'],
        ['meta', 'd', 'left'],
      ],
    },
  },
  // --- kind changes ------------------------------------------------------------------------------------
  {
    name: 'file replaced by a directory on one side',
    base: { p: file('v1') },
    left: { p: dir(), 'p/c': file('v2') },
    right: { p: file('v1') },
    expect: {
      actions: [
        ['delete', 'p', 'right'],
        ['mkdir', 'p', 'right'],
        ['copy', 'p/c', 'right'],
        ['meta', 'p', 'right'],
      ],
    },
  },
  {
    name: 'directory replaced by a file on one side',
    base: { p: dir(), 'p/c': file('v1') },
    left: { p: file('v2') },
    right: { p: dir(), 'p/c': file('v1') },
    expect: {
      actions: [
        ['delete', 'p/c', 'right'],
        ['delete', 'p', 'right'],
        ['copy', 'p', 'right'],
      ],
    },
  },
  {
    name: 'file replaced by a symlink on one side',
    base: { a: file('v1') },
    left: { a: link('t') },
    right: { a: file('v1') },
    expect: {
      actions: [
        ['delete', 'a', 'right'],
        ['copy', 'a', 'right'],
      ],
    },
  },
  {
    name: 'symlink replaced by a file on one side',
    base: { a: link('t') },
    left: { a: file('v1') },
    right: { a: link('t') },
    expect: {
      actions: [
        ['delete', 'a', 'right'],
        ['copy', 'a', 'right'],
      ],
    },
  },
  {
    name: 'symlink target changed on one side',
    base: { l: link('t1') },
    left: { l: link('t2') },
    right: { l: link('t1') },
    expect: { actions: [['copy', 'l', 'right']] },
  },
  {
    name: 'symlink retargeted identically on both sides: both take the newer link mtime',
    base: { l: link('t1') },
    left: { l: link('t2', { mtimeNs: sec(5) }) },
    right: { l: link('t2', { mtimeNs: sec(10) }) },
    expect: { actions: [['meta', 'l', 'left']], metas: [{ path: 'l', target: 'left', mtimeNs: sec(10) }] },
  },
  {
    name: 'symlink touched on one side (lutimes): its mtime reaches the other side',
    base: { l: link('t1') },
    left: { l: link('t1') },
    right: { l: link('t1', { mtimeNs: sec(10) }) },
    expect: { actions: [['meta', 'l', 'left']], metas: [{ path: 'l', target: 'left', mtimeNs: sec(10) }] },
  },
  {
    name: 'symlink retargeted differently on both sides',
    base: { l: link('t1') },
    left: { l: link('t2', { mtimeNs: sec(20) }) },
    right: { l: link('t3', { mtimeNs: sec(10) }) },
    expect: contentConflict('l', 'left'),
  },
  {
    name: 'file turned into a symlink on one side, modified on the other',
    base: { a: file('v1') },
    left: { a: link('t', { mtimeNs: sec(20) }) },
    right: { a: file('v2', { mtimeNs: sec(10) }) },
    expect: contentConflict('a', 'left'),
  },
  // --- directory vs file ------------------------------------------------------------------------------
  {
    name: 'file vs directory with content on first sync: the directory wins',
    policies: NON_SKIP,
    left: { d: file('v1', { mtimeNs: sec(20) }) },
    right: { d: dir(), 'd/x': file('v2') },
    expect: dirWins('d', 'left', ['d/x']),
  },
  {
    name: 'newer file vs empty directory on first sync: the directory wins',
    left: { d: file('v1', { mtimeNs: sec(20) }) },
    right: { d: dir() },
    expect: dirWins('d', 'left'),
  },
  {
    name: 'symlink vs directory on first sync: the directory wins',
    left: { 'd.x': link('elsewhere', { mtimeNs: sec(20) }) },
    right: { 'd.x': dir() },
    expect: dirWins('d.x', 'left'),
  },
  {
    name: 'directory replaced by a file on one side while the other side added a file inside it',
    policies: NON_SKIP,
    base: { d: dir(), 'd/a': file('v1') },
    left: { d: file('v2', { mtimeNs: sec(20) }) },
    right: { d: dir(), 'd/a': file('v1'), 'd/n': file('v3') },
    expect: {
      actions: [
        ['delete', 'd/a', 'right'],
        ['conflict', 'd', 'left'],
        ['mkdir', 'd', 'left'],
        ['copy', 'd/n', 'left'],
        ['meta', 'd', 'left'],
      ],
      conflicts: [{ path: 'd', winner: 'right' }],
    },
  },
  // --- blocked paths ---------------------------------------------------------------------------------
  {
    name: 'blocked: an unreadable file on one side is not deleted on the other',
    base: { a: file('v1') },
    left: {},
    leftProblems: ['a'],
    right: { a: file('v1') },
    expect: { actions: [], skipped: ['a'] },
  },
  {
    name: 'blocked: a vanished path on one side is not overwritten from the other',
    base: { a: file('v1') },
    left: {},
    leftProblems: ['a'],
    right: { a: file('v2', { mtimeNs: sec(10) }) },
    expect: { actions: [], skipped: ['a'] },
  },
  {
    name: 'blocked: a new file is not copied over a path the other side could not read',
    left: {},
    leftProblems: ['x'],
    right: { x: file('v1') },
    expect: { actions: [], skipped: ['x'] },
  },
  {
    name: 'blocked: an unlistable directory keeps everything below it',
    base: { d: dir(), 'd/a': file('v1'), 'd/b': file('v1') },
    left: { d: dir(), 'd/a': file('v2', { mtimeNs: sec(10) }), 'd/b': file('v1') },
    right: { d: dir() },
    rightProblems: ['d'],
    expect: { actions: [], skipped: ['d', 'd/a', 'd/b'] },
  },
  {
    name: 'blocked: a problem below a directory does not stop its siblings',
    base: { d: dir(), 'd/a': file('v1'), 'd/b': file('v1') },
    left: { d: dir(), 'd/b': file('v2', { mtimeNs: sec(10) }) },
    leftProblems: ['d/a'],
    right: { d: dir(), 'd/a': file('v1'), 'd/b': file('v1') },
    expect: { actions: [['copy', 'd/b', 'right']], agreed: ['d'], skipped: ['d/a'] },
  },
  {
    name: 'blocked: a directory deleted on one side stays where a blocked path remains below it',
    base: { d: dir(), 'd/a': file('v1'), 'd/b': file('v1') },
    left: {},
    right: { d: dir(), 'd/a': file('v1'), 'd/b': file('v1') },
    rightProblems: ['d/a'],
    expect: {
      actions: [
        ['delete', 'd/b', 'right'],
        ['mkdir', 'd', 'left'],
        ['meta', 'd', 'left'],
      ],
      skipped: ['d/a'],
    },
  },
];

// --- mirroring ------------------------------------------------------------------------------------------

function mirrorPolicy(p: ConflictPolicy): ConflictPolicy {
  return p === 'left' ? 'right' : p === 'right' ? 'left' : p;
}

/** Two actions of one type on one path (a merge fixing both sides) come left first, whichever way the table is mirrored. */
function leftFirst(actions: readonly ExpectedAction[]): ExpectedAction[] {
  const out = [...actions];
  for (let i = 1; i < out.length; i++) {
    const [a, b] = [out[i - 1] as ExpectedAction, out[i] as ExpectedAction];
    if (a[0] === b[0] && a[1] === b[1] && a[2] === 'right' && b[2] === 'left') [out[i - 1], out[i]] = [b, a];
  }
  return out;
}

function mirrorExpected(e: Expected): Expected {
  return {
    actions: leftFirst(e.actions.map(([type, path, target]): ExpectedAction => [type, path, other(target)])),
    metas: (e.metas ?? []).map((m) => ({ ...m, target: other(m.target) })),
    agreed: e.agreed ?? [],
    conflicts: (e.conflicts ?? []).map((c) => ({ path: c.path, winner: c.winner === null ? null : other(c.winner) })),
    skipped: e.skipped ?? [],
  };
}

interface Row {
  readonly title: string;
  readonly scenario: Scenario;
  readonly policy: ConflictPolicy;
  readonly mirrored: boolean;
}

const rows: Row[] = scenarios.flatMap((scenario) =>
  (scenario.policies ?? CONFLICT_POLICIES).flatMap((policy): Row[] => [
    { title: `${scenario.name} [${policy}]`, scenario, policy, mirrored: false },
    { title: `${scenario.name} [${mirrorPolicy(policy)}] (mirrored)`, scenario, policy: mirrorPolicy(policy), mirrored: true },
  ]),
);

interface Inputs {
  readonly left: Snapshot;
  readonly right: Snapshot;
  readonly problems: readonly Problem[];
}

function inputsOf(s: Scenario, mirrored: boolean): Inputs {
  const [lTree, rTree, lProb, rProb] = mirrored ? [s.right, s.left, s.rightProblems ?? [], s.leftProblems ?? []] : [s.left, s.right, s.leftProblems ?? [], s.rightProblems ?? []];
  const left = snapshot('left', lTree, lProb);
  const right = snapshot('right', rTree, rProb);
  return { left, right, problems: [...left.problems, ...right.problems] };
}

const sorted = (xs: readonly string[]): string[] => [...xs].sort();

/** Checks what each action carries: sources, expectations, conflict units. */
function checkActionPayloads(plan: Plan, snaps: Readonly<Record<Side, Snapshot>>): void {
  for (const a of plan.actions) {
    const at = (side: Side): ScannedEntry | undefined => snaps[side].entries.get(a.path);
    const mine = at(a.target);
    const theirs = at(other(a.target));
    if (a.expect !== null) {
      expect(mine, `${a.type} ${a.path}: expect given but the target holds nothing`).toBeDefined();
      if (mine !== undefined) expect(a.expect).toEqual(expectOf(mine));
    }
    switch (a.type) {
      case 'delete':
        expect(a.expect, `delete ${a.path} must expect what it removes`).not.toBeNull();
        break;
      case 'copy':
      case 'mkdir':
        expect(a.source, `${a.type} ${a.path} copies the other side's entry`).toEqual(theirs);
        break;
      case 'meta':
        // the other side as scanned; its entry may hold the merged metadata rather than that side's own
        expect(a.source.stat, `meta ${a.path} carries the other side's stat`).toEqual(theirs?.stat);
        expect(a.source.entry.kind).toBe(theirs?.entry.kind);
        if (a.source.entry.kind === 'file' && theirs?.entry.kind === 'file') expect([a.source.entry.size, a.source.entry.hash]).toEqual([theirs.entry.size, theirs.entry.hash]);
        if (a.source.entry.kind === 'symlink' && theirs?.entry.kind === 'symlink') expect(a.source.entry.target).toBe(theirs.entry.target);
        break;
      case 'conflict':
        expect(a.winner).toEqual(theirs);
        expect(a.loser).toEqual(mine);
        expect(a.copyName).toBe(a.conflict.copyName);
        expect(a.copyName).toContain('.tsync-conflict-');
        expect(a.copyName).toContain(`-${a.target}`);
        expect(a.conflict.winner).toBe(other(a.target));
        break;
    }
  }
  for (const c of plan.conflicts) {
    const l = snaps.left.entries.get(c.path)?.entry;
    const r = snaps.right.entries.get(c.path)?.entry;
    expect(c.left.kind).toBe(l?.kind);
    expect(c.right.kind).toBe(r?.kind);
    expect(c.left.mtimeNs).toBe(l?.mtimeNs);
    expect(c.right.mtimeNs).toBe(r?.mtimeNs);
    expect(c.left.hash).toBe(l?.kind === 'file' ? l.hash : null);
    expect(c.right.hash).toBe(r?.kind === 'file' ? r.hash : null);
  }
}

describe('planTwoWay scenarios', () => {
  it('has at least 60 table cases', () => {
    expect(rows.length).toBeGreaterThanOrEqual(60);
  });

  it.each(rows.map((r): [string, Row] => [r.title, r]))('%s', (_title, { scenario, policy, mirrored }) => {
    const { left, right, problems } = inputsOf(scenario, mirrored);
    const raw = typeof scenario.expect === 'function' ? scenario.expect(mirrored ? mirrorPolicy(policy) : policy) : scenario.expect;
    const want = mirrored ? mirrorExpected(raw) : raw;

    // mirrored, each side's own record in the base swaps sides too
    const b = new Map([...base(scenario.base ?? {})].map(([k, r]) => [k, mirrored ? { ...r, left: r.right, right: r.left } : r]));
    const plan = planTwoWay({ base: b, left, right, policy, nowMs: NOW_MS });

    expect(plan.actions.map((a) => [a.type, a.path, a.target])).toEqual(want.actions.map((a) => [...a]));
    expect(sorted(plan.agreed)).toEqual(sorted(want.agreed ?? []));
    for (const m of want.metas ?? []) {
      const a = plan.actions.find((x) => x.type === 'meta' && x.path === m.path && x.target === m.target);
      const e = a?.type === 'meta' ? a.source.entry : undefined;
      expect(e, `a meta action on ${m.target} for ${m.path}`).toBeDefined();
      if (m.mode !== undefined) expect(e?.kind !== 'symlink' ? e?.mode : undefined, `mode set on ${m.target}`).toBe(m.mode);
      if (m.mtimeNs !== undefined) expect(e?.mtimeNs, `mtime set on ${m.target}`).toBe(m.mtimeNs);
    }
    expect(sorted(plan.skipped)).toEqual(sorted(want.skipped ?? []));
    expect(plan.conflicts.map((c) => ({ path: c.path, winner: c.winner, resolution: c.resolution, policy: c.policy, copyName: c.copyName }))).toEqual(
      (want.conflicts ?? []).map((c) => ({
        path: c.path,
        winner: c.winner,
        resolution: c.winner === null ? 'skipped' : 'kept-both',
        policy,
        copyName: c.winner === null ? null : expectedCopyName(c.path, other(c.winner)),
      })),
    );

    const snaps = { left, right };
    checkActionPayloads(plan, snaps);
    expect(orderViolations(plan)).toEqual([]);
    expect(parentViolations(plan, snaps)).toEqual([]);
    expect(blockedViolations(plan, problems)).toEqual([]);
  });
});

// --- the skip policy where a directory meets a file --------------------------------------------------------

describe('planTwoWay: skip policy, file vs directory with content', () => {
  const cases: readonly { name: string; base: Tree; left: Tree; right: Tree }[] = [
    {
      name: 'first sync: file vs directory with a file in it',
      base: {},
      left: { d: file('v1') },
      right: { d: dir(), 'd/x': file('v2') },
    },
    {
      name: 'directory replaced by a file while the other side added a file inside it',
      base: { d: dir(), 'd/a': file('v1') },
      left: { d: file('v2') },
      right: { d: dir(), 'd/a': file('v1'), 'd/n': file('v3') },
    },
  ];
  const both = cases.flatMap((c) => [
    { title: `${c.name}: the conflict is skipped and nothing is written below the file`, ...c, mirrored: false },
    { title: `${c.name} (mirrored): the conflict is skipped and nothing is written below the file`, ...c, mirrored: true },
  ]);

  it.each(both.map((c): [string, (typeof both)[number]] => [c.title, c]))('%s', (_title, { base: b, left, right, mirrored }) => {
    const l = snapshot('left', mirrored ? right : left);
    const r = snapshot('right', mirrored ? left : right);
    const fileSide: Side = mirrored ? 'right' : 'left';
    const plan = planTwoWay({ base: base(b), left: l, right: r, policy: 'skip', nowMs: NOW_MS });
    expect(plan.conflicts.map((c) => [c.path, c.resolution])).toEqual([['d', 'skipped']]);
    expect(plan.skipped).toContain(relPath('d'));
    // "skip: nothing changes at that path; both stay as they are" — and a file cannot hold children.
    expect(plan.actions.filter((a) => a.target === fileSide).map((a) => `${a.type} ${a.path}`)).toEqual([]);
    expect(parentViolations(plan, { left: l, right: r })).toEqual([]);
  });
});

// --- deterministic winner on equal mtimes -------------------------------------------------------------------

describe('planTwoWay: equal mtimes pick the same winner whichever side is left', () => {
  const ties: readonly { name: string; base: Tree; a: ScannedEntry; b: ScannedEntry }[] = [
    { name: 'files modified differently', base: { p: file('v1') }, a: file('v2', { mtimeNs: sec(5) }), b: file('v3', { mtimeNs: sec(5) }) },
    { name: 'files created differently', base: {}, a: file('alpha'), b: file('beta') },
    { name: 'files of different sizes', base: {}, a: file('short'), b: file('much longer') },
    { name: 'file vs symlink', base: {}, a: file('v1'), b: link('v1') },
    { name: 'symlinks retargeted differently', base: { p: link('t0') }, a: link('t1'), b: link('t2') },
  ];
  const rowsTie = ties.flatMap((t) => (['keep-both', 'newer'] as const).map((policy) => ({ title: `${t.name} [${policy}]`, policy, ...t })));

  it.each(rowsTie.map((t): [string, (typeof rowsTie)[number]] => [t.title, t]))('%s', (_title, { base: b, a, b: bEntry, policy }) => {
    const winning = (l: ScannedEntry, r: ScannedEntry): ScannedEntry => {
      const plan = planTwoWay({ base: base(b), left: snapshot('left', { p: l }), right: snapshot('right', { p: r }), policy, nowMs: NOW_MS });
      const c = plan.actions.find((x) => x.type === 'conflict');
      if (c === undefined || c.type !== 'conflict') throw new Error('no conflict planned');
      return c.winner;
    };
    const forward = winning(a, bEntry);
    const backward = winning(bEntry, a);
    expect(backward).toEqual(forward);
    expect(winning(a, bEntry)).toEqual(forward); // and the same on every run
  });

  it('files of different sizes: the larger wins, whichever of them was hashed (the base decides that, not the versions)', () => {
    const winningSize = (l: ScannedEntry, r: ScannedEntry): number => {
      const plan = planTwoWay({ base: base({}), left: snapshot('left', { p: l }), right: snapshot('right', { p: r }), policy: 'keep-both', nowMs: NOW_MS });
      const c = plan.actions.find((x) => x.type === 'conflict');
      if (c === undefined || c.type !== 'conflict' || c.winner.entry.kind !== 'file') throw new Error('no file conflict planned');
      return c.winner.entry.size;
    };
    const long = 'much longer'.length;
    // 'short' has a hash (say the base held a file of its size) and 'much longer' was never read, and the other way round
    expect(winningSize(file('short'), file('much longer', { hash: null }))).toBe(long);
    expect(winningSize(file('short', { hash: null }), file('much longer'))).toBe(long);
    expect(winningSize(file('much longer', { hash: null }), file('short'))).toBe(long);
    expect(winningSize(file('much longer'), file('short', { hash: null }))).toBe(long);
  });

  it('same content with different modes and equal mtimes: both directions settle on the same mode', () => {
    const fixedMode = (l: ScannedEntry, r: ScannedEntry): number | undefined => {
      const plan = planTwoWay({ base: base({ a: file('v1') }), left: snapshot('left', { a: l }), right: snapshot('right', { a: r }), policy: 'keep-both', nowMs: NOW_MS });
      const meta = plan.actions.find((x) => x.type === 'meta');
      const src = meta?.source.entry;
      return src?.kind === 'file' ? src.mode : undefined;
    };
    const x = file('v1', { mode: 0o600 });
    const y = file('v1', { mode: 0o755 });
    const forward = fixedMode(x, y);
    expect(forward).toBeDefined();
    expect(fixedMode(y, x)).toBe(forward);
  });
});

// --- conflict copy names ---------------------------------------------------------------------------------

describe('planTwoWay: conflict copy names', () => {
  const conflictBase = { 'a.txt': file('v1') };
  const winnerLeft = file('v2', { mtimeNs: sec(20) });
  const loserRight = file('v3', { mtimeNs: sec(10) });
  const taken1 = expectedCopyName('a.txt', 'right');
  const taken2 = expectedCopyName('a.txt', 'right', 2);

  const cases: readonly { name: string; leftExtra: Tree; rightExtra: Tree; want: string }[] = [
    { name: 'free name', leftExtra: {}, rightExtra: {}, want: 'a.tsync-conflict-20240102-030405-right.txt' },
    { name: 'name taken on the left only', leftExtra: { [taken1]: file('old') }, rightExtra: {}, want: expectedCopyName('a.txt', 'right', 2) },
    { name: 'name taken on the right only', leftExtra: {}, rightExtra: { [taken1]: file('old') }, want: expectedCopyName('a.txt', 'right', 2) },
    {
      name: 'name and -2 taken on different sides',
      leftExtra: { [taken1]: file('old') },
      rightExtra: { [taken2]: file('older') },
      want: expectedCopyName('a.txt', 'right', 3),
    },
  ];

  it.each(cases)('$name', ({ leftExtra, rightExtra, want }) => {
    const plan = planTwoWay({
      base: base(conflictBase),
      left: snapshot('left', { 'a.txt': winnerLeft, ...leftExtra }),
      right: snapshot('right', { 'a.txt': loserRight, ...rightExtra }),
      policy: 'keep-both',
      nowMs: NOW_MS,
    });
    expect(plan.conflicts.map((c) => c.copyName)).toEqual([want]);
    expect(want).toMatch(/^a\.tsync-conflict-\d{8}-\d{6}-right(-\d+)?\.txt$/);
  });

  it('uses UTC for the stamp', () => {
    const nowMs = Date.UTC(2023, 11, 31, 23, 59, 59);
    const plan = planTwoWay({
      base: base(conflictBase),
      left: snapshot('left', { 'a.txt': winnerLeft }),
      right: snapshot('right', { 'a.txt': loserRight }),
      policy: 'newer',
      nowMs,
    });
    expect(plan.conflicts[0]?.copyName).toBe('a.tsync-conflict-20231231-235959-right.txt');
  });

  it('gives two conflicts in one plan distinct names', () => {
    const plan = planTwoWay({
      base: base({ 'a.txt': file('v1'), 'b.txt': file('v1') }),
      left: snapshot('left', { 'a.txt': winnerLeft, 'b.txt': winnerLeft }),
      right: snapshot('right', { 'a.txt': loserRight, 'b.txt': loserRight }),
      policy: 'keep-both',
      nowMs: NOW_MS,
    });
    const names = plan.conflicts.map((c) => c.copyName);
    expect(names).toEqual([expectedCopyName('a.txt', 'right'), expectedCopyName('b.txt', 'right')]);
  });
});

describe('fixtures', () => {
  it('gives different labels of equal length equal sizes and different hashes', () => {
    expect(file('v1').entry.size).toBe(file('v2').entry.size);
    expect(file('v1').entry.hash).not.toBe(file('v2').entry.hash);
    expect(file('v1').entry.hash).toBe(hashOf('v1'));
    expect(file('v1').entry.hash).toMatch(/^[0-9a-f]{16}$/);
  });
});
