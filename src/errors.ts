// Typed errors with stable codes. Only src/cli maps them to exit codes (see cli/exit-codes.ts).

export type TsyncErrorCode = 'USAGE' | 'BAD_ROOT' | 'SAME_ROOT' | 'NESTED_ROOTS' | 'STATE' | 'SAFETY_HALT' | 'LOCKED' | 'PROTOCOL' | 'REMOTE_LOST' | 'REMOTE_UNREACHABLE';

export abstract class TsyncError extends Error {
  abstract readonly code: TsyncErrorCode;
}

/** A bad command line or option value. */
export class UsageError extends TsyncError {
  readonly code = 'USAGE';
}

/** A root that is missing, not a directory, or otherwise unusable. */
export class RootError extends TsyncError {
  readonly code = 'BAD_ROOT';
}

export class SameRootError extends TsyncError {
  readonly code = 'SAME_ROOT';
}

export class NestedRootsError extends TsyncError {
  readonly code = 'NESTED_ROOTS';
}

/** The state index cannot be opened, created or understood. */
export class StateError extends TsyncError {
  readonly code = 'STATE';
}

/** A safety guard refused the plan; nothing was touched. */
export class SafetyHaltError extends TsyncError {
  readonly code = 'SAFETY_HALT';
}

/** Another tsync process works on the same pair of roots. */
export class LockedError extends TsyncError {
  readonly code = 'LOCKED';
}

/**
 * Why a remote root could not be reached: ssh failed, the far side lacks Node >= 20, or the agent's handshake was
 * wrong; or the run no longer wanted the connection (cancelled: a connection started ahead, remote/preconnect.ts).
 */
export type RemoteFailure = 'ssh' | 'node-missing' | 'node-too-old' | 'bundle' | 'handshake' | 'protocol' | 'timeout' | 'cancelled';

/** The remote side could not be reached or its agent could not be started (exit 6). */
export class RemoteUnreachableError extends TsyncError {
  readonly code = 'REMOTE_UNREACHABLE';
  constructor(
    message: string,
    readonly reason: RemoteFailure,
  ) {
    super(message);
  }
}
