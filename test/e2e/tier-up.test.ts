// A one-shot sync raises V8's interrupt budget once a table holds 1,024 rows (runtime/tier-up.ts), on the V8 it was
// measured on, and only there: a V8 that does not know the flag would print an error on stderr. These run the built
// CLI as a real child process and read its TSYNC_TIMINGS lines: the budget is set after the code cache was taken (the
// cache's key holds V8's flags: set before, the cache would be refused), the run's result is the same, and
// TSYNC_TIER_UP=v8 leaves V8's default. That it pays is the benchmark's to show, not a test's.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { delaysTierUp } from '../../src/runtime/tier-up.js';
import { lines, runCli, sandbox } from '../helpers/cli.js';

const nodeKeepsItsOwnCache = typeof (createRequire(import.meta.url)('node:module') as { enableCompileCache?: unknown }).enableCompileCache === 'function';
const measuredV8 = /^11\./.test(process.versions.v8);

function timings(stderr: string): string[] {
  return lines(stderr).filter((l) => l.startsWith('tsync timing: '));
}

describe('which V8 gets the one-shot budget', () => {
  it("Node 20's V8 does, others and TSYNC_TIER_UP=v8 do not", () => {
    expect(delaysTierUp({}, '11.3.244.8-node.38')).toBe(true);
    expect(delaysTierUp({ TSYNC_TIER_UP: 'v8' }, '11.3.244.8-node.38')).toBe(false);
    expect(delaysTierUp({}, '12.4.254.21-node.33')).toBe(false);
    expect(delaysTierUp({}, '13.6.233.10-node.19')).toBe(false);
  });
});

describe('a sync with the budget raised', () => {
  it('sets it after the code cache was taken, says nothing else on stderr, and syncs as before', () => {
    const sb = sandbox();
    // past 1,024 rows, where the flag is set (at the young generation's first check): what V8 says about it is seen
    for (let i = 0; i < 1100; i++) writeFileSync(join(sb.src, `f${i}.txt`), `file ${i}\n`);
    const env = { TSYNC_TIMINGS: '1', TSYNC_TIER_UP: undefined, TSYNC_CODE_CACHE: undefined };
    const first = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], { env });
    expect(first.code, first.stderr).toBe(0);
    const said = timings(first.stderr);
    expect(said.some((l) => l.startsWith("tsync timing: tier-up: V8's interrupt budget 540672"))).toBe(measuredV8);
    if (!nodeKeepsItsOwnCache) expect(said).toContain('tsync timing: code cache: used');
    // every other line on stderr is a timing line: no "unrecognized flag" from V8
    expect(lines(first.stderr).filter((l) => !l.startsWith('tsync timing: '))).toEqual([]);
    const again = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('0 copied');
  });

  it('TSYNC_TIER_UP=v8 leaves V8 as it is', () => {
    const sb = sandbox();
    writeFileSync(join(sb.src, 'f.txt'), 'x\n');
    const r = runCli(['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst], { env: { TSYNC_TIMINGS: '1', TSYNC_TIER_UP: 'v8' } });
    expect(r.code, r.stderr).toBe(0);
    expect(timings(r.stderr).filter((l) => l.includes('tier-up'))).toEqual([]);
  });
});
