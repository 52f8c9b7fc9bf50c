import { isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import { nodeCrypto } from '../runtime/lazy-crypto.js';

/*
 * Extended attributes (user.*, security.*, POSIX ACLs, trusted.* as root) through @napi-rs/xattr.
 * Its calls take a path and never follow a symlink (l*xattr), so a path through a directory descriptor
 * (`/proc/self/fd/<dirfd>/<name>`, dir-anchors.ts) reaches exactly the entry the scan or the engine
 * pinned; `/proc/self/fd/<fd-of-the-file>` would not: that names the magic link itself, which has none.
 * The library encodes a JS string as UTF-8, so a name that is not valid UTF-8 cannot be addressed: its
 * attributes are left alone (XattrUnaddressableError, reported once per run by the caller).
 */

/** The attributes tsync keeps; other system.* names (e.g. NFSv4 ACLs) are the file system's business. */
export function isKeptXattr(name: string): boolean {
  return name.startsWith('user.') || name.startsWith('security.') || name.startsWith('trusted.') || name === 'system.posix_acl_access' || name === 'system.posix_acl_default';
}

interface XattrLib {
  listAttributesSync(path: string): string[];
  getAttributeSync(path: string, name: string): Buffer | null;
  setAttributeSync(path: string, name: string, value: Uint8Array): void;
  removeAttributeSync(path: string, name: string): void;
}

let lib: XattrLib | null = null;

/** Loaded on first use: a run with --no-xattrs (and `--version`) never loads the native module. */
function xattrLib(): XattrLib {
  if (lib === null) lib = createRequire(import.meta.url)('@napi-rs/xattr') as XattrLib;
  return lib;
}

/**
 * Uses the addon's binary at `path` (the platform package's `.node` file, which exports the same functions as the
 * package): how an agent running from its bundle alone gets xattrs (remote/agent-xattr-addon.ts). False, and
 * nothing changed, when it does not load here (another libc or architecture) or is not that library.
 */
export function useXattrAddonAt(path: string): boolean {
  try {
    const loaded = createRequire(import.meta.url)(path) as Partial<XattrLib>;
    const fns = [loaded.listAttributesSync, loaded.getAttributeSync, loaded.setAttributeSync, loaded.removeAttributeSync];
    if (!fns.every((f) => typeof f === 'function')) return false;
    lib = loaded as XattrLib;
    return true;
  } catch {
    return false;
  }
}

/** Whether the native module loads here (a far side running the agent bundle alone has none, until useXattrAddonAt). */
export function xattrsAvailable(): boolean {
  try {
    xattrLib();
    return true;
  } catch {
    return false;
  }
}

/** A failed xattr call, with the errno name parsed from the library's "… (os error N)" message. */
export class XattrError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The entry's name is not valid UTF-8: the library cannot address it. */
export class XattrUnaddressableError extends Error {
  readonly code = 'XATTR_UNADDRESSABLE';
}

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: 'EPERM',
  2: 'ENOENT',
  7: 'E2BIG',
  13: 'EACCES',
  20: 'ENOTDIR',
  22: 'EINVAL',
  28: 'ENOSPC',
  30: 'EROFS',
  34: 'ERANGE',
  61: 'ENODATA',
  95: 'ENOTSUP',
};

/** The library's error as an XattrError, with the errno name parsed from its "… (os error N)" message. */
function xattrErrorOf(what: string, e: unknown): XattrError {
  const message = e instanceof Error ? e.message : String(e);
  const errno = /\(os error (\d+)\)/.exec(message)?.[1];
  const code = errno === undefined ? 'EUNKNOWN' : (ERRNO_NAMES[Number(errno)] ?? `ERRNO${errno}`);
  return new XattrError(`${what}: ${message}`, code);
}

// One function per library call, not a closure handed to a wrapper: a scan calls these once or twice per
// entry, and a closure per call was measurable garbage (issue 12, metadata cost).

function listNames(path: string): string[] {
  try {
    return xattrLib().listAttributesSync(path);
  } catch (e) {
    throw xattrErrorOf('listxattr', e);
  }
}

function getValue(path: string, name: string): Buffer | null {
  try {
    return xattrLib().getAttributeSync(path, name);
  } catch (e) {
    throw xattrErrorOf(`getxattr ${name}`, e);
  }
}

function setValue(path: string, name: string, value: Uint8Array): void {
  try {
    xattrLib().setAttributeSync(path, name, value);
  } catch (e) {
    throw xattrErrorOf(`setxattr ${name}`, e);
  }
}

function removeValue(path: string, name: string): void {
  try {
    xattrLib().removeAttributeSync(path, name);
  } catch (e) {
    throw xattrErrorOf(`removexattr ${name}`, e);
  }
}

/** The byte path as the library's UTF-8 string; throws XattrUnaddressableError when it is not UTF-8. */
export function xattrPathOf(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  throw new XattrUnaddressableError('a name that is not valid UTF-8: its extended attributes cannot be read or set');
}

/** The kept attribute names of an entry, sorted: one llistxattr call. */
export function listKeptXattrs(path: string): string[] {
  const names = listNames(path);
  // the usual lists: none, or one kept name (no new array, nothing to sort)
  if (names.length === 0 || (names.length === 1 && isKeptXattr(names[0] as string))) return names;
  return names.filter(isKeptXattr).sort();
}

/** The kept attributes with their values; one that vanished between list and get is left out. */
export function readXattrs(path: string): ReadXattrs {
  return valuesOf(path, listKeptXattrs(path));
}

/**
 * Attribute values read from an entry, which carry their digest once computed: the scan digests them and
 * the copy that follows records that digest, without a WeakMap of every set read (whose entries the
 * garbage collector visits on each pass).
 */
export class ReadXattrs extends Map<string, Buffer> {
  digest: string | undefined = undefined;
}

/** The values of attributes already listed (each list is two system calls in the library: list once). */
function valuesOf(path: string, names: readonly string[]): ReadXattrs {
  const out = new ReadXattrs();
  for (const name of names) {
    const value = getValue(path, name);
    if (value !== null) out.set(name, value);
  }
  return out;
}

/**
 * The digest the scan records: '' when there is nothing (the common case costs one listxattr and no
 * hashing), else 16 hex digits of SHA-256 over the sorted name/value pairs (length-prefixed, so no two
 * different sets encode alike).
 */
export function xattrDigestAt(path: string): string {
  const names = listKeptXattrs(path);
  return names.length === 0 ? '' : digestOf(valuesOf(path, names));
}

/** Digests already computed, per set of values: the scan's values handed to the copy are not hashed twice. */
const digests = new WeakMap<ReadonlyMap<string, Buffer>, string>();

export function digestOf(attrs: ReadonlyMap<string, Buffer>): string {
  if (attrs.size === 0) return '';
  if (attrs instanceof ReadXattrs) {
    attrs.digest ??= computeDigest(attrs);
    return attrs.digest;
  }
  let digest = digests.get(attrs);
  if (digest === undefined) {
    digest = computeDigest(attrs);
    digests.set(attrs, digest);
  }
  return digest;
}

let sha256OfBytes: ((bytes: Uint8Array) => string) | undefined;

/**
 * SHA-256 as hex through node:crypto, loaded on the first digest (runtime/lazy-crypto.ts): a run over files without
 * attributes never takes one. Native rather than hash/sha256.ts's JavaScript digest because a tree can hold a
 * different set of attributes on every file. crypto.hash is one call without a Hash object (Node 20.12 and later);
 * older Nodes hash through createHash.
 */
function nativeSha256Hex(bytes: Uint8Array): string {
  if (sha256OfBytes === undefined) {
    const crypto = nodeCrypto();
    const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'hex') => string }).hash;
    sha256OfBytes = oneShot === undefined ? (b) => crypto.createHash('sha256').update(b).digest('hex') : (b) => oneShot('sha256', b, 'hex');
  }
  return sha256OfBytes(bytes);
}

/**
 * The digest's bytes in one buffer hashed in one call: the same bytes the digest always covered, so the
 * digests recorded in existing indexes still match (test/unit/xattr-digest.test.ts pins them). Feeding a
 * Hash object four pieces per attribute cost more than the scan's system calls for it.
 */
function computeDigest(attrs: ReadonlyMap<string, Buffer>): string {
  const names = [...attrs.keys()].sort();
  let total = 0;
  for (const name of names) total += 8 + Buffer.byteLength(name, 'utf8') + (attrs.get(name)?.length ?? 0);
  const bytes = Buffer.allocUnsafe(total);
  let at = 0;
  for (const name of names) {
    const value = attrs.get(name) ?? EMPTY;
    const nameLength = bytes.write(name, at + 4, 'utf8');
    bytes.writeUInt32BE(nameLength, at);
    at += 4 + nameLength;
    bytes.writeUInt32BE(value.length, at);
    at += 4 + value.copy(bytes, at + 4);
  }
  return nativeSha256Hex(bytes).slice(0, 16);
}

const EMPTY = Buffer.alloc(0);

/**
 * Makes `path`'s kept attributes exactly `want`: sets each, removes the ones `want` lacks. `haveNames`:
 * the kept names `path` has, when the caller listed them already.
 */
export function writeXattrs(path: string, want: ReadonlyMap<string, Buffer>, haveNames: readonly string[] = listKeptXattrs(path)): void {
  for (const name of haveNames) if (!want.has(name)) removeValue(path, name);
  // only the names both have need their old value (an equal one is not written again); a fresh temp file
  // usually has none, or only what the file system gave it (an inherited default ACL, an SELinux label)
  const have = valuesOf(
    path,
    haveNames.filter((name) => want.has(name)),
  );
  for (const [name, value] of want) {
    const old = have.get(name);
    if (old !== undefined && old.equals(value)) continue;
    setValue(path, name, value);
  }
}

/** Sets each of `want` on an entry known to have no kept attributes (a fresh file): no listing first. */
export function addXattrs(path: string, want: ReadonlyMap<string, Buffer>): void {
  for (const [name, value] of want) setValue(path, name, value);
}
