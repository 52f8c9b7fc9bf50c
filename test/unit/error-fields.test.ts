// An engine error crosses as plain fields (engine/error-fields.ts): from the copy worker thread to the main
// thread (a structured clone), and from the remote agent to the client (the wire's codec). Either way each
// class that decides an outcome (execute.ts failure) must come back as itself, with its message and fields.
import { describe, expect, it } from 'vitest';
import { SourceChangedError, SourceReadError } from '../../src/engine/copy-file.js';
import { errorFromFields, errorToFields } from '../../src/engine/error-fields.js';
import { StaleTargetError, UnsafePathError } from '../../src/engine/guards.js';
import { errCode } from '../../src/fs/stat.js';
import { engineErrorFromWire, shapeForWire } from '../../src/remote/engine-errors.js';
import { decodeValue, encodeValue } from '../../src/remote/value-codec.js';
import { errorToWire, wireErrorFrom } from '../../src/remote/wire-error.js';
import { wire } from '../../src/remote/wire-shapes.js';

/** Through a structured clone, as the copy worker's postMessage carries it. */
function acrossThreads(e: unknown): Error {
  return errorFromFields(structuredClone(errorToFields(e)));
}

/** Through the agent's shaping, the wire codec and the client's reconstruction. */
function acrossTheWire(e: unknown): Error {
  const fields = wireErrorFrom(decodeValue(encodeValue(wire(errorToWire(shapeForWire(e))))));
  if (fields === undefined) throw new Error('the wire fields did not decode');
  return engineErrorFromWire(fields, 'readBatch');
}

describe.each([
  ['across threads', acrossThreads],
  ['across the wire', acrossTheWire],
])('engine errors %s', (_how, roundTrip) => {
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

  it('keeps the code of a system error', () => {
    const sys = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const back = roundTrip(sys);
    expect(errCode(back)).toBe('ENOSPC');
    expect(back.message).toBe(sys.message);
  });
});

describe('other errors across threads', () => {
  it('come back with no code where there was none', () => {
    expect(errCode(acrossThreads(new Error('something else')))).toBe('EUNKNOWN');
    expect(acrossThreads('not even an error').message).toBe('not even an error');
  });
});
