import { describe, expect, it } from 'vitest';
import type { RelPath } from '../../src/core/types.js';
import { bytesOfPaths, PathBytes, PathBytesError, PathReader, pathsOfBytes } from '../../src/scan/path-bytes.js';

// Paths are binary strings (core/types.ts): every char one byte, so names that are not UTF-8 are chars 0x80-0xFF.
const NOT_UTF8 = 'caf\xe9/\xff\xfe name' as RelPath;

describe('PathBytes (a scan worker keeps its paths as bytes)', () => {
  it('gives back every path exact, in order, across many growths of its buffer', () => {
    const paths = Array.from({ length: 5000 }, (_, i) => `dir${i % 37}/${'x'.repeat(i % 300)}${i}` as RelPath);
    paths.push(NOT_UTF8, 'a' as RelPath);
    const bytes = new PathBytes(1);
    for (const p of paths) bytes.push(p);
    expect(bytes.count).toBe(paths.length);
    expect(bytes.toPaths()).toEqual(paths);
    expect(pathsOfBytes(bytes.take(), paths.length)).toEqual(paths);
    // one byte per char: the non-UTF-8 name went as its bytes, not as UTF-8
    expect([...bytesOfPaths([NOT_UTF8])]).toEqual([...Buffer.from(NOT_UTF8, 'latin1'), 0]);
  });

  it('hands over a buffer of its own, not a slice of the shared pool (it is moved to another thread)', () => {
    const bytes = new PathBytes();
    bytes.push('a' as RelPath);
    const taken = bytes.take();
    expect(taken.byteOffset).toBe(0);
    expect(structuredClone(taken, { transfer: [taken.buffer as ArrayBuffer] })).toEqual(new Uint8Array([97, 0]));
  });

  it('refuses a path with a NUL, and bytes that do not hold the count they claim', () => {
    expect(() => new PathBytes().push('a\0b' as RelPath)).toThrow(PathBytesError);
    const two = bytesOfPaths(['a', 'b'] as RelPath[]);
    expect(pathsOfBytes(two, 2)).toEqual(['a', 'b']);
    expect(() => pathsOfBytes(two, 3)).toThrow(PathBytesError);
    expect(() => pathsOfBytes(two.subarray(0, two.length - 1), 2)).toThrow(PathBytesError);
    expect(() => pathsOfBytes(new Uint8Array(), 1)).toThrow(PathBytesError);
    expect(pathsOfBytes(new Uint8Array(), 0)).toEqual([]);
  });

  it('PathReader reads the same paths one at a time, each a string of its own, and holds the bytes to their count', () => {
    const paths = Array.from({ length: 3000 }, (_, i) => `d${i % 17}/${'y'.repeat(i % 200)}${i}` as RelPath);
    paths.push(NOT_UTF8, '' as RelPath, 'z' as RelPath);
    const bytes = bytesOfPaths(paths);
    const reader = new PathReader(bytes, paths.length);
    const read = paths.map(() => reader.next());
    reader.end();
    expect(read).toEqual(paths);
    // asking past the count, or ending before it or with bytes left over, is an error, never a short or long scan
    expect(() => reader.next()).toThrow(PathBytesError);
    const two = bytesOfPaths(['a', 'b'] as RelPath[]);
    const short = new PathReader(two, 2);
    short.next();
    expect(() => short.end()).toThrow(PathBytesError);
    const long = new PathReader(two, 1);
    long.next();
    expect(() => long.end()).toThrow(PathBytesError);
    expect(() => long.next()).toThrow(PathBytesError);
    const claimsMore = new PathReader(two, 3);
    claimsMore.next();
    claimsMore.next();
    expect(() => claimsMore.next()).toThrow(PathBytesError);
    expect(() => new PathReader(two.subarray(0, two.length - 1), 2)).toThrow(PathBytesError);
    expect(() => new PathReader(new Uint8Array(), 1)).toThrow(PathBytesError);
    new PathReader(new Uint8Array(), 0).end();
  });
});
