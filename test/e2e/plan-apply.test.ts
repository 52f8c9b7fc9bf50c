// `tsync plan -o FILE` writes a plan with preconditions; `tsync apply FILE` carries it out and refuses,
// action by action, what changed since.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, sandbox } from '../helpers/cli.js';

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
});
