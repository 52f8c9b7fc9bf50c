/*
 * The path a scan lstats an entry by, built without a Buffer per entry where it can be. Names are
 * binary strings (one char per byte, core/types.ts); Node encodes a string path as UTF-8, which for
 * ASCII is the same bytes, so a directory prefix and a name that are both ASCII can be joined as
 * strings. Any other name goes as bytes, exactly as read (non-UTF-8 names must reach the same entry).
 */

/** A string only when every char is ASCII (its UTF-8 bytes are its chars); otherwise the exact bytes. */
export type EntryPath = string | Buffer;

/** The EntryPath of a name in one directory (a directory's entries share one such function). */
export type EntryPathOf = (name: string) => EntryPath;

/** Binary strings hold chars up to 0xff only: any char above 0x7f is a byte that is not ASCII. */
const NOT_ASCII = /[\u0080-\u00ff]/;
const SLASH = Buffer.of(0x2f);

/** Whether a binary string name is all ASCII (then its bytes are valid UTF-8 too). */
export function isAsciiName(name: string): boolean {
  return !NOT_ASCII.test(name);
}

/** The directory's path as a string when it is ASCII (`/proc/self/fd/N` always is), else null. */
export function textPrefixOf(dirPath: Buffer): string | null {
  const text = dirPath.toString('latin1');
  return NOT_ASCII.test(text) ? null : text;
}

/** `dir/name`: a string when both are ASCII, else bytes. */
export function entryPathOf(dirPath: Buffer, textPrefix: string | null, name: string): EntryPath {
  if (textPrefix !== null && !NOT_ASCII.test(name)) return `${textPrefix}/${name}`;
  return Buffer.concat([dirPath, SLASH, Buffer.from(name, 'latin1')]);
}

/** A name alone, looked up from inside its directory (fs/work-dir.ts): a string when ASCII, else its bytes. */
export function bareEntryPath(name: string): EntryPath {
  return NOT_ASCII.test(name) ? Buffer.from(name, 'latin1') : name;
}
