// A run killed at any instant leaves no torn file: the DST path holds nothing, the old bytes or the full
// new bytes, never a mix; the next run converges and cleans up the dead run's temp files. Each kill is
// triggered by what the run is seen doing and then checked to have landed there: before the first write,
// as a copy starts, half-way through a copy.
//
// Ctrl-C (SIGINT) during a one-shot sync is a clean stop: the actions in flight finish, what was applied
// is recorded in the index and the run exits 130; a second Ctrl-C exits at once, recording nothing.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, lines, makeTempDir, projectRoot, removeTempDir, runCli, runCliAndKill } from '../helpers/cli.js';
import { compareTrees, findOwnNames, pinTimes, put, snapshotTree, type TreeSnapshot } from '../helpers/tree.js';

const MIB = 1024 * 1024;
const BIG_SIZE = 200 * MIB;
const OLD_CONTENT = 'the old, small version of big.bin\n';

let work = '';
let src = '';
let bigSha = '';
/** SRC never changes here: snapshot (and hash) it once. */
let srcSnapshot: TreeSnapshot = new Map();

/** 200 MiB where every MiB differs (a random MiB stamped with its index), so any prefix is detectable. */
function writeBigFile(path: string): string {
  const block = Buffer.alloc(MIB);
  for (let i = 0; i < MIB; i += 4) block.writeUInt32LE((Math.random() * 0x1_0000_0000) >>> 0, i);
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < BIG_SIZE / MIB; i++) {
      block.writeUInt32LE(i, 0);
      writeSync(fd, block);
      hash.update(block);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** A copy's temp files (the ctime probe, `.tsync-tmp-<pid>-probe-…`, lives for microseconds and is not a copy). */
function tempFilesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('.tsync-tmp-') && !/^\.tsync-tmp-\d+-probe-/.test(n)) : [];
}

beforeAll(() => {
  work = makeTempDir('tsync-e2e-kill-');
  src = join(work, 'src');
  put(src, 'small/a.txt', 'small files around the big one\n');
  bigSha = writeBigFile(join(src, 'big.bin'));
  pinTimes(src);
  srcSnapshot = snapshotTree(src);
});

afterAll(() => {
  if (work !== '') removeTempDir(work);
});

/** Where a kill is meant to land, how the test sees that moment come, and how it checks the kill landed there. */
type Phase = 'before the first write' | 'as the copy starts' | 'half-way through the copy';

interface Scenario {
  readonly phase: Phase;
  /** DST already holds an old version of big.bin (the kill interrupts an overwrite). */
  readonly overwrite: boolean;
}

const SCENARIOS: readonly Scenario[] = [
  { phase: 'before the first write', overwrite: false },
  { phase: 'before the first write', overwrite: true },
  { phase: 'as the copy starts', overwrite: false },
  { phase: 'as the copy starts', overwrite: true },
  { phase: 'half-way through the copy', overwrite: false },
  { phase: 'half-way through the copy', overwrite: true },
];

/**
 * A copy's temp files with their sizes (one may be renamed away between the listing and the stat). A large
 * file's copy is made inside a stage, a private directory with a temp name (engine/staged-copy.ts): a stage whose
 * file the copy has not created yet is a copy under way with 0 bytes written.
 */
function tempSizes(dir: string): number[] {
  return tempFilesIn(dir).flatMap((n) => {
    try {
      const st = statSync(join(dir, n));
      return [st.isDirectory() ? stagedSize(join(dir, n)) : st.size];
    } catch {
      return [];
    }
  });
}

function stagedSize(stage: string): number {
  const st = statSync(join(stage, 'f'), { throwIfNoEntry: false });
  if (st !== undefined) return st.size;
  statSync(stage); // the stage itself gone meanwhile (renamed into place and removed): not a copy under way
  return 0;
}

/** The run holds the pair lock (it writes the holder file right after taking it, before it scans). */
function lockTaken(state: string): boolean {
  return existsSync(state) && readdirSync(state).some((n) => n.endsWith('.holder.json'));
}

/** A missing root reads as empty: the run may not have created DST yet. */
function treeOrEmpty(root: string): TreeSnapshot {
  return existsSync(root) ? snapshotTree(root) : new Map();
}

const HALF_WAY = 32 * MIB;

/** When to kill: polled every few ms by runCliAndKill. */
function trigger(phase: Phase, dst: string, state: string): () => boolean {
  switch (phase) {
    case 'before the first write':
      return () => lockTaken(state);
    case 'as the copy starts':
      return () => tempFilesIn(dst).length > 0;
    case 'half-way through the copy':
      return () => tempSizes(dst).some((n) => n >= HALF_WAY);
  }
}

/** What DST must show for the kill to have landed in `phase` (empty: it did). */
function landedIn(phase: Phase, dst: string, before: TreeSnapshot): string[] {
  const temps = tempSizes(dst);
  switch (phase) {
    case 'before the first write':
      // the source was still being hashed: no copy begun, nothing in DST moved
      return [...(temps.length > 0 ? [`a copy had begun (temp files of ${temps.join(', ')} bytes)`] : []), ...compareTrees(before, treeOrEmpty(dst), { identity: true })];
    case 'as the copy starts':
      return temps.length > 0 ? [] : ['no copy was under way (no temp file)'];
    case 'half-way through the copy':
      return temps.some((n) => n >= HALF_WAY && n < BIG_SIZE) ? [] : [`no part-written copy (temp files of ${temps.join(', ') || 'none'} bytes)`];
  }
}

describe('a run killed with SIGKILL', () => {
  SCENARIOS.forEach((sc, i) => {
    it(`${sc.phase}${sc.overwrite ? ' (overwriting)' : ''}: the kill lands there, no torn file, the rerun converges and cleans up`, async () => {
      const dst = join(work, `dst${i}`);
      const state = join(work, `state${i}`);
      const args = ['sync', '--one-way', '--state-dir', state, src, dst];
      if (sc.overwrite) {
        put(dst, 'big.bin', OLD_CONTENT);
        put(dst, 'small/a.txt', 'small files around the big one\n');
      }
      const target = join(dst, 'big.bin');
      const before = treeOrEmpty(dst);

      const run = await runCliAndKill(args, 120_000, trigger(sc.phase, dst, state));

      // The kill must have landed where the scenario says, or the test proves nothing.
      expect(run.killed, `the run ended (exit ${run.code}) before the kill`).toBe(true);
      expect(landedIn(sc.phase, dst, before), `the kill did not land ${sc.phase}`).toEqual([]);
      if (existsSync(target)) {
        const content = readFileSync(target);
        const whole = content.length === BIG_SIZE && createHash('sha256').update(content).digest('hex') === bigSha;
        const old = sc.overwrite && content.toString('utf8') === OLD_CONTENT;
        expect(whole || old, `big.bin after the kill: ${content.length} bytes, neither the old nor the full new content`).toBe(true);
      }

      const rerun = runCli(args);

      expect({ code: rerun.code, stderr: rerun.stderr }).toEqual({ code: 0, stderr: '' });
      expect(compareTrees(srcSnapshot, snapshotTree(dst))).toEqual([]); // includes big.bin's sha256
      // no temp file survives; the old version, if one was replaced, is kept in the trash
      expect(findOwnNames(dst).filter((n) => n !== '.tsync' && !n.startsWith('.tsync/trash'))).toEqual([]);
      removeTempDir(dst);
    });
  });
});

describe('what a killed run leaves behind', () => {
  it("temp files and ctime probes of a dead process are removed by the next run; a live process's are kept", () => {
    const dir = makeTempDir('tsync-e2e-leftover-');
    try {
      const from = join(dir, 'src');
      const to = join(dir, 'dst');
      put(from, 'a.txt', 'a\n');
      expect(runCli(['sync', '--one-way', '--state-dir', join(dir, 'state'), from, to]).code).toBe(0);
      const dead = spawnSync(process.execPath, ['-e', '0']).pid; // exited: its pid names no live process
      const live = process.pid;
      const leftovers = [`.tsync-tmp-${dead}-1`, `.tsync-tmp-${dead}-probe-2`, `.tsync-probe-${dead}-0a1b2c3d`];
      for (const n of leftovers) put(to, n, 'partial\n');
      put(to, `.tsync-tmp-${live}-1`, 'being written by a live process\n');

      const r = runCli(['sync', '--one-way', '--state-dir', join(dir, 'state'), from, to]);

      expect(r.code, r.stderr).toBe(0);
      expect(
        readdirSync(to)
          .filter((n) => n.startsWith('.tsync-'))
          .sort(),
      ).toEqual([`.tsync-tmp-${live}-1`]);
    } finally {
      removeTempDir(dir);
    }
  });

  it("a large copy's stage (a private directory, engine/staged-copy.ts) of a dead process is removed with its file; anything else is kept", () => {
    const dir = makeTempDir('tsync-e2e-leftover-stage-');
    try {
      const [from, to, state] = [join(dir, 'src'), join(dir, 'dst'), join(dir, 'state')];
      put(from, 'sub/a.txt', 'a\n');
      expect(runCli(['sync', '--one-way', '--state-dir', state, from, to]).code).toBe(0);
      const dead = spawnSync(process.execPath, ['-e', '0']).pid;
      put(to, `sub/.tsync-tmp-${dead}-s1/f`, 'a part-written large copy\n');
      mkdirSync(join(to, `sub/.tsync-tmp-${dead}-s2`)); // killed before the copy created its file
      // not what a stage holds: a name tsync never stages is not removed
      put(to, `sub/.tsync-tmp-${dead}-s3/notes.txt`, "someone else's\n");
      put(to, `sub/.tsync-tmp-${process.pid}-s4/f`, 'a live process is copying\n');

      const r = runCli(['sync', '--one-way', '--state-dir', state, from, to]);

      expect(r.code, r.stderr).toBe(0);
      expect(readdirSync(join(to, 'sub')).sort()).toEqual([`.tsync-tmp-${dead}-s3`, `.tsync-tmp-${process.pid}-s4`, 'a.txt'].sort());
      expect(readFileSync(join(to, `sub/.tsync-tmp-${dead}-s3/notes.txt`), 'utf8')).toBe("someone else's\n");
    } finally {
      removeTempDir(dir);
    }
  });
});

describe('a copy killed between its link and the removal of its temp name (engine/copy-file.ts placeNew)', () => {
  // what such a kill leaves: the new file under its name and under the temp name, two names of one inode
  function killedBetweenLinkAndUnlink(root: string, path: string, content: string): void {
    put(root, path, content);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    linkSync(join(root, path), join(root, dirname(path), `.tsync-tmp-${dead}-1`));
  }

  it('two-way: the file is copied to the other side although removing the temp name changed its ctime after the scan', () => {
    const dir = makeTempDir('tsync-e2e-link-kill-');
    try {
      const [a, b, state] = [join(dir, 'a'), join(dir, 'b'), join(dir, 'state')];
      put(b, 'other.txt', 'b\n');
      killedBetweenLinkAndUnlink(a, 'sub/x.tsync-conflict-20261203-120000-left.txt', 'the conflict copy\n');
      const r = runCli(['sync', '--state-dir', state, a, b]);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(join(b, 'sub/x.tsync-conflict-20261203-120000-left.txt'), 'utf8')).toBe('the conflict copy\n');
      expect(readdirSync(join(a, 'sub')).filter((n) => n.startsWith('.tsync-tmp-'))).toEqual([]);
      expect(statSync(join(a, 'sub/x.tsync-conflict-20261203-120000-left.txt')).nlink).toBe(1);
    } finally {
      removeTempDir(dir);
    }
  });

  it("one-way: removing the temp name leaves the directory's mtime as the scan saw it, so one run converges", async () => {
    const dir = makeTempDir('tsync-e2e-link-kill-');
    // a process that is alive through the first two runs: its temp name is not a leftover until it ends
    const writer = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const [src, dst, state] = [join(dir, 'src'), join(dir, 'dst'), join(dir, 'state')];
      put(src, 'sub/new.txt', 'new\n');
      expect(runCli(['sync', '--one-way', '--state-dir', state, src, dst]).code).toBe(0);
      // the replica's sub as a run leaves it when removing a temp name failed after the link: the temp name is
      // still there, and the run set the directory's times and recorded them
      linkSync(join(dst, 'sub/new.txt'), join(dst, 'sub', `.tsync-tmp-${writer.pid}-1`));
      const recorded = runCli(['sync', '--one-way', '--state-dir', state, src, dst]);
      expect(recorded.code, recorded.stderr).toBe(0);
      const ended = new Promise((resolve) => writer.once('exit', resolve));
      writer.kill('SIGKILL');
      await ended;
      // now a leftover: the next run removes it before it copies, after its scan read sub's mtime
      const r = runCli(['sync', '--one-way', '--state-dir', state, src, dst]);
      expect(r.code, r.stderr).toBe(0);
      expect(readdirSync(join(dst, 'sub'))).toEqual(['new.txt']);
      // to the microsecond: no call sets a time finer than that
      const micros = (p: string): bigint => statSync(p, { bigint: true }).mtimeNs / 1000n;
      expect(micros(join(dst, 'sub'))).toBe(micros(join(src, 'sub')));
      expect(compareTrees(snapshotTree(src), snapshotTree(dst))).toEqual([]);
    } finally {
      writer.kill('SIGKILL');
      removeTempDir(dir);
    }
  });
});

/** A running `tsync args...` whose output is collected, for a test to send it signals. */
function startCli(args: readonly string[]): {
  child: ReturnType<typeof spawn>;
  stderr: () => string;
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>;
} {
  const child = spawn(process.execPath, [binPath, ...args], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000); // a hanging run fails the test, not the suite
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout });
    }),
  );
  return { child, stderr: () => stderr, ended };
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > 60_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2)); // poll often: the signal must land while the run is copying
  }
}

/** The regular files under `root` (tsync's own names left out), relative. */
function filesIn(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && !d.name.startsWith('.tsync') && !d.parentPath.includes('.tsync'))
    .map((d) => join(d.parentPath, d.name).slice(root.length + 1));
}

/** The file records of the pair's index, read straight from its SQLite file (the one pair in `state`). */
function indexedFiles(state: string): number {
  const dbs = readdirSync(state).filter((n) => /^pair-.*\.db$/.test(n));
  expect(dbs).toHaveLength(1);
  const db = new Database(join(state, dbs[0] ?? ''), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM entries WHERE kind = 1').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

const DIRS = 30;
const PER_DIR = 100;
const MANY = DIRS * PER_DIR;

describe('Ctrl-C during a sync', () => {
  it('the first SIGINT finishes the actions in flight, records what was applied, exits 130; the next run copies only the rest', async () => {
    const many = join(work, 'many');
    for (let d = 0; d < DIRS; d++) {
      mkdirSync(join(many, `d${d}`), { recursive: true });
      for (let i = 0; i < PER_DIR; i++) writeFileSync(join(many, `d${d}`, `f${i}`), `${'x'.repeat(1000)} ${d}/${i}\n`);
    }
    const dst = join(work, 'many-dst');
    const state = join(work, 'many-state');
    const args = ['sync', '--one-way', '--state-dir', state, many, dst];
    const run = startCli(args);
    await waitFor(() => filesIn(dst).length > 0, 'the first copied file');
    run.child.kill('SIGINT');
    const ended = await run.ended;

    expect({ code: ended.code, signal: ended.signal }).toEqual({ code: 130, signal: null });
    expect(lines(run.stderr())).toEqual([expect.stringMatching(/^tsync: interrupted: finishing the actions in flight/)]);
    const copied = filesIn(dst);
    // the signal must have landed mid-run, or the test proves nothing
    expect(copied.length).toBeGreaterThan(0);
    expect(copied.length).toBeLessThan(MANY);
    for (const f of copied) expect(readFileSync(join(dst, f), 'utf8')).toBe(readFileSync(join(many, f), 'utf8'));
    expect(readdirSync(dst, { recursive: true }).filter((n) => String(n).includes('.tsync-tmp-'))).toEqual([]);
    // every file it copied is in the index, and the run log says how it ended
    expect(indexedFiles(state)).toBe(copied.length);
    const log = runCli(['log', '--json', '--one-way', '--state-dir', state, many, dst]);
    expect(JSON.parse(lines(log.stdout)[0] ?? '{}')).toMatchObject({ command: 'sync', copied: copied.length, exitCode: 130 });

    const rerun = runCli([...args.slice(0, 1), '--json', ...args.slice(1)]);

    expect(rerun.code, rerun.stderr).toBe(0);
    const summary = JSON.parse(lines(rerun.stdout).pop() ?? '{}') as { type: string; counts: { copy: number } };
    expect(summary).toMatchObject({ type: 'summary', counts: { copy: MANY - copied.length } });
    expect(indexedFiles(state)).toBe(MANY);
  });

  it('a second SIGINT exits 130 at once: the copy in flight is cut short, nothing is recorded, the next run converges', async () => {
    const dst = join(work, 'twice-dst');
    const state = join(work, 'twice-state');
    const args = ['sync', '--one-way', '--state-dir', state, src, dst];
    const run = startCli(args);
    await waitFor(() => tempFilesIn(dst).length > 0, 'the copy of big.bin to start');
    run.child.kill('SIGINT');
    await waitFor(() => run.stderr().includes('tsync: interrupted'), 'the first SIGINT to be seen');
    run.child.kill('SIGINT');
    const ended = await run.ended;

    expect({ code: ended.code, signal: ended.signal }).toEqual({ code: 130, signal: null });
    // at once: the 200 MiB copy did not finish, and no run was recorded
    expect(existsSync(join(dst, 'big.bin'))).toBe(false);
    const log = runCli(['log', '--json', '--one-way', '--state-dir', state, src, dst]);
    expect({ code: log.code, stdout: log.stdout }).toEqual({ code: 0, stdout: '' });

    const rerun = runCli(args);

    expect({ code: rerun.code, stderr: rerun.stderr }).toEqual({ code: 0, stderr: '' });
    expect(compareTrees(srcSnapshot, snapshotTree(dst))).toEqual([]);
    expect(tempFilesIn(dst)).toEqual([]);
  });
});
