// Runs the BUILT CLI (bin/tsync.js -> dist/) as a real child process, and gives each test its own temp
// sandbox. No mocks: every assertion in test/e2e is about what a real process did to a real tree.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
export const binPath = join(projectRoot, 'bin', 'tsync.js');

export interface CliResult {
  /** Exit code, or null when the process was killed by a signal (see `signal`). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Added to (or, with `undefined`, removed from) the child's environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Kill the child after this long: a hanging run must fail the test, not the suite. */
  readonly timeoutMs?: number;
  readonly cwd?: string;
  /** Run as this unprivileged uid/gid (through setpriv; the caller must be root). */
  readonly asUser?: { readonly uid: number; readonly gid: number };
}

/** HOME for the child unless a test sets one: a test that forgets `--state-dir` must not write to the real ~. */
const SCRATCH_HOME = join(tmpdir(), 'tsync-e2e-home');

/** The child's environment: ours, minus anything that could point tsync at a shared state dir. */
function childEnv(extra: RunOptions['env']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: SCRATCH_HOME };
  delete env.TSYNC_STATE_DIR;
  delete env.XDG_STATE_HOME;
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** The command line that runs `tsync args...`, optionally as another user. */
export function cliCommand(args: readonly string[], asUser?: RunOptions['asUser']): { file: string; argv: string[] } {
  if (asUser === undefined) return { file: process.execPath, argv: [binPath, ...args] };
  return {
    file: 'setpriv',
    argv: [`--reuid=${asUser.uid}`, `--regid=${asUser.gid}`, '--clear-groups', process.execPath, binPath, ...args],
  };
}

/** Runs `tsync args...` to completion. */
export function runCli(args: readonly string[], opts: RunOptions = {}): CliResult {
  const { file, argv } = cliCommand(args, opts.asUser);
  const r = spawnSync(file, argv, {
    cwd: opts.cwd ?? projectRoot,
    env: childEnv(opts.env),
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30_000,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error !== undefined && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `tsync args...` and SIGKILLs it after `killAfterMs` (or when `killWhen` first returns true). */
export async function runCliAndKill(args: readonly string[], killAfterMs: number, killWhen?: () => boolean): Promise<{ killed: boolean; code: number | null }> {
  const { file, argv } = cliCommand(args);
  const child = spawn(file, argv, { cwd: projectRoot, env: childEnv({}), stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const started = Date.now();
  // Poll often: a condition-triggered kill must land while the copy is still running.
  while (!done && Date.now() - started < killAfterMs && !(killWhen?.() ?? false)) {
    await new Promise((r) => setTimeout(r, 2));
  }
  const killed = !done && child.kill('SIGKILL');
  const code = await exited;
  return { killed, code };
}

/** Output as lines, without the empty string after the final newline. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l, i, all) => !(l === '' && i === all.length - 1));
}

export function makeTempDir(prefix = 'tsync-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Removes a temp tree even where a test left directories without write/search permission. */
export function removeTempDir(dir: string): void {
  makeRemovable(dir);
  rmSync(dir, { recursive: true, force: true });
}

// Takes bytes: a directory whose name is not UTF-8 can only be reached through a Buffer path.
function makeRemovable(dir: string | Buffer): void {
  try {
    chmodSync(dir, 0o700);
    for (const name of readdirSync(dir, { encoding: 'buffer' })) {
      const child = Buffer.concat([Buffer.from(dir), Buffer.from('/'), name]);
      if (lstatSync(child).isDirectory()) makeRemovable(child);
    }
  } catch {
    // best effort: rmSync reports what really cannot be removed
  }
}

export interface Sandbox {
  /** The sandbox's own temp dir; everything below is removed when the test finishes. */
  readonly dir: string;
  /** The source root (created, empty). */
  readonly src: string;
  /** The destination root (not created: tsync creates it). */
  readonly dst: string;
  /** This test's state dir (not created: tsync creates it). */
  readonly state: string;
  /** `tsync sync --one-way --state-dir STATE [extra...] SRC DST` */
  readonly sync: (...extra: string[]) => CliResult;
}

/** A fresh sandbox for the current test, removed when the test finishes (pass or fail). */
export function sandbox(): Sandbox {
  const dir = makeTempDir();
  onTestFinished(() => removeTempDir(dir));
  const src = join(dir, 'src');
  const dst = join(dir, 'dst');
  const state = join(dir, 'state');
  mkdirSync(src);
  return {
    dir,
    src,
    dst,
    state,
    sync: (...extra) => runCli(['sync', '--one-way', '--state-dir', state, ...extra, src, dst]),
  };
}
