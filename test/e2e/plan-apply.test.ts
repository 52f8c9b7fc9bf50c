// `tsync plan -o FILE` writes a plan with preconditions; `tsync apply FILE` carries it out and refuses,
// action by action, what changed since.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { makeTempDir, removeTempDir, runCli, sandbox, type Sandbox } from '../helpers/cli.js';
import { compareTrees, snapshotTree } from '../helpers/tree.js';

describe('plan and apply', () => {
  it('applies what still holds, refuses what changed since the plan (exit 1), and the next sync settles it', () => {
    const sb = sandbox();
    for (let i = 0; i < 6; i++) writeFileSync(join(sb.src, `f${i}.txt`), `v1 ${i}\n`);
    expect(sb.sync().code).toBe(0);
    writeFileSync(join(sb.src, 'f0.txt'), 'v2 of f0\n');
    writeFileSync(join(sb.src, 'f1.txt'), 'v2 of f1\n');
    rmSync(join(sb.src, 'f2.txt'));
    writeFileSync(join(sb.src, 'new.txt'), 'new\n');
    const planFile = join(sb.dir, 'plan.json');
    const plan = runCli(['plan', '--one-way', '--state-dir', sb.state, '-o', planFile, sb.src, sb.dst]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('~ f0.txt');
    const doc = JSON.parse(readFileSync(planFile, 'utf8')) as { format: string; actions: { type: string; pathText: string; expect: unknown }[] };
    expect(doc.format).toBe('tsync-plan/1');
    expect(doc.actions.find((a) => a.pathText === 'f0.txt')?.expect).toMatchObject({ kind: 'file' });

    writeFileSync(join(sb.dst, 'f1.txt'), 'edited in the mirror after the plan\n'); // its precondition breaks
    const apply = runCli(['apply', '--state-dir', sb.state, planFile]);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toMatch(/refused: f1\.txt changed since the scan/);
    expect(readFileSync(join(sb.dst, 'f0.txt'), 'utf8')).toBe('v2 of f0\n');
    expect(readFileSync(join(sb.dst, 'new.txt'), 'utf8')).toBe('new\n');
    expect(readFileSync(join(sb.dst, 'f1.txt'), 'utf8')).toBe('edited in the mirror after the plan\n');
    expect(sb.sync().code).toBe(0);
    expect(readFileSync(join(sb.dst, 'f1.txt'), 'utf8')).toBe('v2 of f1\n');
  });

  it('a two-way plan with a conflict, a delete, a mkdir and copies is read back as written and applied', () => {
    const sb = sandbox();
    const planFile = twoWayPlan(sb);
    const doc = readPlan(planFile);
    expect([...new Set(doc.actions.map((a) => a.type))]).toEqual(expect.arrayContaining(['conflict', 'delete', 'mkdir', 'copy']));
    const r = runCli(['apply', '--state-dir', sb.state, planFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(sb.dst, 'new', 'n.txt'), 'utf8')).toBe('n\n');
    expect(sameContent(sb.src, sb.dst, 'both.txt')).toBe(true);
    // keep-both: the losing edit is kept beside it, under a conflict name, on both sides
    const copies = readdirSync(sb.dst).filter((n) => n.startsWith('both') && n !== 'both.txt');
    expect(copies).toHaveLength(1);
    const kept = [readFileSync(join(sb.dst, 'both.txt'), 'utf8'), readFileSync(join(sb.dst, copies[0] ?? ''), 'utf8')].sort();
    expect(kept).toEqual(['left edit\n', 'right edit, longer\n']);
  });

  type Edit = (doc: PlanDoc) => string;
  // Each edit breaks one thing and returns the line's key path and its words; every line is exact.
  it.each<[string, Edit]>([
    [
      'an unknown format',
      (d) => {
        d.format = 'tsync-plan/2';
        return 'format: expected "tsync-plan/1", found "tsync-plan/2"';
      },
    ],
    [
      'a bad mode',
      (d) => {
        d.mode = 'three-way';
        return 'mode: expected one of one-way|two-way, found "three-way"';
      },
    ],
    [
      'a missing policy',
      (d) => {
        delete d.policy;
        return 'policy: missing';
      },
    ],
    [
      'a root that is not absolute',
      (d) => {
        d.roots.left = b64('relative/dir');
        return `roots.left: expected an absolute path in base64, found "${b64('relative/dir')}"`;
      },
    ],
    [
      'actions that are not a list',
      (d) => {
        d.actions = {} as never;
        return 'actions: expected a list, found an object';
      },
    ],
    [
      'a wrong type (size as text)',
      (d) => {
        const [i, a] = at(d, 'copy');
        entryOf(a).size = '2';
        return `actions[${i}].source.entry.size: expected a number, found "2"`;
      },
    ],
    [
      'an unknown key in an action',
      (d) => {
        const [i, a] = at(d, 'delete');
        a.force = true;
        return `actions[${i}].force: expected a known key (type|path|pathText|target|expect), found "force"`;
      },
    ],
    [
      'a bad target',
      (d) => {
        const [i, a] = at(d, 'delete');
        a.target = 'middle';
        return `actions[${i}].target: expected one of left|right, found "middle"`;
      },
    ],
    [
      'an unknown action type',
      (d) => {
        const [i, a] = at(d, 'delete');
        a.type = 'move';
        return `actions[${i}].type: expected one of delete|copy|meta|mkdir|link|conflict, found "move"`;
      },
    ],
    [
      'a missing expect',
      (d) => {
        const [i, a] = at(d, 'delete');
        delete a.expect;
        return `actions[${i}].expect: missing`;
      },
    ],
    [
      'a negative inode in an expect',
      (d) => {
        const [i, a] = at(d, 'delete');
        (a.expect as Record<string, unknown>).ino = '-5';
        return `actions[${i}].expect.ino: expected a whole number of 0 or more as a decimal string, found "-5"`;
      },
    ],
    [
      'a path that climbs out of the root',
      (d) => {
        const [i, a] = at(d, 'delete');
        a.path = b64('../outside');
        return `actions[${i}].path: expected a relative path in base64 (no empty, "." or ".." parts), found "${b64('../outside')}"`;
      },
    ],
    [
      'a mkdir of a file',
      (d) => {
        const [i, a] = at(d, 'mkdir');
        entryOf(a).kind = 'file';
        return `actions[${i}].source.entry.kind: expected "dir", found "file"`;
      },
    ],
    [
      'a conflict whose record says skipped',
      (d) => {
        const [i, a] = at(d, 'conflict');
        conflictOf(a).resolution = 'skipped';
        return `actions[${i}].conflict.resolution: expected kept-both with a copyName, loser-trashed without, found "skipped"`;
      },
    ],
    [
      'a conflict won by the side it writes',
      (d) => {
        const [i, a] = at(d, 'conflict');
        conflictOf(a).winner = a.target;
        return `actions[${i}].conflict.winner: expected the side the action does not write, found "${a.target}"`;
      },
    ],
  ])('%s: one line naming the file and key, exit 2, nothing applied', (_name, edit) => {
    const sb = sandbox();
    const planFile = twoWayPlan(sb);
    const doc = readPlan(planFile);
    const where = edit(doc);
    const edited = join(sb.dir, 'edited.json');
    writeFileSync(edited, JSON.stringify(doc));
    const before = snapshotTree(sb.dir);
    const r = runCli(['apply', '--state-dir', sb.state, edited]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`tsync: error: ${edited}: ${where}\n`);
    expect(compareTrees(before, snapshotTree(sb.dir), { identity: true })).toEqual([]);
  });

  it('a file that is not JSON is a one-line error, exit 2', () => {
    const sb = sandbox();
    const bogus = join(sb.dir, 'bogus.json');
    writeFileSync(bogus, 'format: tsync-plan/1');
    const r = runCli(['apply', '--state-dir', sb.state, bogus]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.startsWith(`tsync: error: ${bogus}: not valid JSON (`)).toBe(true);
  });

  it('records the conflicts it resolves, as sync does: `tsync conflicts` lists them and `tsync log` counts them', () => {
    const dir = makeTempDir();
    onTestFinished(() => removeTempDir(dir));
    const [a, b, state, planFile] = [join(dir, 'A'), join(dir, 'B'), join(dir, 'state'), join(dir, 'plan.json')];
    mkdirSync(a);
    mkdirSync(b);
    writeFileSync(join(a, 'doc.txt'), 'agreed\n');
    expect(runCli(['sync', '--state-dir', state, a, b]).code).toBe(0);
    writeFileSync(join(a, 'doc.txt'), 'edited in A\n');
    writeFileSync(join(b, 'doc.txt'), 'edited in B, later and longer\n');
    const plan = runCli(['plan', '--state-dir', state, '-o', planFile, a, b]);
    expect(plan.code, plan.stderr).toBe(0);

    const apply = runCli(['apply', '--state-dir', state, planFile]);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toContain('tsync: conflict on doc.txt');
    const listed = runCli(['conflicts', '--state-dir', state, '--json', a, b]);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = listed.stdout
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { path: string; resolution: string });
    expect(rows).toEqual([expect.objectContaining({ path: 'doc.txt', resolution: 'kept-both' })]);
    const log = runCli(['log', '--json', '--state-dir', state, a, b]);
    expect(JSON.parse(log.stdout.trim().split('\n')[0] ?? '')).toMatchObject({ command: 'apply', conflicts: 1, exitCode: 0 });
  });

  it('prints the warnings of opening the index (a corrupt one is set aside), on stderr and as --json events', () => {
    const sb = sandbox();
    writeFileSync(join(sb.src, 'f.txt'), 'v1\n');
    expect(sb.sync().code).toBe(0);
    writeFileSync(join(sb.src, 'f.txt'), 'v2\n');
    const planFile = join(sb.dir, 'plan.json');
    expect(runCli(['plan', '--one-way', '--state-dir', sb.state, '-o', planFile, sb.src, sb.dst]).code).toBe(0);
    const corrupt = (): void => {
      for (const f of readdirSync(sb.state)) {
        if (f.endsWith('.db')) writeFileSync(join(sb.state, f), Buffer.alloc(8192, 0x5a)); // not a database any more
        if (f.endsWith('-wal') || f.endsWith('-shm')) writeFileSync(join(sb.state, f), '');
      }
    };
    corrupt();
    const apply = runCli(['apply', '--state-dir', sb.state, planFile]);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stderr).toMatch(/tsync: warning: the state index .* was unreadable and was moved to .*corrupt/);
    expect(readFileSync(join(sb.dst, 'f.txt'), 'utf8')).toBe('v2\n');

    corrupt();
    const json = runCli(['apply', '--json', '--state-dir', sb.state, planFile]);
    const events = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { schema: number; type: string; message?: string });
    expect(events[0]).toMatchObject({ schema: 1, type: 'warning', message: expect.stringMatching(/was unreadable/) as unknown });
    expect(events[events.length - 1]).toMatchObject({ schema: 1, type: 'summary', command: 'apply' });
  });
});

interface PlanAction {
  type: string;
  pathText: string;
  target: string;
  path: string;
  expect?: unknown;
  source?: { entry: unknown };
  conflict?: { resolution: string; winner: string | null };
  [key: string]: unknown;
}
interface PlanDoc {
  format: string;
  mode: string;
  policy?: string;
  roots: { left: string; right: string };
  actions: PlanAction[];
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const readPlan = (file: string): PlanDoc => JSON.parse(readFileSync(file, 'utf8')) as PlanDoc;
const sameContent = (a: string, b: string, rel: string): boolean => readFileSync(join(a, rel)).equals(readFileSync(join(b, rel)));

function at(doc: PlanDoc, type: string): [number, PlanAction] {
  const i = doc.actions.findIndex((a) => a.type === type);
  const action = doc.actions[i];
  if (action === undefined) throw new Error(`the plan has no ${type} action`);
  return [i, action];
}

function entryOf(a: PlanAction): Record<string, unknown> {
  if (a.source === undefined) throw new Error(`the ${a.type} action has no source`);
  return a.source.entry as Record<string, unknown>;
}

function conflictOf(a: PlanAction): NonNullable<PlanAction['conflict']> {
  if (a.conflict === undefined) throw new Error(`the ${a.type} action has no conflict record`);
  return a.conflict;
}

/** Two synced trees, then: both sides edit both.txt (a conflict), the left deletes gone.txt and adds new/n.txt. */
function twoWayPlan(sb: Sandbox): string {
  writeFileSync(join(sb.src, 'both.txt'), 'base\n');
  writeFileSync(join(sb.src, 'gone.txt'), 'g\n');
  mkdirSync(sb.dst);
  expect(runCli(['sync', '--state-dir', sb.state, sb.src, sb.dst]).code).toBe(0);
  writeFileSync(join(sb.src, 'both.txt'), 'left edit\n');
  writeFileSync(join(sb.dst, 'both.txt'), 'right edit, longer\n');
  rmSync(join(sb.src, 'gone.txt'));
  mkdirSync(join(sb.src, 'new'));
  writeFileSync(join(sb.src, 'new', 'n.txt'), 'n\n');
  const planFile = join(sb.dir, 'plan.json');
  const r = runCli(['plan', '--state-dir', sb.state, '-o', planFile, sb.src, sb.dst]);
  expect(r.code, r.stderr).toBe(0);
  return planFile;
}
