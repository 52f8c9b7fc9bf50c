// `tsync watch` with a remote root over a real OpenSSH server on 127.0.0.1 (test/helpers/sshd.ts): the built CLI
// runs as a child, the far side is the agent bundle started through sshd, both trees are real directories. A
// change on either side must arrive through the watchers' hints (the periodic rescan is set to an hour here, so
// it cannot be what carried it); ignore files of both sides apply to what a rescan of the far side finds; and
// the ssh connection dying ends the watch with exit 6 and one line. Deadlines are generous (a loaded machine),
// and nothing asserts on latency.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { binPath, makeTempDir, removeTempDir, runCli } from '../helpers/cli.js';
import { remoteSide } from '../helpers/remote-side.js';
import { type Sshd, startSshd } from '../helpers/sshd.js';
import { until, readOrNull as read } from '../helpers/wait.js';

const servers: Sshd[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

interface Watching {
  readonly a: string;
  readonly b: string;
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly out: () => string;
  readonly err: () => string;
  readonly exited: Promise<number | null>;
  readonly sshCommand: string;
}

/** `tsync watch [flags] <left> <right>` where one root is `127.0.0.1:/abs/path` through a fresh sshd; `remote` says which. */
async function startRemoteWatch(remote: 'left' | 'right', flags: string[], prepare?: (a: string, b: string) => void): Promise<Watching> {
  const side = remoteSide();
  const sshd = await startSshd({ env: { PATH: side.env.PATH, XDG_CACHE_HOME: side.env.XDG_CACHE_HOME } });
  servers.push(sshd);
  const dir = makeTempDir('tsync-rwatch-');
  const a = join(dir, 'A');
  const b = join(dir, 'B');
  mkdirSync(a);
  mkdirSync(b);
  prepare?.(a, b);
  const roots = remote === 'right' ? [a, `127.0.0.1:${b}`] : [`127.0.0.1:${a}`, b];
  const args = [binPath, 'watch', '--json', '--state-dir', join(dir, 'state'), '--rescan-interval', '3600', '--ssh', sshd.sshCommand, ...flags, ...roots];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  onTestFinished(async () => {
    child.kill('SIGKILL');
    await exited;
    removeTempDir(dir);
  });
  await until(
    () => out.includes('"type":"ready"') || child.exitCode !== null,
    60_000,
    () => `watch never became ready: ${out}${err}`,
  );
  if (!out.includes('"type":"ready"')) throw new Error(`watch ended before it was ready: ${out}${err}`);
  return { a, b, child, out: () => out, err: () => err, exited, sshCommand: sshd.sshCommand };
}

/** Waits until `rel` under `to` holds `text`. */
async function arrives(w: Watching, to: string, rel: string, text: string, timeoutMs = 20_000): Promise<void> {
  await until(
    () => read(join(to, rel)) === text,
    timeoutMs,
    () => `${rel} never reached ${to}: ${w.out()}${w.err()}`,
  );
}

/**
 * Kills the ssh client below the tsync child (its connection to the agent) once the watch is idle: the last cycle
 * over and its batch persisted (a second after the cycle; persisting flushes the far side, which would notice the loss too).
 * Resolves to the exit code, or 'still running' a minute later.
 */
async function cutTheLink(w: Watching): Promise<number | null | 'still running'> {
  await until(
    () => /"type":"cycle","full":false/.test(w.out()),
    20_000,
    () => `no dirty cycle finished: ${w.out()}${w.err()}`,
  );
  await new Promise((r) => setTimeout(r, 2500));
  const ssh = sshDescendants(w.child.pid as number);
  expect(ssh.length).toBeGreaterThan(0);
  for (const pid of ssh) process.kill(pid, 'SIGKILL');
  return Promise.race([w.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 60_000))]);
}

/** The ssh client processes below `pid` (the tsync child's connection to the agent). */
function sshDescendants(pid: number): number[] {
  const found: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    let children: number[] = [];
    try {
      children = readdirSync(`/proc/${p}/task`).flatMap((t) =>
        readFileSync(`/proc/${p}/task/${t}/children`, 'utf8')
          .split(' ')
          .filter((s) => s !== '')
          .map(Number),
      );
    } catch {
      // gone meanwhile
    }
    for (const c of children) {
      if (read(`/proc/${c}/comm`)?.trim() === 'ssh') found.push(c);
      stack.push(c);
    }
  }
  return found;
}

describe('tsync watch with a remote root (real sshd)', () => {
  it('two-way: a change on the remote side reaches the local one and back, through hints, with both sides ignore files', { timeout: 180_000 }, async () => {
    const w = await startRemoteWatch('right', [], (a, b) => {
      writeFileSync(join(b, 'before.txt'), 'was on B\n');
      writeFileSync(join(b, '.tsyncignore'), 'remote-secret*\n');
      writeFileSync(join(a, '.tsyncignore'), 'local-secret*\n');
    });
    expect(read(join(w.a, 'before.txt'))).toBe('was on B\n');

    writeFileSync(join(w.b, 'from-remote.txt'), 'made on B\n');
    await arrives(w, w.a, 'from-remote.txt', 'made on B\n');

    writeFileSync(join(w.a, 'from-local.txt'), 'made on A\n');
    await arrives(w, w.b, 'from-local.txt', 'made on A\n');

    // a new nested directory on the far side: its hint names the top, the agent's rescan walks the subtree
    mkdirSync(join(w.b, 'x/y/z'), { recursive: true });
    writeFileSync(join(w.b, 'x/y/z/deep.txt'), 'deep on B\n');
    await arrives(w, w.a, 'x/y/z/deep.txt', 'deep on B\n');
    // and its removal: what the rescan of the far side no longer finds below x is gone there
    rmSync(join(w.b, 'x'), { recursive: true });
    await until(
      () => !existsSync(join(w.a, 'x')),
      20_000,
      () => `the removal of x never reached A: ${w.out()}${w.err()}`,
    );

    // Either side's ignore file hides a path on both sides, in a rescan as in the full scan. The marker written
    // after the hidden files arrives in the same or a later cycle than they were looked at.
    writeFileSync(join(w.b, 'remote-secret.txt'), 'B keeps this\n');
    writeFileSync(join(w.b, 'local-secret.txt'), 'B keeps this too\n');
    writeFileSync(join(w.a, 'remote-secret-2.txt'), 'A keeps this\n');
    writeFileSync(join(w.b, 'marker-1.txt'), 'after\n');
    writeFileSync(join(w.a, 'marker-2.txt'), 'after\n');
    await arrives(w, w.a, 'marker-1.txt', 'after\n');
    await arrives(w, w.b, 'marker-2.txt', 'after\n');
    expect([read(join(w.a, 'remote-secret.txt')), read(join(w.a, 'local-secret.txt')), read(join(w.b, 'remote-secret-2.txt'))]).toEqual([null, null, null]);

    // the agent holds its root's lock for the whole watch: another pair syncing into B waits its turn (exit 5)
    const elsewhere = makeTempDir('tsync-rwatch-other-');
    onTestFinished(() => removeTempDir(elsewhere));
    const other = runCli(['sync', '--state-dir', join(elsewhere, 'state'), '--ssh', w.sshCommand, elsewhere, `127.0.0.1:${w.b}`], { timeoutMs: 60_000 });
    expect(other.code, other.stderr).toBe(5);

    // the rescan interval is an hour: only hints can have carried these
    expect(w.out().match(/"type":"cycle","full":true/g)?.length).toBe(1);

    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  });

  it('one-way from a remote source: its changes arrive; killing the ssh connection ends watch with exit 6 and one line', { timeout: 180_000 }, async () => {
    const w = await startRemoteWatch('left', ['--one-way'], (a) => writeFileSync(join(a, 'before.txt'), 'was on A\n'));
    expect(read(join(w.b, 'before.txt'))).toBe('was on A\n');

    writeFileSync(join(w.a, 'live.txt'), 'made on remote A\n');
    await arrives(w, w.b, 'live.txt', 'made on remote A\n');

    expect(await cutTheLink(w)).toBe(6);
    const lines = w.err().trim().split('\n');
    expect(lines.length, w.err()).toBe(1);
    expect(lines[0]).toMatch(/remote/i);
  });

  it('one-way to a remote destination: a local change arrives on the far side; the lost link ends it with exit 6', { timeout: 180_000 }, async () => {
    const w = await startRemoteWatch('right', ['--one-way']);
    writeFileSync(join(w.a, 'pushed.txt'), 'from local A\n');
    await arrives(w, w.b, 'pushed.txt', 'from local A\n');
    // the destination is not watched, but its session still is: an idle watch notices the loss too
    expect(await cutTheLink(w)).toBe(6);
    expect(w.err().trim().split('\n').length, w.err()).toBe(1);
  });
});
