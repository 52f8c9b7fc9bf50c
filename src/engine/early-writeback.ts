// A large file being written is handed to the disk as it goes, not all at once at the end. The run's
// durability flush (sync/durability.ts) fsyncs every file it installed before the index records it; with
// the default dirty-page thresholds (10% of RAM) a 256 MiB install stays in the page cache until then, and
// that fsync writes all of it while nothing else happens. An fdatasync every WRITEBACK_EVERY bytes, in the
// thread pool while the writer goes on, leaves that fsync only the tail.
//
// Why an error is kept, not ignored: on Linux a failed fdatasync clears the file's error state, so the later
// fsync could report success for data that never reached the disk. The write fails instead (settled()).
import { fdatasync } from 'node:fs';

export const WRITEBACK_EVERY = 32 * 1024 * 1024;

export class EarlyWriteback {
  private since = 0;
  private inFlight: Promise<void> | null = null;
  private failure: NodeJS.ErrnoException | null = null;

  constructor(
    private readonly fd: number,
    private readonly every: number = WRITEBACK_EVERY,
  ) {}

  /** `bytes` more were written: starts a writeback once enough have gathered and none is running. */
  wrote(bytes: number): void {
    this.since += bytes;
    if (this.since < this.every || this.inFlight !== null) return;
    this.since = 0;
    this.inFlight = new Promise<void>((resolve) => {
      fdatasync(this.fd, (e) => {
        if (e !== null) this.failure ??= e;
        this.inFlight = null;
        resolve();
      });
    });
  }

  /** Waits for the writeback running, if any (the descriptor must not be closed under it); throws the first failure. */
  async settled(): Promise<void> {
    if (this.inFlight !== null) await this.inFlight;
    if (this.failure !== null) throw this.failure;
  }

  /** As settled(), for a write that is being abandoned anyway: only waits. */
  async quiet(): Promise<void> {
    if (this.inFlight !== null) await this.inFlight;
  }
}
