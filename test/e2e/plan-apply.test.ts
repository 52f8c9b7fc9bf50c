// `tsync plan -o FILE` writes a plan with preconditions; `tsync apply FILE` carries it out and refuses,
// action by action, what changed since.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir, runCli, sandbox } from '../helpers/cli.js';
import { onTestFinished } from 'vitest';

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

  it('a file that is not a plan is a one-line error, exit 2', () => {
    const sb = sandbox();
    const bogus = join(sb.dir, 'bogus.json');
    writeFileSync(bogus, '{"format":"something else"}');
    const r = runCli(['apply', '--state-dir', sb.state, bogus]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('unknown format');
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
    const rows = listed.stdout.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { path: string; resolution: string });
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
    const events = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { schema: number; type: string; message?: string });
    expect(events[0]).toMatchObject({ schema: 1, type: 'warning', message: expect.stringMatching(/was unreadable/) as unknown });
    expect(events[events.length - 1]).toMatchObject({ schema: 1, type: 'summary', command: 'apply' });
  });
});
