// EarlyWriteback on real descriptors: a FIFO, where fdatasync fails (EINVAL), shows when a writeback starts
// and that its failure reaches the writer; a regular file shows the quiet path. Nothing is mocked.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EarlyWriteback } from '../../src/engine/early-writeback.js';
import { makeTempDir, removeTempDir } from '../helpers/cli.js';

const dirs: string[] = [];
const fds: number[] = [];
afterEach(() => {
  for (const fd of fds.splice(0)) closeSync(fd);
  for (const d of dirs.splice(0)) removeTempDir(d);
});

function dir(): string {
  const d = makeTempDir('tsync-writeback-');
  dirs.push(d);
  return d;
}

/** A FIFO opened read-write (Linux: no reader needed): fdatasync on it is EINVAL. */
function fifo(): number {
  const path = join(dir(), 'p');
  execFileSync('mkfifo', [path]);
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  fds.push(fd);
  return fd;
}

describe('early writeback', () => {
  it('starts no writeback before `every` bytes', async () => {
    const w = new EarlyWriteback(fifo(), 10);
    w.wrote(4);
    w.wrote(5);
    await expect(w.settled()).resolves.toBeUndefined();
  });

  it('starts one once `every` bytes were written, and its failure reaches the writer', async () => {
    const w = new EarlyWriteback(fifo(), 10);
    w.wrote(4);
    w.wrote(6);
    await expect(w.settled()).rejects.toMatchObject({ code: 'EINVAL', syscall: 'fdatasync' });
    // abandoning the write only waits
    await expect(w.quiet()).resolves.toBeUndefined();
  });

  it('flushes a regular file as it grows, without error', async () => {
    const fd = openSync(join(dir(), 'f'), 'w');
    fds.push(fd);
    const w = new EarlyWriteback(fd, 1024);
    const chunk = Buffer.alloc(1000, 7);
    for (let i = 0; i < 8; i++) {
      writeSync(fd, chunk);
      w.wrote(chunk.length);
    }
    await expect(w.settled()).resolves.toBeUndefined();
  });
});
