// The private stage a large file's kernel copy writes into (engine/staged-copy.ts), on a real temp directory.
import { chmodSync, closeSync, linkSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyInto, makeStage, STAGED_FILE_NAME } from '../../src/engine/staged-copy.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsync-stage-'));
  dirs.push(d);
  return d;
}

describe('a copy stage', () => {
  it('is a fresh directory with a temp name, mode 0700 whatever the umask, owned by the user running tsync', () => {
    const dir = tempDir();
    const old = process.umask(0o077 | 0o200); // a umask that would take the owner's own write bit
    try {
      const stage = makeStage(Buffer.from(dir), 'big.bin');
      const [name] = readdirSync(dir);
      expect(name).toMatch(/^\.tsync-tmp-\d+-s/);
      const st = statSync(join(dir, name ?? ''));
      expect(st.isDirectory()).toBe(true);
      expect(st.mode & 0o7777).toBe(0o700);
      expect(st.uid).toBe(process.geteuid?.());
      stage.remove();
      stage.remove(); // a second call does nothing (its descriptor is not closed twice)
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      process.umask(old);
    }
  });

  it('receives the copy, with the source mode (setuid included) only inside it, and is gone after remove()', async () => {
    const dir = tempDir();
    const source = join(tempDir(), 'big.bin');
    writeFileSync(source, Buffer.alloc(3 << 20, 7));
    chmodSync(source, 0o4755);
    const fd = openSync(source, 'r');
    try {
      const stage = makeStage(Buffer.from(dir), 'big.bin');
      const fh = await copyInto(stage, fd);
      await fh.close();
      const [name] = readdirSync(dir);
      const staged = join(dir, name ?? '', STAGED_FILE_NAME);
      expect(readFileSync(staged).equals(readFileSync(source))).toBe(true);
      // libuv gives the new file the source's mode: why it is made where nobody else can reach it
      expect(statSync(staged).mode & 0o7777).toBe(0o4755);
      expect(statSync(join(dir, name ?? '')).mode & 0o777).toBe(0o700);
      stage.remove();
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      closeSync(fd);
    }
  });

  it('never writes into a file that is already there (COPYFILE_EXCL: created, not truncated): the copy fails and the stage is removed', async () => {
    const dir = tempDir();
    const source = join(tempDir(), 'src.bin');
    writeFileSync(source, 'new content\n');
    const fd = openSync(source, 'r');
    try {
      const stage = makeStage(Buffer.from(dir), 'big.bin');
      const [name] = readdirSync(dir);
      const planted = join(dir, name ?? '', STAGED_FILE_NAME);
      writeFileSync(planted, 'was here first\n');
      const witness = join(tempDir(), 'witness'); // a second name of the planted inode, outside the stage
      linkSync(planted, witness);
      await expect(copyInto(stage, fd)).rejects.toMatchObject({ code: 'EEXIST' });
      expect(readFileSync(witness, 'utf8')).toBe('was here first\n');
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      closeSync(fd);
    }
  });
});
