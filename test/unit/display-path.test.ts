import { describe, expect, it } from 'vitest';
import { displayPath } from '../../src/core/paths.js';

/** RelPaths are binary strings (one char per byte): a UTF-8 name as it comes off the file system. */
const fromUtf8 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

describe('displayPath', () => {
  it('shows printable ASCII as it is', () => {
    const plain = 'd000/s013/f000042.bin ~!@#$%^&*()[]{}|;:\'",.<>?`=+-_';
    expect(displayPath(plain)).toBe(plain);
    expect(displayPath('')).toBe('');
  });

  it('escapes a backslash, control characters and DEL, also in an otherwise plain path', () => {
    expect(displayPath('a\\b')).toBe('a\\\\b');
    expect(displayPath('line\nbreak\ttab')).toBe('line\\nbreak\\ttab');
    expect(displayPath('bell\x07del\x7f')).toBe('bell\\x07del\\x7f');
  });

  it('decodes valid UTF-8 and shows the bytes of invalid UTF-8 as \\xNN', () => {
    expect(displayPath(fromUtf8('café/naïve'))).toBe('café/naïve');
    expect(displayPath('bad\xff\xfename')).toBe('bad\\xff\\xfename');
    expect(displayPath(`${fromUtf8('é')}\xff`)).toBe('\\xc3\\xa9\\xff');
  });
});
