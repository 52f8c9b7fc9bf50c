// Scriptable output and the inspection commands through the built CLI: `sync --json`, `status`,
// `check` (exit 0 only when identical) and `log`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, sandbox } from '../helpers/cli.js';

interface JsonLine {
  readonly schema?: number;
  readonly type?: string;
  readonly [k: string]: unknown;
}

const parse = (stdout: string): JsonLine[] =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JsonLine);

describe('json output and inspection', () => {
  it('sync --json: one event per action, then a summary with counts and the exit code', () => {
    const sb = sandbox();
    writeFileSync(join(sb.src, 'a.txt'), 'a\n');
    writeFileSync(join(sb.src, 'b.txt'), 'b\n');
    const r = sb.sync('--json');
    expect(r.code, r.stderr).toBe(0);
    const events = parse(r.stdout);
    expect(events.every((e) => e.schema === 1)).toBe(true);
    expect(events.filter((e) => e.type === 'action')).toEqual([
      expect.objectContaining({ action: 'copy', path: 'a.txt', target: 'right', status: 'applied' }),
      expect.objectContaining({ action: 'copy', path: 'b.txt', target: 'right', status: 'applied' }),
    ]);
    const summary = events[events.length - 1];
    expect(summary).toMatchObject({ type: 'summary', command: 'sync', mode: 'one-way', dryRun: false, exitCode: 0, problems: 0 });
    expect(summary?.counts).toMatchObject({ copy: 2 });
  });

  it('sync --json reports a refusal as an error event with its exit code', () => {
    const sb = sandbox();
    const r = runCli(['sync', '--json', '--state-dir', sb.state, join(sb.dir, 'missing'), sb.dst]);
    expect(r.code).toBe(2);
    expect(parse(r.stdout)).toEqual([expect.objectContaining({ schema: 1, type: 'error', exitCode: 2 })]);
  });

  it('status shows pending changes per direction; check exits 1 until the trees are identical; log lists runs', () => {
    const sb = sandbox();
    mkdirSync(sb.dst);
    writeFileSync(join(sb.src, 'a.txt'), 'a\n');
    const two = (cmd: string, ...extra: string[]): ReturnType<typeof runCli> => runCli([cmd, '--state-dir', sb.state, ...extra, sb.src, sb.dst]);
    expect(two('sync').code).toBe(0);
    writeFileSync(join(sb.src, 'new.txt'), 'new\n');
    writeFileSync(join(sb.dst, 'other.txt'), 'other\n');

    const status = two('status', '--json');
    expect(status.code, status.stderr).toBe(0);
    // the last run and the open conflicts come from the index, read in the same opening as the dry run
    expect(JSON.parse(status.stdout)).toMatchObject({ lastSync: { mode: 'two-way', exitCode: 0, copied: 1 }, pending: { towardsFirst: 1, towardsSecond: 1 }, openConflicts: 0 });

    const check = two('check');
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('new.txt: only in the first root');
    expect(check.stdout).toContain('other.txt: only in the second root');

    expect(two('sync').code).toBe(0);
    const again = two('check', '--checksum');
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout.trim()).toBe('identical');

    const log = two('log', '--json');
    expect(log.code).toBe(0);
    const runs = parse(log.stdout);
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ command: 'sync', mode: 'two-way', copied: 2, exitCode: 0 });
  });

  it('status counts the conflicts a skip policy left open', () => {
    const sb = sandbox();
    mkdirSync(sb.dst);
    writeFileSync(join(sb.src, 'a.txt'), 'a\n');
    const two = (cmd: string, ...extra: string[]): ReturnType<typeof runCli> => runCli([cmd, '--state-dir', sb.state, ...extra, sb.src, sb.dst]);
    expect(two('sync').code).toBe(0);
    writeFileSync(join(sb.src, 'a.txt'), 'first side\n');
    writeFileSync(join(sb.dst, 'a.txt'), 'second side, longer\n');
    expect(two('sync', '--conflict', 'skip').code).toBe(3);

    const status = two('status', '--json');
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ lastSync: { exitCode: 3 }, openConflicts: 1 });
  });
});
