// Whether a pid still runs (fs/process-alive.ts), on real processes: this one, one that exited, and a zombie,
// which answers kill(pid, 0) but holds nothing; and what that means for a temp file named after it.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isRunning } from '../../src/fs/process-alive.js';
import { isOwnName } from '../../src/core/paths.js';
import { isLeftoverTemp, isTempName, keptName } from '../../src/fs/temp-name.js';
import { makeZombie } from '../helpers/zombie.js';

function exitedPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

describe('isRunning', () => {
  it('is true for a live process and false for one that exited', () => {
    expect(isRunning(process.pid)).toBe(true);
    expect(isRunning(exitedPid())).toBe(false);
    expect(isLeftoverTemp(`.tsync-tmp-${process.ppid}-1`)).toBe(false);
  });

  it.skipIf(process.platform !== 'linux')('is false for a zombie, whose temp files are leftovers', async () => {
    const zombie = await makeZombie();
    try {
      expect(isRunning(zombie.pid)).toBe(false);
      expect(isLeftoverTemp(`.tsync-tmp-${zombie.pid}-1`)).toBe(true);
    } finally {
      zombie.end();
    }
  });
});

describe('a kept name (engine/copy-file.ts keptAside)', () => {
  it("is one of tsync's own names, never a temp name, so no run removes it even once its writer is gone", () => {
    const name = keptName();
    expect(isOwnName(name)).toBe(true);
    expect(isTempName(name)).toBe(false);
    const ofExited = name.replace(String(process.pid), String(exitedPid()));
    expect(isLeftoverTemp(ofExited)).toBe(false);
    expect(keptName()).not.toBe(name);
  });
});
