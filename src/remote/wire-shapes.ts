// The shapes of what crosses the wire in endpoint calls, checked on arrival. The agent trusts nothing
// that comes in: a path must name something inside its root (core/paths.ts isSafeRelPath) and every
// entry, stat and expectation must have the fields and types the engine relies on, or the session ends
// with a ProtocolError before any file system call sees the value. The client checks the agent's
// replies the same way (a compromised far side must not steer the local engine either).
import * as v from 'valibot';
import { isSafeRelPath } from '../core/paths.js';
import { isStoredVersionOf, isTrashStamp } from '../core/trash-names.js';
import type { Expectation, KeptMeta, Problem, RelPath, ScannedEntry } from '../core/types.js';
import { ProtocolError } from './protocol-error.js';
import type { CodecValue } from './value-codec.js';

export const relPath = v.custom<RelPath>((p) => typeof p === 'string' && isSafeRelPath(p), 'a path inside the root');
const u32 = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffffffff));
const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const owner = { uid: v.optional(u32), gid: v.optional(u32) };
const xattrDigest = { xattrs: v.optional(v.string()) };

const entry = v.variant('kind', [
  v.object({ kind: v.literal('file'), size: count, mtimeNs: v.bigint(), mode: u32, hash: v.nullable(v.pipe(v.string(), v.regex(/^[0-9a-f]{16}$/))), ...owner, ...xattrDigest }),
  v.object({ kind: v.literal('dir'), mode: u32, mtimeNs: v.bigint(), ...owner, ...xattrDigest }),
  v.object({ kind: v.literal('symlink'), target: v.string(), mtimeNs: v.bigint(), ...owner }),
]);

const statFields = {
  ino: v.bigint(),
  ctimeNs: v.bigint(),
  size: count,
  mtimeNs: v.bigint(),
  nlink: v.optional(count),
  blocks: v.optional(count),
  dev: v.optional(v.bigint()),
};

export const scannedEntry = v.object({ entry, stat: v.object(statFields), observedAtNs: v.bigint() });
export const expectation = v.nullable(v.object({ ...statFields, kind: v.picklist(['file', 'dir', 'symlink']) }));
export const keptMeta = v.object({ owner: v.boolean(), group: v.boolean(), xattrs: v.boolean() });
export const xattrValues = v.nullable(v.map(v.string(), v.instance(Uint8Array)));
export const problem = v.object({
  path: relPath,
  side: v.picklist(['left', 'right']),
  code: v.picklist(['unreadable', 'vanished', 'special-file', 'changed-during-copy', 'stale', 'io-error', 'unsafe-path']),
  message: v.string(),
});
/** Sizes only: delta/block-signature.ts checkSignature holds it to itself before it is used. */
export const blockSignature = v.object({ blockSize: count, size: count, weak: v.instance(Buffer), strong: v.instance(Buffer) });
/** An xattr binary the client offers (xattr-addon.ts): checked in full by agent-xattr-addon.ts before anything is read or written. */
export const addonOffer = v.object({ name: v.pipe(v.string(), v.maxLength(128)), sha256: v.pipe(v.string(), v.maxLength(64)), platform: v.pipe(v.string(), v.maxLength(64)) });
/** A boot id and a mount id (endpoint.ts CacheStamp): short texts from /proc. */
export const cacheStampShape = v.object({ bootId: v.pipe(v.string(), v.minLength(1), v.maxLength(256)), mount: v.pipe(v.string(), v.minLength(1), v.maxLength(64)) });
export const deltaBasis = v.object({ path: relPath, expect: expectation, blockSize: count });
export const label = v.pipe(v.string(), v.maxLength(64 * 1024));
export const trashStampShape = v.custom<string>((s) => typeof s === 'string' && isTrashStamp(s), 'a trash stamp (YYYY-MM-DDTHH-MM-SS.mmmZ)');
/** A trashed version named for a restore: `stored` must be where the trash keeps that path for that stamp. */
export const trashVersionRef = v.pipe(
  v.object({ stamp: trashStampShape, path: relPath, stored: relPath }),
  v.check((r) => isStoredVersionOf(r.stored, r.stamp, r.path), 'stored where the trash keeps a version of path'),
);
export const trashedVersion = v.pipe(
  v.object({ stamp: trashStampShape, atMs: v.pipe(v.number(), v.safeInteger()), path: relPath, stored: relPath }),
  v.check((r) => isStoredVersionOf(r.stored, r.stamp, r.path), 'stored where the trash keeps a version of path'),
);

/** Checks `value` against `schema`; anything else is the peer's fault and ends the session. */
export function parseWire<S extends v.GenericSchema>(schema: S, value: unknown, what: string): v.InferOutput<S> {
  const r = v.safeParse(schema, value);
  if (r.success) return r.output;
  const issue = r.issues[0];
  const at = issue?.path?.map((p) => String(p.key)).join('.') ?? '';
  throw new ProtocolError(`malformed ${what}${at === '' ? '' : ` at ${at}`}: ${issue?.message ?? 'invalid'}`);
}

/**
 * Our own values as codec values. Interfaces have no index signature, so TypeScript will not take them
 * as a CodecObject; they are plain data (the codec refuses anything else at run time).
 */
export function wire(value: ScannedEntry | Expectation | KeptMeta | Problem | object | null): CodecValue {
  return value as CodecValue;
}

export type WireScanned = v.InferOutput<typeof scannedEntry>;

// Batched copies of small files (engine/batch-copy.ts): the requests, and per file either its result or its error.
/** Files per batch request: far above what the engine sends (batch-copy.ts), far below what a frame holds. */
export const BATCH_ITEMS_MAX = 4096;
const wireError = v.object({
  name: v.pipe(v.string(), v.maxLength(256)),
  message: v.pipe(v.string(), v.maxLength(64 * 1024)),
  code: v.optional(v.pipe(v.string(), v.maxLength(256))),
  errno: v.optional(v.number()),
  syscall: v.optional(v.pipe(v.string(), v.maxLength(256))),
  kind: v.optional(v.pipe(v.string(), v.maxLength(256))),
});
const perFileError = v.object({ error: wireError });
const fileHash = v.pipe(v.string(), v.regex(/^[0-9a-f]{16}$/));
export const readBatchRequest = v.object({
  items: v.pipe(v.array(v.object({ path: relPath, scanned: scannedEntry, xattrs: v.boolean(), noteOwner: v.boolean() })), v.maxLength(BATCH_ITEMS_MAX)),
});
export const readBatchReply = v.array(
  v.union([v.object({ bytes: v.instance(Buffer), trailer: v.object({ hash: fileHash, bytes: count, source: scannedEntry }), xattrs: xattrValues }), perFileError]),
);
export const installBatchRequest = v.object({
  items: v.pipe(v.array(v.object({ path: relPath, source: scannedEntry, expect: expectation, bytes: v.instance(Buffer), xattrs: xattrValues })), v.maxLength(BATCH_ITEMS_MAX)),
});
export const installBatchReply = v.array(v.union([v.object({ installed: v.object({ target: scannedEntry, bytes: count, hash: fileHash }) }), perFileError]));
