// The far side's environment for the remote-root tests: a PATH made of a temp bin dir (node, and a tsync when the
// test wants one) plus the system dirs, a HOME and an XDG_CACHE_HOME of its own. The stand-in ssh passes it on as its
// environment; the real sshd gives it to its sessions through SetEnv (test/helpers/sshd.ts).
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { binPath, makeTempDir, projectRoot, removeTempDir } from './cli.js';

export const bundlePath = join(projectRoot, 'dist', 'agent', 'tsync-agent.mjs');
export const standinSsh = join(projectRoot, 'test', 'helpers', 'ssh-standin.sh');

export interface RemoteSide {
  readonly dir: string;
  /** First on the remote PATH. */
  readonly bin: string;
  readonly cache: string;
  /** The bundle cache dir the bootstrap uses: $XDG_CACHE_HOME/tsync. */
  readonly agentCache: string;
  /** PATH, HOME, XDG_CACHE_HOME. */
  readonly env: { readonly PATH: string; readonly HOME: string; readonly XDG_CACHE_HOME: string };
  /** Puts an executable sh script named `name` first on the PATH. */
  addScript(name: string, body: string): string;
  /** Puts a `tsync` on the PATH that runs this checkout's built CLI and logs each call's arguments to `log`. */
  addRealTsync(): { log: string };
}

/** A fresh far side, removed when the test finishes. */
export function remoteSide(): RemoteSide {
  const dir = makeTempDir('tsync-remote-');
  onTestFinished(() => removeTempDir(dir));
  const bin = join(dir, 'bin');
  const cache = join(dir, 'cache');
  mkdirSync(bin);
  // node by a link, not by its install dir, which may hold a tsync of its own (npm -g)
  symlinkSync(process.execPath, join(bin, 'node'));
  const env = { PATH: `${bin}:/usr/bin:/bin`, HOME: join(dir, 'home'), XDG_CACHE_HOME: cache };
  mkdirSync(env.HOME);
  const addScript = (name: string, body: string): string => {
    const path = join(bin, name);
    // unlink first: `node` is a link to the real binary, and writing through it would replace Node itself
    rmSync(path, { force: true });
    writeFileSync(path, `#!/bin/sh\n${body}\n`, { flag: 'wx' });
    chmodSync(path, 0o755);
    return path;
  };
  return {
    dir,
    bin,
    cache,
    agentCache: join(cache, 'tsync'),
    env,
    addScript,
    addRealTsync: () => {
      const log = join(dir, 'tsync-calls.log');
      addScript('tsync', `echo "$*" >>${log}\nexec node ${binPath} "$@"`);
      return { log };
    },
  };
}
