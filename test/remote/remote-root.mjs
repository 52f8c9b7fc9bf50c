#!/usr/bin/env node
// Runs the built CLI with one of its two roots (the last two arguments) turned into a remote root on
// this machine, reached over the test sshd: `node remote-root.mjs right sync --one-way A B` runs
// `tsync sync --one-way --ssh "$TSYNC_TEST_SSH" A 127.0.0.1:/abs/B`. The public conformance suite calls
// it as its command prefix, so that every case runs with B (or A) remote.
//
// TSYNC_TEST_SSH: the --ssh command (the harness's, with its throwaway key); TSYNC_TEST_SSH_UNPRIVILEGED
// the same for a run as another user (the suite's unreadable-file cases run the command as uid 65534,
// who cannot read root's key). TSYNC_TEST_HOST: default 127.0.0.1.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const [side, ...rest] = process.argv.slice(2);
if ((side !== 'left' && side !== 'right') || rest.length < 2) {
  console.error('usage: remote-root.mjs left|right <tsync arguments> A B');
  process.exit(2);
}
const ssh = process.getuid?.() === 0 ? process.env.TSYNC_TEST_SSH : (process.env.TSYNC_TEST_SSH_UNPRIVILEGED ?? process.env.TSYNC_TEST_SSH);
if (ssh === undefined || ssh === '') {
  console.error('remote-root.mjs: TSYNC_TEST_SSH is not set');
  process.exit(2);
}
const host = process.env.TSYNC_TEST_HOST ?? '127.0.0.1';
const roots = rest.slice(-2).map((r) => resolve(r));
const i = side === 'left' ? 0 : 1;
roots[i] = `${host}:${roots[i]}`;
const cli = fileURLToPath(new URL('../../bin/tsync.js', import.meta.url));
const child = spawn(process.execPath, [cli, ...rest.slice(0, -2), '--ssh', ssh, ...roots], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
