// The agent's half of watch mode: it watches its own root with the same watcher a local side uses
// (watch/watcher.ts) and calls the client's `hints` handler with batches of dirty paths, so a change on
// the far machine reaches the client in milliseconds instead of at the next full rescan.
import type { RelPath } from '../core/types.js';
import type { EndpointWatch } from '../endpoint/endpoint.js';
import type { LocalEndpoint } from '../endpoint/local-endpoint.js';
import { DirtyAggregator } from '../watch/aggregator.js';
import type { RpcPeer } from './rpc-peer.js';

/** What one `hints` call carries: dirty paths, the root as a whole, or the watch's failure (then no more hints come). */
export interface HintBatch {
  readonly paths: readonly RelPath[];
  readonly whole: boolean;
  readonly failure: string | null;
}

/**
 * A burst of events leaves as one call, not one frame per event: the same aggregator as the client's
 * (a short quiet time, a cap on the delay, crowded directories collapsed), and while one batch is on its
 * way the next one gathers, so a slow link gets fewer, bigger batches instead of a growing queue.
 */
export class AgentWatch {
  private readonly aggregator = new DirtyAggregator({
    quietMs: 3,
    maxDelayMs: 50,
    collapseAbove: 256,
    onBatch: (b) => this.send({ paths: b.left, whole: b.whole.length > 0, failure: null }),
  });
  private watch: EndpointWatch | null = null;
  private closed = false;

  constructor(private readonly peer: RpcPeer) {}

  async start(endpoint: LocalEndpoint, knownDirs: readonly RelPath[] | undefined): Promise<void> {
    // the aggregator is one-sided here: the client knows which side of its pair this root is
    this.watch = await endpoint.watch('left', knownDirs, {
      onHint: (_side, path) => this.aggregator.add('left', path),
      onFailure: (_side, message) => this.send({ paths: [], whole: false, failure: message }),
    });
  }

  /** Brings the watches in line with the client's last full scan; returns the directories newly watched. */
  async adopt(dirs: ReadonlySet<RelPath>): Promise<RelPath[]> {
    return this.watch === null ? [] : this.watch.adopt(dirs);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.aggregator.close();
    await this.watch?.close();
    this.watch = null;
  }

  private send(batch: HintBatch): void {
    if (this.closed) return;
    this.aggregator.pause();
    this.peer.call('hints', { paths: [...batch.paths], whole: batch.whole, failure: batch.failure }).then(
      () => {
        if (!this.closed) this.aggregator.resume();
      },
      // the session ended (it is closing us too) or the client refused the batch: either way no more hints
      () => void this.close(),
    );
  }
}
