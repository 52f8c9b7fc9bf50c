// The receiving end of a stream of data frames (an upload on the handler's side, a download on the
// caller's side): an AsyncIterable<Buffer> that queues chunks until they are consumed.

export interface InboundHooks {
  /** Called when the consumer stops early (break, return, throw), before the stream ended. */
  readonly onCancel: () => void;
  /** Called with the size of every chunk queued (+) or consumed or dropped (-), for the peer's inbound limit. */
  readonly onQueued: (bytes: number) => void;
}

export class InboundStream implements AsyncIterable<Buffer> {
  private readonly queue: Buffer[] = [];
  private finished = false;
  private failure: Error | null = null;
  /** The consumer gave up: further chunks are dropped until the sender's end or abort arrives. */
  private cancelled = false;
  private iterated = false;
  private wake: (() => void) | null = null;

  constructor(private readonly hooks: InboundHooks) {}

  push(chunk: Buffer): void {
    if (this.cancelled || this.finished) return;
    this.queue.push(chunk);
    this.hooks.onQueued(chunk.length);
    this.signal();
  }

  end(): void {
    this.finished = true;
    this.signal();
  }

  fail(error: Error): void {
    if (this.finished) return;
    this.failure = error;
    this.finished = true;
    this.signal();
  }

  /** Drops what is queued and asks the sender to stop, unless the stream is already complete. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.drop();
    if (!this.finished) this.hooks.onCancel();
  }

  get isCancelled(): boolean {
    return this.cancelled;
  }

  private drop(): void {
    let bytes = 0;
    for (const chunk of this.queue) bytes += chunk.length;
    this.queue.length = 0;
    if (bytes > 0) this.hooks.onQueued(-bytes);
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.iterated) throw new Error('a stream of chunks can be iterated once');
    this.iterated = true;
    return {
      next: async (): Promise<IteratorResult<Buffer>> => {
        for (;;) {
          if (this.cancelled) return { done: true, value: undefined };
          const chunk = this.queue.shift();
          if (chunk !== undefined) {
            this.hooks.onQueued(-chunk.length);
            return { done: false, value: chunk };
          }
          if (this.failure !== null) throw this.failure;
          if (this.finished) return { done: true, value: undefined };
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
        }
      },
      return: async (): Promise<IteratorResult<Buffer>> => {
        this.cancel();
        return { done: true, value: undefined };
      },
    };
  }
}
