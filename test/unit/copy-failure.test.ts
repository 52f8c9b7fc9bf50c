// A copy's error crosses from the copy worker thread to the main thread as plain data (engine/copy-failure.ts):
// each class that decides an outcome (execute.ts failure) must come back as itself, with its message and code.
import { describe, expect, it } from 'vitest';
import { failureFromWire, failureToWire } from '../../src/engine/copy-failure.js';
import { SourceChangedError, SourceReadError } from '../../src/engine/copy-file.js';
import { StaleTargetError, UnsafePathError } from '../../src/engine/guards.js';
import { errCode } from '../../src/fs/stat.js';

/** Through the wire and a structured clone, as postMessage carries it. */
function roundTrip(e: unknown): Error {
  return failureFromWire(structuredClone(failureToWire(e)));
}

describe('copy failures across threads', () => {
  it('keeps the classes execute.ts tells apart, with their messages', () => {
    const cases: [Error, new (...args: never[]) => Error][] = [
      [new StaleTargetError('a.txt: changed since the scan'), StaleTargetError],
      [new UnsafePathError('sub became a symlink since the scan'), UnsafePathError],
      [new SourceChangedError('a.txt: the source changed while it was copied'), SourceChangedError],
    ];
    for (const [e, cls] of cases) {
      const back = roundTrip(e);
      expect(back).toBeInstanceOf(cls);
      expect(back.message).toBe(e.message);
    }
  });

  it("keeps a source read error's errno (vanished or unreadable)", () => {
    const back = roundTrip(new SourceReadError('a.txt: cannot read (ENOENT)', 'ENOENT'));
    expect(back).toBeInstanceOf(SourceReadError);
    expect((back as SourceReadError).errno).toBe('ENOENT');
    expect(back.message).toBe('a.txt: cannot read (ENOENT)');
  });

  it('keeps the code of a system error, and none where there was none', () => {
    const sys = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const back = roundTrip(sys);
    expect(errCode(back)).toBe('ENOSPC');
    expect(back.message).toBe(sys.message);
    expect(errCode(roundTrip(new Error('something else')))).toBe('EUNKNOWN');
    expect(roundTrip('not even an error').message).toBe('not even an error');
  });
});
