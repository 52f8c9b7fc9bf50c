import { errCode } from '../fs/stat.js';
import { SourceChangedError, SourceReadError } from './copy-file.js';
import { StaleTargetError, UnsafePathError } from './guards.js';

/**
 * An error as plain fields, what crosses a thread (the copy worker's postMessage) or a pipe (the remote
 * agent's wire): no class and no stack travel, so the receiving side makes the error again from these.
 */
export interface ErrorFields {
  readonly name: string;
  readonly message: string;
  /** An errno code ('ENOENT') or a typed error's code. */
  readonly code?: string;
  /** A SourceReadError's errno: the one field that class keeps outside `code`. */
  readonly kind?: string;
}

// The names these classes cross under. Written out rather than read from `constructor.name`, which a
// bundler may rename; they are also the remote protocol's names, so they must not change.
const STALE = 'StaleTargetError';
const UNSAFE = 'UnsafePathError';
const SOURCE_CHANGED = 'SourceChangedError';
const SOURCE_READ = 'SourceReadError';

/**
 * The classes the executor sorts a failure by (execute.ts `failure`: a stale target is left for the next
 * run, an unsafe path is refused, an unreadable or vanished source is reported by its errno, a source that
 * changed while it was read is not recorded), as fields; undefined for any other error.
 */
export function engineErrorFields(e: unknown): ErrorFields | undefined {
  if (e instanceof StaleTargetError) return { name: STALE, message: e.message, code: e.code };
  if (e instanceof UnsafePathError) return { name: UNSAFE, message: e.message, code: e.code };
  if (e instanceof SourceChangedError) return { name: SOURCE_CHANGED, message: e.message, code: e.code };
  if (e instanceof SourceReadError) return { name: SOURCE_READ, message: e.message, kind: e.errno };
  return undefined;
}

/** The class engineErrorFields took apart, made again with its message; undefined for any other name. */
export function engineErrorFromFields(f: ErrorFields): Error | undefined {
  switch (f.name) {
    case STALE:
      return new StaleTargetError(f.message);
    case UNSAFE:
      return new UnsafePathError(f.message);
    case SOURCE_CHANGED:
      return new SourceChangedError(f.message);
    case SOURCE_READ:
      // a read error whose errno was lost is still an I/O failure of the source
      return new SourceReadError(f.message, f.kind ?? 'EIO');
  }
  return undefined;
}

/** Any thrown value as fields: an engine class as above, else its message and errno code (if it had one). */
export function errorToFields(e: unknown): ErrorFields {
  const engine = engineErrorFields(e);
  if (engine !== undefined) return engine;
  const message = e instanceof Error ? e.message : String(e);
  const code = errCode(e);
  return code === 'EUNKNOWN' ? { name: 'Error', message } : { name: 'Error', message, code };
}

/** The error errorToFields took apart, made again: the same engine class, or an Error with the same code. */
export function errorFromFields(f: ErrorFields): Error {
  return engineErrorFromFields(f) ?? (f.code === undefined ? new Error(f.message) : Object.assign(new Error(f.message), { code: f.code }));
}
