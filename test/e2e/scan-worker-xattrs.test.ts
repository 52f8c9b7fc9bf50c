// Extended attributes in the worker way of scanning (scan-in-worker.ts, late-xattrs.ts), with the BUILT
// worker module (dist/: run `npm run build` first) on real trees with real xattrs and a real index.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { AbsPath, RelPath } from '../../src/core/types.js';
import { absFromText } from '../../src/fs/paths.js';
import { scanInWorker } from '../../src/scan/scan-in-worker.js';
import { openPair } from '../../src/sync/pair.js';
import { filterOf, scanBothSides } from '../../src/sync/scan-pair.js';
import { runCli, sandbox } from '../helpers/cli.js';
import { KEEP_ALL, NO_RULES, xattrTaggedTree } from '../helpers/metadata.js';

const WORKER = new URL('../../dist/scan/scan-worker.js', import.meta.url);
describe('xattrs in a worker scan', () => {
  it('the worker reads none: every file and directory of its side gets the digest the main thread gives', async () => {
    const { src } = sandbox();
    xattrTaggedTree(src);
    const job = { root: absFromText(src) as AbsPath, side: 'right' as const, rules: NO_RULES, filterRoots: [], keep: KEEP_ALL };
    const got = await scanInWorker(job, () => ({ vouch: null, vouchXattrs: () => 'feedfacefeedface' }), WORKER).outcome;
    if (!got.ok) throw new Error(got.reason);
    const entries = [...got.scan.entries.values()].map((s) => s.entry);
    expect(entries.length).toBe(15);
    expect(entries.map((e) => (e.kind === 'symlink' ? 'a link' : e.xattrs))).toEqual(entries.map(() => 'feedfacefeedface'));
    expect(entries.every((e) => e.uid === process.getuid?.())).toBe(true); // owners still read by the worker
  });

  it('with xattrs kept, the worker way equals the main-thread way, before and after the attributes change', async () => {
    const sb = sandbox();
    mkdirSync(sb.dst);
    xattrTaggedTree(sb.src);
    expect(runCli(['sync', '--state-dir', sb.state, sb.src, sb.dst]).stderr).toBe('');
    execFileSync('setfattr', ['-n', 'user.note', '-v', 'changed', `${sb.dst}/d0/f3`]); // not vouched for any more
    execFileSync('setfattr', ['-n', 'user.added', '-v', 'new', `${sb.dst}/d2/f5`]);
    const pair = await openPair({ left: sb.src, right: sb.dst, mode: 'two-way', stateDir: sb.state, force: false, waitSeconds: 0, dryRun: true });
    onTestFinished(() => pair.close());
    const s = { checksum: false, filters: NO_RULES, keep: KEEP_ALL };
    const sequential = await scanBothSides(pair, s, filterOf(pair, s), { mode: 'never', workerUrl: WORKER });
    const parallel = await scanBothSides(pair, s, filterOf(pair, s), { mode: 'always', workerUrl: WORKER });
    expect([sequential.way, parallel.way]).toEqual(['sequential', 'worker']);
    const digests = (scan: typeof sequential.right): Record<string, string | undefined> =>
      Object.fromEntries([...scan.entries].map(([p, e]) => [p, e.entry.kind === 'symlink' ? 'a link' : e.entry.xattrs]));
    expect(digests(parallel.right)).toEqual(digests(sequential.right));
    const left = digests(sequential.left);
    const right = digests(parallel.right);
    expect(right['d0/f3' as RelPath]).not.toBe(left['d0/f3' as RelPath]);
    expect(right['d2/f5' as RelPath]).not.toBe('');
    expect(right['d1' as RelPath]).toBe(left['d1' as RelPath]);
    expect(right['d1' as RelPath]).toMatch(/^[0-9a-f]{16}$/);
  });
});
