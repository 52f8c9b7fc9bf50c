import { eventLine, type RunEvent } from '../sync/events.js';
import type { SyncMode } from '../sync/settings.js';
import type { WatchObserver, WatchStatus } from '../sync/watch-loop.js';
import type { Io } from './io.js';
import { problemLine } from './report.js';

export interface WatchOutputOptions {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly mode: SyncMode;
  /** Where the live status line goes; null when stdout is not a terminal. */
  readonly statusLine: ((text: string) => void) | null;
}

/**
 * Watch output: NDJSON with --json; otherwise a status line on a terminal, or a line per cycle that
 * did something. Problems, conflicts and halts go to stderr (a halt once per message).
 */
export function watchOutput(io: Io, opts: WatchOutputOptions): WatchObserver & { clearStatus(): void } {
  const haltsTold = new Set<string>();
  let statusShown = false;
  const clearStatus = (): void => {
    if (statusShown && opts.statusLine !== null) opts.statusLine('');
    statusShown = false;
  };
  const line = (text: string): void => {
    clearStatus();
    io.out(text);
  };
  const err = (text: string): void => {
    clearStatus();
    io.err(text);
  };
  const text = (e: RunEvent): void => {
    switch (e.type) {
      case 'problem':
        err(problemLine(e.side, e.message, opts.mode));
        return;
      case 'conflict':
        err(
          `tsync: conflict on ${e.path}${e.resolution === 'skipped' ? ' left unresolved' : e.copyName === null ? ': the other version went to the trash' : `: the other version is kept as ${e.copyName}`}`,
        );
        return;
      case 'warning':
        err(`tsync: warning: ${e.message}`);
        return;
      case 'halted':
        if (haltsTold.has(e.message)) return;
        haltsTold.add(e.message);
        err(`tsync: halted: ${e.message} (watching goes on)`);
        return;
      case 'ready':
        if (!opts.quiet && opts.statusLine === null) line(`watching ${e.entries} entries (ready in ${e.ms} ms)`);
        return;
      case 'cycle':
        if (opts.quiet || opts.statusLine !== null || (e.applied === 0 && !e.full)) return;
        line(
          `${new Date().toISOString()} ${e.full ? 'full sync' : 'sync'}: ${e.counts.copy} copied, ${e.counts.delete} deleted, ${e.counts.mkdir} dirs created, ${e.conflicts} conflicts (${e.ms} ms)`,
        );
        return;
      case 'stopped':
        clearStatus();
        if (!opts.quiet) line('stopped; state saved');
        return;
      case 'error':
        err(`tsync: error: ${e.message}`);
        return;
      case 'action':
      case 'summary':
        return;
    }
  };
  return {
    event: (e) => (opts.json ? io.out(eventLine(e)) : text(e)),
    // a cycle's NDJSON lines in one write: a single-file change made three writes to stdout, a syscall each
    events: (es) => {
      if (!opts.json) for (const e of es) text(e);
      else if (es.length > 0) io.out(es.map((e) => eventLine(e)).join('\n'));
    },
    status: (s: WatchStatus) => {
      if (opts.statusLine === null || opts.json || opts.quiet) return;
      statusShown = true;
      const last = s.lastSyncMs === 0 ? 'never' : new Date(s.lastSyncMs).toLocaleTimeString();
      opts.statusLine(`watching ${s.entries} entries · last sync ${last} · pending ${s.pending} · conflicts ${s.conflicts}${s.watcherDown ? ' · watcher down, scanning' : ''}`);
    },
    clearStatus,
  };
}
