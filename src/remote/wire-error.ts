// How an error thrown by a handler on one side crosses the wire and is raised again on the other.
// Only plain fields travel (no stack, no class): the receiving side decides which class to rebuild
// through a pluggable errorFromWire (the engine maps its own error classes there).
import type { CodecObject, CodecValue } from './value-codec.js';

/** The fields of a thrown error that cross the wire. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  /** An errno code ('ENOENT') or a TsyncError code. */
  readonly code?: string;
  readonly errno?: number;
  readonly syscall?: string;
  /** A finer classification some engine errors carry. */
  readonly kind?: string;
}

/** Rebuilds a local error from the wire fields; `method` names the call that failed. */
export type ErrorFromWire = (wire: WireError, method: string) => Error;

/** The default reconstruction: a remote failure that keeps every wire field. */
export class RemoteCallError extends Error {
  override readonly name = 'RemoteCallError';
  readonly remoteName: string;
  readonly code: string | undefined;
  readonly errno: number | undefined;
  readonly syscall: string | undefined;
  readonly kind: string | undefined;
  readonly method: string;

  constructor(wire: WireError, method: string) {
    super(wire.message);
    this.remoteName = wire.name;
    this.code = wire.code;
    this.errno = wire.errno;
    this.syscall = wire.syscall;
    this.kind = wire.kind;
    this.method = method;
  }
}

export const defaultErrorFromWire: ErrorFromWire = (wire, method) => new RemoteCallError(wire, method);

function stringField(e: object, key: string): string | undefined {
  const v: unknown = (e as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : undefined;
}

/** What of a thrown value crosses the wire; anything that is not an Error becomes a plain message. */
export function errorToWire(e: unknown): WireError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const errnoValue: unknown = (e as { errno?: unknown }).errno;
  const wire: { -readonly [K in keyof WireError]: WireError[K] } = { name: e.name, message: e.message };
  const code = stringField(e, 'code');
  if (code !== undefined) wire.code = code;
  if (typeof errnoValue === 'number') wire.errno = errnoValue;
  const syscall = stringField(e, 'syscall');
  if (syscall !== undefined) wire.syscall = syscall;
  const kind = stringField(e, 'kind');
  if (kind !== undefined) wire.kind = kind;
  return wire;
}

/** Reads the wire fields back from a decoded value; anything malformed is the peer's fault. */
export function wireErrorFrom(v: CodecValue): WireError | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Map || v instanceof Uint8Array) return undefined;
  const o = v as CodecObject;
  if (typeof o.name !== 'string' || typeof o.message !== 'string') return undefined;
  const wire: { -readonly [K in keyof WireError]: WireError[K] } = { name: o.name, message: o.message };
  if (typeof o.code === 'string') wire.code = o.code;
  if (typeof o.errno === 'number') wire.errno = o.errno;
  if (typeof o.syscall === 'string') wire.syscall = o.syscall;
  if (typeof o.kind === 'string') wire.kind = o.kind;
  return wire;
}
