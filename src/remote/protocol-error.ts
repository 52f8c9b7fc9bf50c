// The two ways a remote session ends abnormally. Both are TsyncErrors, so the CLI maps them to exit 6
// (cli/exit-codes.ts) like any other typed error.
import { TsyncError } from '../errors.js';

/** The peer sent bytes that are not a valid frame or value (corrupt, hostile, or another protocol): the session ends. */
export class ProtocolError extends TsyncError {
  readonly code = 'PROTOCOL';
}

/** The link to the remote side ended, failed, or went silent past the keepalive limit. */
export class RemoteLostError extends TsyncError {
  readonly code = 'REMOTE_LOST';
}
