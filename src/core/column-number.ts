/**
 * A whole number read from a Float64Array column, in the form V8 stores inline. A double read from such a
 * column and put in an object field makes V8 keep the field as a double in a box of its own (16 bytes and
 * an allocation per object: a 100k-file copy's plan held 300k of them, for sizes and block counts). The
 * same number as a small integer is stored in the field itself. Exact for every value: only whole numbers
 * in the small-integer range (30 bits, whatever the platform) take the `| 0`.
 */
export function columnNumber(x: number): number {
  return x >= 0 && x <= 0x3fffffff ? x | 0 : x;
}
