// The engine's typed errors, across the wire. The executor sorts failures by class (a stale target is
// skipped for the next run, a source that changed is copied again, an unsafe path is refused, an errno is
// an I/O problem, execute.ts `failure`), so an error thrown by the agent's endpoint must come back as the
// same class, with the same fields, on the side that runs the executor.
import { SourceChangedError, SourceReadError } from '../engine/copy-file.js';
import { StaleTargetError, UnsafePathError } from '../engine/guards.js';
import { LockedError, RootError, StateError, UsageError } from '../errors.js';
import { SignatureFormatError } from '../delta/block-signature.js';
import { DeltaFormatError } from '../delta/delta-ops.js';
import { ProtocolError } from './protocol-error.js';
import type { WireError } from './wire-error.js';

/** An errno error as Node makes them: what errCode() reads. */
class RemoteErrnoError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly syscall: string | undefined,
  ) {
    super(message);
  }
}

/**
 * The agent side: what a thrown error becomes before it crosses. SourceReadError keeps its errno in a
 * field the wire does not carry by itself, so it travels as `kind`.
 */
export function shapeForWire(e: unknown): unknown {
  if (e instanceof SourceReadError) return Object.assign(new Error(e.message), { name: 'SourceReadError', kind: e.errno });
  if (e instanceof StaleTargetError || e instanceof UnsafePathError || e instanceof SourceChangedError)
    return Object.assign(new Error(e.message), { name: e.constructor.name, code: e.code });
  return e;
}

/** The client side: the wire fields back into the class the executor sorts by. */
export function engineErrorFromWire(wire: WireError, method: string): Error {
  switch (wire.name) {
    case 'StaleTargetError':
      return new StaleTargetError(wire.message);
    case 'UnsafePathError':
      return new UnsafePathError(wire.message);
    case 'SourceChangedError':
      return new SourceChangedError(wire.message);
    case 'SourceReadError':
      return new SourceReadError(wire.message, wire.kind ?? 'EIO');
  }
  switch (wire.code) {
    case 'LOCKED':
      return new LockedError(wire.message);
    case 'BAD_ROOT':
      return new RootError(wire.message);
    case 'STATE':
      return new StateError(wire.message);
    case 'USAGE':
      return new UsageError(wire.message);
    // a delta the far side could not use: the executor falls back to a full copy (engine/delta-copy.ts)
    case 'DELTA_FORMAT':
      return new DeltaFormatError(wire.message);
    case 'DELTA_SIGNATURE':
      return new SignatureFormatError(wire.message);
    case 'PROTOCOL':
      return new ProtocolError(`the remote side refused a request (${method}): ${wire.message}`);
  }
  if (wire.code !== undefined && /^E[A-Z0-9]+$/.test(wire.code)) return new RemoteErrnoError(wire.message, wire.code, wire.syscall);
  return new Error(`remote ${method}: ${wire.message}`);
}
