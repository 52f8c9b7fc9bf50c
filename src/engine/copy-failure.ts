import { errCode } from '../fs/stat.js';
import type { WireFailure } from './copy-worker-protocol.js';
import { SourceChangedError, SourceReadError } from './copy-file.js';
import { StaleTargetError, UnsafePathError } from './guards.js';

/**
 * A copy's error in a worker thread, as it crosses to the main thread: only plain data crosses, so the class
 * that decides the outcome (execute.ts failure: stale, unsafe path, unreadable source, source changed, an errno)
 * goes as a kind, and is made again on the other side with the same message and code.
 */
export function failureToWire(e: unknown): WireFailure {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof StaleTargetError) return { kind: 'stale', message };
  if (e instanceof UnsafePathError) return { kind: 'unsafe', message };
  if (e instanceof SourceReadError) return { kind: 'source-read', message, code: e.errno };
  if (e instanceof SourceChangedError) return { kind: 'source-changed', message };
  const code = errCode(e);
  return code === 'EUNKNOWN' ? { kind: 'other', message } : { kind: 'other', message, code };
}

/** The error failureToWire took apart, made again: the same class, message and code. */
export function failureFromWire(w: WireFailure): Error {
  switch (w.kind) {
    case 'stale':
      return new StaleTargetError(w.message);
    case 'unsafe':
      return new UnsafePathError(w.message);
    case 'source-read':
      return new SourceReadError(w.message, w.code ?? 'EUNKNOWN');
    case 'source-changed':
      return new SourceChangedError(w.message);
    case 'other':
      return w.code === undefined ? new Error(w.message) : Object.assign(new Error(w.message), { code: w.code });
  }
}
