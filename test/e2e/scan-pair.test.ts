// scanBothSides in-process, on real trees and a real index, with the BUILT worker module (dist/: run
// `npm run build` first, as for every e2e test): what the CLI runs cannot show, namely which way a pair
// was scanned when a worker fails or its filter read other ignore rules.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { RelPath } from '../../src/core/types.js';
import { openPair, type OpenPair } from '../../src/sync/pair.js';
import { listsAhead } from '../../src/scan/list-ahead.js';
import { filterOf, scanBothSides, WORKER_MIN_BASE, type PairScan } from '../../src/sync/scan-pair.js';
import { runCli, sandbox, type Sandbox } from '../helpers/cli.js';
import { link, put } from '../helpers/tree.js';

const WORKER = new URL('../../dist/scan/scan-worker.js', import.meta.url);
const NO_RULES = { exclude: [], include: [] };
const settings = { checksum: false, filters: NO_RULES };

/** A synced two-way pair (so the index holds hashes the stat cache can vouch for), opened read-only. */
async function syncedPair(build: (sb: Sandbox) => void): Promise<{ sb: Sandbox; pair: OpenPair }> {
  const sb = sandbox();
  mkdirSync(sb.dst);
  build(sb);
  const first = runCli(['sync', '--state-dir', sb.state, sb.src, sb.dst]);
  // the tree holds a fifo (skipped, a line each) and a non-UTF-8 name (its xattrs cannot be addressed: one line)
  const expected = (l: string): boolean => l.endsWith(': special file (fifo, socket or device) skipped') || l.includes('extended attributes of names that are not UTF-8 are not kept');
  expect(first.stderr.split('\n').filter((l) => l !== '' && !expected(l))).toEqual([]);
  const pair = await openPair({ left: sb.src, right: sb.dst, mode: 'two-way', stateDir: sb.state, force: false, waitSeconds: 0, dryRun: true });
  onTestFinished(() => pair.close());
  return { sb, pair };
}

function someTree(sb: Sandbox): void {
  for (let i = 0; i < 20; i++) put(sb.src, `d${i % 4}/f${i}.txt`, `content ${i}\n`);
  put(sb.src, Buffer.from([0x78, 0xff, 0x2f, 0x79]), 'under a non-UTF-8 directory\n');
  link(sb.src, 'd0/link', Buffer.from([0x2e, 0x2e, 0x2f, 0xfe]));
  execFileSync('mkfifo', [join(sb.src, 'pipe')]);
  execFileSync('mkfifo', [join(sb.dst, 'pipe2')]);
}

async function scan(pair: OpenPair, mode: 'always' | 'never', workerUrl: URL = WORKER): Promise<PairScan> {
  return scanBothSides(pair, settings, filterOf(pair, settings), { mode, workerUrl });
}

/** A side's scan without the moments of its lstats (two scans differ there), which must lie within the scan. */
function comparable(s: PairScan['right'], fromNs: bigint, toNs: bigint): unknown {
  for (const e of s.entries.values()) {
    expect(e.observedAtNs >= fromNs && e.observedAtNs <= toNs, `observed at ${e.observedAtNs}, within ${fromNs}..${toNs}`).toBe(true);
  }
  // how many listings a walk read ahead says how it walked, not what it found (the worker's walk reads none ahead)
  const { listedAhead: _, ...found } = s;
  return { ...found, entries: new Map([...s.entries].map(([k, e]) => [k, { entry: e.entry, stat: e.stat }])) };
}

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

const pathsOf = (s: PairScan['right']): string[] => [...s.entries.keys()].sort();

describe('scanBothSides', () => {
  it('a worker scan equals a main-thread scan', async () => {
    const { pair } = await syncedPair(someTree);
    const t0 = nowNs();
    const sequential = await scan(pair, 'never');
    const t1 = nowNs();
    const parallel = await scan(pair, 'always');
    const t2 = nowNs();
    expect([sequential.way, parallel.way]).toEqual(['sequential', 'worker']);
    expect(comparable(parallel.right, t1, t2)).toEqual(comparable(sequential.right, t0, t1));
    expect(comparable(parallel.left, t1, t2)).toEqual(comparable(sequential.left, t0, t1));
    expect(parallel.right.problems.map((p) => p.code)).toEqual(['special-file']);
  });

  it('the right side gets hashes from the stat cache in the worker way too', async () => {
    const { sb, pair } = await syncedPair(someTree);
    pair.close();
    // The first sync just wrote these files: their ctimes may be too recent to vouch for (racy,
    // stat-cache.ts). A second sync, once out of that window, records them again.
    await new Promise((r) => setTimeout(r, 100));
    runCli(['sync', '--state-dir', sb.state, sb.src, sb.dst]);
    const again = await openPair({ left: sb.src, right: sb.dst, mode: 'two-way', stateDir: sb.state, force: false, waitSeconds: 0, dryRun: true });
    onTestFinished(() => again.close());
    const parallel = await scan(again, 'always');
    const hashed = [...parallel.right.entries.values()].filter((e) => e.entry.kind === 'file' && e.entry.hash !== null);
    expect(parallel.way).toBe('worker');
    expect(hashed.length).toBe(21);
    const t1 = nowNs();
    const sequential = await scan(again, 'never');
    expect(comparable(parallel.right, 0n, t1)).toEqual(comparable(sequential.right, t1, nowNs()));
  });

  it('a worker that cannot start or exits without a scan: the side is scanned on the main thread', async () => {
    const { pair } = await syncedPair(someTree);
    const t0 = nowNs();
    const sequential = await scan(pair, 'never');
    const t1 = nowNs();
    const missing = await scan(pair, 'always', new URL('./no-such-worker.js', WORKER));
    const exits = await scan(pair, 'always', new URL('data:text/javascript,process.exit(3)'));
    const t2 = nowNs();
    expect([missing.way, exits.way]).toEqual(['worker-failed', 'worker-failed']);
    expect(missing.reason).toMatch(/^the scan worker crashed: .*no-such-worker/);
    expect(exits.reason).toBe('the scan worker exited (3) without a scan');
    expect(comparable(missing.right, t1, t2)).toEqual(comparable(sequential.right, t0, t1));
    expect(comparable(exits.right, t1, t2)).toEqual(comparable(sequential.right, t0, t1));
  });

  it('ignore rules that changed between the two filters reads: the right side is scanned again with the main filter', async () => {
    const { sb, pair } = await syncedPair((s) => {
      put(s.src, 'sub/.tsyncignore', '*.log\n');
      put(s.src, 'sub/a.log', 'hidden\n');
      put(s.src, 'sub/b.txt', 'shown\n');
      put(s.dst, 'sub/a.log', 'hidden on this side too\n');
    });
    const filter = filterOf(pair, settings);
    // The race made deterministic (the one mock here: the moment of the change): in a run, the main
    // thread's filter reads sub/.tsyncignore while scanning, the file changes, and the worker's filter
    // reads the new text. Here the main filter reads it first, then the file changes, then the scan runs.
    expect(filter.excludes('sub/a.log' as RelPath, false)).toBe(true);
    writeFileSync(join(sb.src, 'sub/.tsyncignore'), '# nothing ignored any more\n');
    const got = await scanBothSides(pair, settings, filter, { mode: 'always', workerUrl: WORKER });
    expect(got.way).toBe('rules-differed');
    expect(got.reason).toBe('the ignore rules of sub changed during the scan');
    // both sides judged by the rules the main thread read: a.log hidden on both, so never deleted
    expect(pathsOf(got.left)).toEqual(['sub', 'sub/b.txt']);
    expect(pathsOf(got.right)).toEqual(['sub', 'sub/b.txt']);
  });

  it("the main filter ends up holding the rules of directories only the worker's side has", async () => {
    const { pair } = await syncedPair((s) => {
      put(s.src, 'both/f', 'f\n');
      put(s.dst, 'right-only/.tsyncignore', '*.tmp\n');
      put(s.dst, 'right-only/x.tmp', 'hidden\n');
    });
    const filter = filterOf(pair, settings);
    const got = await scanBothSides(pair, settings, filter, { mode: 'always', workerUrl: WORKER });
    expect(got.way).toBe('worker');
    expect(pathsOf(got.right)).toEqual(['both', 'both/f', 'right-only']);
    expect(filter.rulesRead().get('right-only')).toBe('*.tmp\n');
    expect(filter.excludes('right-only/y.tmp' as RelPath, false)).toBe(true);
  });

  it('auto: a small pair is scanned on the main thread', async () => {
    const { pair } = await syncedPair(someTree);
    expect(pair.indexedPaths).toBeLessThan(WORKER_MIN_BASE);
    expect((await scanBothSides(pair, settings, filterOf(pair, settings), { mode: 'auto', workerUrl: WORKER })).way).toBe('sequential');
  });

  it('auto: where walks read listings ahead, a pair is scanned on the main thread whatever its size', async (ctx) => {
    if (!listsAhead()) ctx.skip(); // no addon, or no /proc (the no-proc project): the worker's threshold decides, below
    const { pair } = await syncedPair(someTree);
    expect((await scanBothSides(pair, settings, filterOf(pair, settings), { mode: 'auto', workerUrl: WORKER, workerMinBase: 1 })).way).toBe('sequential');
  });

  it('auto: without listings read ahead, a pair whose index holds the threshold of paths or more is scanned with a worker (one fewer: not), and the worker side is vouched for', async () => {
    // TSYNC_LIST_AHEAD=0 switches the reader off (read at each scan), as a machine without the addon has none
    const before = process.env.TSYNC_LIST_AHEAD;
    process.env.TSYNC_LIST_AHEAD = '0';
    onTestFinished(() => {
      if (before === undefined) delete process.env.TSYNC_LIST_AHEAD;
      else process.env.TSYNC_LIST_AHEAD = before;
    });
    const files = 200; // a tree of WORKER_MIN_BASE files would take minutes on a busy machine: workerMinBase stands in
    const { pair } = await syncedPair((sb) => {
      for (let d = 0; d < 10; d++) {
        mkdirSync(join(sb.src, `d${d}`));
        for (let f = 0; f < files / 10; f++) writeFileSync(join(sb.src, `d${d}`, `f${f}`), `${d}/${f}`);
      }
    });
    expect(pair.indexedPaths).toBe(files + 10);
    const scanAuto = (workerMinBase: number): Promise<PairScan> => scanBothSides(pair, settings, filterOf(pair, settings), { mode: 'auto', workerUrl: WORKER, workerMinBase });
    // decided from the count taken at open: the base is not loaded yet when the worker starts
    const scanned = await scanAuto(pair.indexedPaths);
    expect(scanned.way).toBe('worker');
    expect((await scanAuto(pair.indexedPaths + 1)).way).toBe('sequential');
    const scannedFiles = [...scanned.right.entries.values()].filter((e) => e.entry.kind === 'file');
    expect(scannedFiles.length).toBe(files);
    expect(scannedFiles.filter((e) => e.entry.kind === 'file' && e.entry.hash === null).length).toBe(0);
  });
});
