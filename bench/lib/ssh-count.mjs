#!/usr/bin/env node
// A counting relay in front of ssh, for bench/remote.mjs: `node ssh-count.mjs COUNT_FILE ssh [ssh args...]`, used as
// tsync's --ssh and rsync's -e (both append `host command` to it). It runs the real ssh with its stdin and stdout
// passed through and, when ssh ends, appends one line `UP DOWN` to COUNT_FILE: the bytes that went into ssh's stdin
// (local -> remote: what the local side sent) and came out of its stdout (remote -> local). Both tools get the same
// relay, so its cost and what it counts are the same for each: the payload on the pipe, before ssh's own
// encryption and framing.
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';

const [countFile, sshFile, ...sshArgs] = process.argv.slice(2);
if (countFile === undefined || sshFile === undefined) {
  process.stderr.write('usage: ssh-count.mjs COUNT_FILE SSH [ARGS...]\n');
  process.exit(2);
}

let up = 0;
let down = 0;
const ssh = spawn(sshFile, sshArgs, { stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.on('data', (/** @type {Buffer} */ chunk) => {
  up += chunk.length;
});
ssh.stdout.on('data', (/** @type {Buffer} */ chunk) => {
  down += chunk.length;
});
process.stdin.pipe(ssh.stdin);
ssh.stdout.pipe(process.stdout);
// the local program may close its end first: ssh then sees EOF (as without the relay), and a write after its exit is no error
ssh.stdin.on('error', () => undefined);
ssh.on('close', (code, signal) => {
  appendFileSync(countFile, `${up} ${down}\n`);
  process.stdin.destroy();
  process.stdout.write('', () => process.exit(code ?? (signal === null ? 1 : 128)));
});
