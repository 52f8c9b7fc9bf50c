// A power cut after a default run, which commits its index at once and owes its flush to the next run
// (src/sync/deferred-flush.ts). A reboot cannot be made real in a test, so two things stand in for it,
// and only they are not real: (1) the kernel's boot id is replaced for the runs "after the restart" by
// the TEST-ONLY variable TSYNC_TEST_ONLY_BOOT_ID (src/fs/boot-id.ts), and (2) the written side is torn
// by hand in ways a power cut could tear it: files the run installed cut to a prefix, to nothing, or to
// zeros of the same length (each with the mtime the run gave it), new entries gone (a file, a whole new
// directory), and a file the run deleted (moved into the trash) back at its path. Everything else is
// real: the built CLI, the index file, the trees.
//
// After the restart, one-way and two-way, every file must hold its good content again on both sides
// (never the torn one), nothing the source had may be lost, the run must converge, and a further run
// must do nothing. With the marked rows kept (the deliberate break in the report), the two-way run
// takes the torn files for edits and copies them over the good ones.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir, runCli } from '../helpers/cli.js';
import { standinSsh } from '../helpers/remote-side.js';

const ENABLED = process.env.TSYNC_FAULTS === '1';

/** What each path holds once the edits on A are synced: the good versions. */
const GOOD: Readonly<Record<string, string>> = {
  'keep.txt': 'untouched\n',
  'mod.txt': 'the new version of mod, long enough to be cut short\n'.repeat(20),
  'sub/deep.txt': 'deep, rewritten\n'.repeat(10),
  'new1.txt': 'brand new 1\n',
  'new2.txt': 'brand new 2\n',
  'newdir/inner.txt': 'inside a new directory\n',
};

/** Every file below `root` with its content, directories as '<dir>', the trash left out. */
function treeOf(root: string, rel = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of readdirSync(join(root, rel), { withFileTypes: true })) {
    const p = rel === '' ? d.name : `${rel}/${d.name}`;
    if (p === '.tsync') continue;
    if (d.isDirectory()) {
      out.set(p, '<dir>');
      for (const [q, c] of treeOf(root, p)) out.set(q, c);
    } else out.set(p, readFileSync(join(root, p), 'utf8'));
  }
  return out;
}

const expectedTree = (): Map<string, string> => new Map<string, string>([...Object.entries(GOOD), ['sub', '<dir>'], ['newdir', '<dir>']]);

const sorted = (m: Map<string, string>): [string, string][] => [...m].sort(([a], [b]) => (a < b ? -1 : 1));

/** Cuts `rel` to `content`, keeping the mtime the run gave it (a power cut keeps the inode's journaled times). */
function tear(root: string, rel: string, content: Buffer): void {
  const abs = join(root, rel);
  const { atime, mtime } = statSync(abs);
  truncateSync(abs, 0);
  writeFileSync(abs, content);
  utimesSync(abs, atime, mtime);
}

function powerCut(b: string): void {
  const mod = readFileSync(join(b, 'mod.txt'));
  tear(b, 'mod.txt', mod.subarray(0, 17)); // a prefix
  tear(b, 'new1.txt', Buffer.alloc(0)); // nothing
  tear(b, 'sub/deep.txt', Buffer.alloc(readFileSync(join(b, 'sub/deep.txt')).length)); // zeros, same size
  rmSync(join(b, 'new2.txt')); // a new name that never reached the disk
  rmSync(join(b, 'newdir'), { recursive: true }); // a new directory, with what the run put in it
  // the run moved gone.txt into the trash; the rename is undone: the old version is back at its path
  writeFileSync(join(b, 'gone.txt'), 'to be deleted\n');
  utimesSync(join(b, 'gone.txt'), 1_600_000_000, 1_600_000_000);
}

/**
 * Where B is, and what restarts: this machine (B local), or the far machine of a remote B (reached through the
 * ssh stand-in, which runs the agent here with the environment it is given: the boot id is replaced for the
 * agent alone, this machine's stays real, so only the far machine's restart can be what the run notices).
 */
const WHERE = [
  { name: 'B local', remote: false, restarted: 'the machine restarted' },
  { name: 'B remote, the far machine restarting', remote: true, restarted: 'the remote machine restarted' },
] as const;

describe.skipIf(!ENABLED)('a power cut after a run that owed its flush', () => {
  for (const where of WHERE)
    for (const mode of ['one-way', 'two-way --conflict left', 'two-way (keep-both)'] as const) {
      it(`${where.name}, ${mode}: the restart is noticed, no torn file is taken for an edit, nothing is lost, and the pair converges`, () => {
        const dir = makeTempDir('tsync-powercut-');
        try {
          const [a, b, state] = ['A', 'B', 'state'].map((n) => join(dir, n)) as [string, string, string];
          const rootB = where.remote ? `127.0.0.1:${b}` : b;
          // TSYNC_TIMINGS says whether the run walked B's partner while ssh connected (a profiling aid, read here only)
          const cache = { XDG_CACHE_HOME: join(dir, 'cache'), TSYNC_TIMINGS: '1' };
          mkdirSync(join(a, 'sub'), { recursive: true });
          mkdirSync(b);
          writeFileSync(join(a, 'keep.txt'), GOOD['keep.txt'] ?? '');
          writeFileSync(join(a, 'mod.txt'), 'old mod\n');
          writeFileSync(join(a, 'sub/deep.txt'), 'old deep\n');
          writeFileSync(join(a, 'gone.txt'), 'to be deleted\n');
          utimesSync(join(a, 'gone.txt'), 1_600_000_000, 1_600_000_000);
          const modeArgs = mode === 'one-way' ? ['--one-way'] : mode === 'two-way --conflict left' ? ['--conflict', 'left'] : [];
          // The far machine's boot id, for the agent alone: a wrapper around the stand-in reads it from a file the
          // test writes, so the ssh command stays the same text (the memo of the far root is kept per command)
          const farBootId = join(dir, 'far-boot-id');
          const ssh = join(dir, 'ssh-far.sh');
          writeFileSync(ssh, `#!/bin/sh\n[ -f ${farBootId} ] && export TSYNC_TEST_ONLY_BOOT_ID="$(cat ${farBootId})"\nexec ${standinSsh} "$@"\n`, { mode: 0o755 });
          const sshOf = (env: Record<string, string>): string[] => {
            if (!where.remote) return [];
            const bootId = env.TSYNC_TEST_ONLY_BOOT_ID;
            if (bootId === undefined) rmSync(farBootId, { force: true });
            else writeFileSync(farBootId, bootId);
            return ['--no-xattrs', '--ssh', ssh];
          };
          const sync = (env: Record<string, string> = {}, ...extra: string[]) =>
            runCli(['sync', ...modeArgs, ...extra, ...sshOf(env), '--state-dir', state, a, rootB], { env: where.remote ? cache : env, timeoutMs: 60_000 });
          // the baseline, flushed and settled
          expect(sync({}, '--flush-now').code).toBe(0);
          // edits on A only, so that the run writes B only
          for (const [p, c] of Object.entries(GOOD)) {
            mkdirSync(join(a, p, '..'), { recursive: true });
            writeFileSync(join(a, p), c);
          }
          rmSync(join(a, 'gone.txt'));
          const owing = sync();
          expect(owing.code, owing.stderr).toBe(0);
          expect(sorted(treeOf(b))).toEqual(sorted(expectedTree()));

          powerCut(b);
          const after = { TSYNC_TEST_ONLY_BOOT_ID: 'simulated-boot-after-a-power-cut' };
          const r = sync(after, '-v');
          expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);

          // remote: the far part of the settling waited for ssh while A was walked on the unsettled base
          // (sync/pair.ts settleFarPart), and the rows it then took back were not acted on
          if (where.remote) expect(r.stderr).toContain('the local root walked meanwhile');
          const treeA = treeOf(a);
          expect(treeA.has('gone.txt'), 'the deletion is carried out again, not undone').toBe(false);
          if (mode === 'two-way (keep-both)') {
            // No history and differing contents: the policy keeps both. With the torn file's mtime as new as the
            // good one's, either may keep the name (README: a fixed content tie-break), as after a power cut in
            // the middle of a run; the good version must be on both sides, at its path or as a conflict copy.
            expect(sorted(treeOf(b))).toEqual(sorted(treeA));
            for (const [p, c] of Object.entries(GOOD)) {
              const stem = p.replace(/\.txt$/, '');
              for (const [side, tree] of [
                ['A', treeA],
                ['B', treeOf(b)],
              ] as const)
                expect(
                  [...tree].some(([q, qc]) => (q === p || q.startsWith(`${stem}.tsync-conflict-`)) && qc === c),
                  `${side} holds the good ${p}\n${r.stdout}`,
                ).toBe(true);
            }
          } else {
            // A, the side that was never torn, keeps every good version at its path
            for (const [p, c] of Object.entries(GOOD)) expect(treeA.get(p), `A:${p}\n${r.stdout}`).toBe(c);
            // one way, or the good side winning conflicts: both trees hold exactly the good versions again
            expect(sorted(treeA)).toEqual(sorted(expectedTree()));
            expect(sorted(treeOf(b))).toEqual(sorted(expectedTree()));
          }

          // said once: the restart, how many rows lost their history, the one deletion checked again
          expect(r.stderr).toMatch(
            new RegExp(
              `warning: the last run's writes may not have reached the disk \\(${where.restarted} before they were flushed\\): \\d+ paths it recorded are compared afresh, without history, and 1 deletions are checked again`,
            ),
          );

          const again = sync(after, '-v');
          expect(again.code, again.stderr).toBe(0);
          expect(again.stdout).toMatch(/^0 copied, 0 dirs created, 0 deleted, 0 metadata updates, 0 B$/m);
          expect(again.stderr).not.toMatch(/warning/);
        } finally {
          removeTempDir(dir);
        }
      });
    }
});
