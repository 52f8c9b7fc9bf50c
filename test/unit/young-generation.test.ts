// The young-generation cap (src/runtime/young-generation.ts) in a real Node process of its own: V8 flags are
// process-wide, so the check runs in a child that allocates as a walk does (objects that survive, checking every
// thousand), then reports how big its new space grew. Built code (dist/), as the CLI runs it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../helpers/cli.js';

const MODULE = pathToFileURL(join(projectRoot, 'dist', 'runtime', 'young-generation.js')).href;

/** The new space's size in MB after 2 million surviving objects, with the cap watched as the env asks. */
function newSpaceMbAfterAllocating(env: Record<string, string>, defaultMb?: number): number {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { capYoungGeneration, checkYoungGeneration } from ${JSON.stringify(MODULE)};
    capYoungGeneration(process.env${defaultMb === undefined ? '' : `, ${defaultMb}`});
    const kept = [];
    for (let i = 0; i < 2_000_000; i++) {
      kept.push({ i, s: 'x' + i });
      if ((i & 1023) === 1023) checkYoungGeneration();
    }
    const ns = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    process.stdout.write(String(ns.space_size / 1048576));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return Number(r.stdout);
}

describe('the young-generation cap', () => {
  it('stops the new space at the cap (4 MB by default), where V8 alone lets it grow further', () => {
    const capped = newSpaceMbAfterAllocating({ TSYNC_YOUNG_GENERATION_MB: '' });
    const free = newSpaceMbAfterAllocating({ TSYNC_YOUNG_GENERATION_MB: '0' });
    expect(capped).toBeLessThanOrEqual(4);
    expect(free).toBeGreaterThan(8);
    expect(newSpaceMbAfterAllocating({ TSYNC_YOUNG_GENERATION_MB: '2' })).toBeLessThanOrEqual(2);
  });

  it("stops at the command's own cap when one is given (watch: 8 MB), and the variable still overrides it", () => {
    const watchCap = newSpaceMbAfterAllocating({ TSYNC_YOUNG_GENERATION_MB: '' }, 8);
    expect(watchCap).toBeGreaterThan(4);
    expect(watchCap).toBeLessThanOrEqual(8);
    expect(newSpaceMbAfterAllocating({ TSYNC_YOUNG_GENERATION_MB: '2' }, 8)).toBeLessThanOrEqual(2);
  });
});
