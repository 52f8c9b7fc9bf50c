// The engine's typed errors, across the wire. The executor sorts failures by class (a stale target is
// skipped for the next run, a source that changed is copied again, an unsafe path is refused, an errno is
// an I/O problem, execute.ts `failure`), so an error thrown by the agent's endpoint must come back as the
// same class, with the same fields, on the side that runs the executor.
import { engineErrorFields, engineErrorFromFields } from '../engine/error-fields.js';
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
 * The agent side: what a thrown error becomes before it crosses. An engine class travels as its fields
 * (engine/error-fields.ts); errorToWire then takes them from the plain Error made here.
 */
export function shapeForWire(e: unknown): unknown {
  const fields = engineErrorFields(e);
  return fields === undefined ? e : Object.assign(new Error(fields.message), fields);
}

/** The client side: the wire fields back into the class the executor sorts by. */
export function engineErrorFromWire(wire: WireError, method: string): Error {
  const engine = engineErrorFromFields(wire);
  if (engine !== undefined) return engine;
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
