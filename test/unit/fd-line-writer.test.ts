// fdLineWriter (src/cli/io.ts): one-shot commands write their lines straight to fd 1 and 2. Real pipes here (named
// pipes in a temp dir, opened non-blocking so that a full or readerless pipe answers at once instead of hanging
// the test): a full pipe is waited on, not failed; a pipe whose reader is gone stops the writer quietly, once; a full
// disk (/dev/full) stops it too, and is told once (main.ts then says so and exits 1).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fdLineWriter } from '../../src/cli/io.js';
import { makeTempDir, removeTempDir } from '../helpers/cli.js';

let dir = '';
beforeEach(() => {
  dir = makeTempDir('tsync-fd-writer-');
});
afterEach(() => {
  removeTempDir(dir);
});

/** A named pipe with a reader end held open here (so that the writer end opens non-blocking) and a writer end. */
function fifoPair(): { path: string; reader: number; writer: number } {
  const path = join(dir, 'fifo');
  const made = spawnSync('mkfifo', [path]);
  if (made.status !== 0) throw new Error(`mkfifo: ${made.stderr.toString()}`);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  return { path, reader, writer };
}

describe('fdLineWriter', () => {
  it('waits out a full non-blocking pipe (EAGAIN) until a reader drains it, and loses nothing', async () => {
    const { path, reader, writer } = fifoPair();
    const out = join(dir, 'out');
    // a second reader that starts late: until then the 64 KiB pipe is full and every write says EAGAIN
    const cat = spawn('sh', ['-c', 'sleep 0.3; exec cat "$0" > "$1"', path, out], { stdio: 'ignore' });
    const catDone = new Promise<number | null>((resolve) => cat.on('close', resolve));
    const line = 'x'.repeat(1023);
    const write = fdLineWriter(writer);
    for (let i = 0; i < 1024; i++) write(line); // 1 MiB, sixteen times the pipe's buffer
    closeSync(writer);
    closeSync(reader);
    expect(await catDone).toBe(0);
    const got = readFileSync(out, 'utf8');
    expect(got.length).toBe(1024 * 1024);
    expect(got).toBe(`${line}\n`.repeat(1024));
  });

  it('stops quietly at the first EPIPE, tells once that the reader is gone, and writes nothing after', () => {
    const { reader, writer } = fifoPair();
    closeSync(reader); // the only reader: writes now fail with EPIPE
    let gone = 0;
    const write = fdLineWriter(writer, () => {
      gone++;
    });
    expect(() => {
      write('first');
      write('second');
      write('third');
    }).not.toThrow();
    expect(gone).toBe(1);
    closeSync(writer);
  });

  it.skipIf(!existsSync('/dev/full'))('stops at any other error (ENOSPC), tells onFailure once, throws nothing, writes nothing after', () => {
    const full = openSync('/dev/full', 'w');
    const failures: string[] = [];
    let gone = 0;
    const write = fdLineWriter(
      full,
      () => {
        gone++;
      },
      (e) => {
        failures.push(e.code ?? '');
      },
    );
    expect(() => {
      write('first');
      write('second');
    }).not.toThrow();
    expect({ failures, gone }).toEqual({ failures: ['ENOSPC'], gone: 0 });
    closeSync(full);
  });
});
