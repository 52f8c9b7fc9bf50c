// --bwlimit: a token bucket. Bytes are taken as they go (the balance may go below zero: a frame is never
// split for the bucket's sake), and the taker waits until the balance is back to zero, so that over any
// stretch longer than the burst the rate holds. The clock is a parameter for the tests.

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly bytesPerSecond: number,
    /** What may go at once after a pause: a short burst, not the seconds of idle before it. */
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(bytesPerSecond > 0) || !(burst > 0)) throw new RangeError(`a bucket of ${bytesPerSecond} B/s, burst ${burst}`);
    this.tokens = burst;
    this.last = now();
  }

  /** Takes `bytes`; returns how many milliseconds to wait before the next bytes may go (0: none). */
  take(bytes: number): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.bytesPerSecond) / 1000);
    this.last = t;
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.bytesPerSecond;
  }
}
