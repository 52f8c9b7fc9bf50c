// A symmetric RPC peer over a byte stream pair (the agent: process.stdin/stdout; tsync: the ssh child's
// stdio). Either side may call the other's handlers; calls are pipelined (many in flight, replies in any
// order), file contents stream both ways in data frames, and the link is watched by a keepalive.
//
// Every way a session can end (the stream ends or fails, the keepalive gives up, a frame is corrupt or
// hostile, close()) goes through one place, end(), which rejects every pending call and fails every open
// stream with the reason: nothing waits forever.
import type { Readable, Writable } from 'node:stream';
import { decodeMessage, encodeMessage, FrameDecoder, MAX_DATA_CHUNK, MAX_FRAME, type Message } from './frame.js';
import { InboundStream } from './inbound-stream.js';
import { TokenBucket } from './token-bucket.js';
import { ProtocolError, RemoteLostError } from './protocol-error.js';
import type { CodecValue } from './value-codec.js';
import { defaultErrorFromWire, errorToWire, type ErrorFromWire } from './wire-error.js';

/** Set on an id that names a call made by the frame's receiver (see frame.ts). */
const RECEIVERS_CALL = 0x80000000;
const MAX_ID = 0x7fffffff;
/** A stream gives the event loop a turn after this many bytes. */
const YIELD_EVERY = MAX_DATA_CHUNK * 4;

export interface RpcPeerOptions {
  /** Ping after this long without hearing anything (default 15 s). */
  readonly keepaliveIntervalMs?: number;
  /** Declare the link lost after this long without any frame (default 45 s). */
  readonly lostAfterMs?: number;
  /** Rebuilds a handler's error on the caller's side (default: a RemoteCallError with the wire fields). */
  readonly errorFromWire?: ErrorFromWire;
  /** Stop reading input while more than this many received stream bytes wait for their consumers (default 16 MiB). */
  readonly inboundHighWater?: number;
  /**
   * --bwlimit: at most this many bytes per second, both ways as seen from here: data frames sent wait for
   * the bucket, and reading pauses while what came in is over it (the far side is then held back by the
   * pipe's own backpressure, through ssh). Unset: no limit.
   */
  readonly bytesPerSecond?: number;
}

/** Data frames are cut finer under a bandwidth limit, so that the pace is even rather than a frame a second. */
function pieceSizeFor(bytesPerSecond: number | undefined): number {
  if (bytesPerSecond === undefined) return MAX_DATA_CHUNK;
  return Math.min(MAX_DATA_CHUNK, Math.max(4096, 2 ** Math.floor(Math.log2(bytesPerSecond / 16))));
}

/** What a handler returns to send a stream back: the call's result, then the chunks. */
export class DownloadReply {
  constructor(
    readonly result: CodecValue,
    readonly chunks: AsyncIterable<Buffer>,
  ) {}
}

export function withDownload(result: CodecValue, chunks: AsyncIterable<Buffer>): DownloadReply {
  return new DownloadReply(result, chunks);
}

/** `upload` is the caller's chunks for callWithUpload, else null. A handler that ignores an upload cancels it. */
export type RpcHandler = (args: CodecValue, upload: AsyncIterable<Buffer> | null) => Promise<CodecValue | DownloadReply> | CodecValue | DownloadReply;

export interface DownloadResult {
  readonly result: CodecValue;
  /** Must be consumed or ended (break / return()): while unread, it holds the peer's input (inboundHighWater). */
  readonly chunks: AsyncIterable<Buffer>;
}

export interface RpcStats {
  /** write() calls on the writable: one per batch of frames (several frames go out in one writev). */
  readonly writes: number;
  readonly framesSent: number;
  readonly framesReceived: number;
  readonly bytesSent: number;
  /** Bytes read from the input (frames and their headers, as they came off the link). */
  readonly bytesReceived: number;
}

interface PendingCall {
  readonly method: string;
  readonly resolve: (r: DownloadResult) => void;
  readonly reject: (e: Error) => void;
  /** The upload's own source failed: the call fails with this, whatever the reply. */
  uploadFailure: Error | null;
  replied: boolean;
}

/** A stream this side sends; the receiver may cancel it. */
interface OutboundStream {
  stopped: boolean;
}

const EMPTY_CHUNKS: AsyncIterable<Buffer> = {
  [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }),
};

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

function* pieces(chunk: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < chunk.length; at += size) yield chunk.subarray(at, at + size);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class RpcPeer {
  private readonly handlers = new Map<string, RpcHandler>();
  private readonly decoder = new FrameDecoder(MAX_FRAME);
  private readonly errorFromWire: ErrorFromWire;
  private readonly keepaliveIntervalMs: number;
  private readonly lostAfterMs: number;
  private readonly inboundHighWater: number;
  private readonly sendBucket: TokenBucket | null;
  private readonly readBucket: TokenBucket | null;
  private readonly pieceSize: number;
  /** Data frames and call and result values go deflated (frame.ts): set once `open` agreed to --compress. */
  private compress = false;
  /** Reading is paused by the bandwidth limit until this timer fires. */
  private readThrottle: NodeJS.Timeout | null = null;

  private nextId = 1;
  private readonly pending = new Map<number, PendingCall>();
  /** Calls the peer made that are not answered yet. */
  private readonly theirCalls = new Set<number>();
  private readonly theirUploads = new Map<number, InboundStream>();
  private readonly myDownloads = new Map<number, InboundStream>();
  private readonly myUploads = new Map<number, OutboundStream>();
  private readonly theirDownloads = new Map<number, OutboundStream>();

  private outQueue: Buffer[] = [];
  private outQueuedBytes = 0;
  private flushScheduled = false;
  private inboundQueued = 0;
  private inputPaused = false;
  private lastHeard = Date.now();
  private readonly timer: NodeJS.Timeout;
  private endReason: Error | null = null;
  private readonly drainWaiters = new Set<() => void>();
  private counters = { writes: 0, framesSent: 0, framesReceived: 0, bytesSent: 0, bytesReceived: 0 };

  /** Settles (never rejects) with the reason when the session ends, for whatever reason. */
  readonly closed: Promise<Error>;
  private resolveClosed!: (reason: Error) => void;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    options: RpcPeerOptions = {},
  ) {
    this.errorFromWire = options.errorFromWire ?? defaultErrorFromWire;
    this.keepaliveIntervalMs = options.keepaliveIntervalMs ?? 15_000;
    this.lostAfterMs = options.lostAfterMs ?? 45_000;
    this.inboundHighWater = options.inboundHighWater ?? 16 * 1024 * 1024;
    const rate = options.bytesPerSecond;
    this.pieceSize = pieceSizeFor(rate);
    // a burst of a few frames: enough that control frames and small files do not wait, little enough to hold the rate
    this.sendBucket = rate === undefined ? null : new TokenBucket(rate, Math.max(this.pieceSize * 2, rate / 8));
    this.readBucket = rate === undefined ? null : new TokenBucket(rate, Math.max(this.pieceSize * 2, rate / 8));
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    input.on('data', this.onData);
    input.on('end', this.onInputEnd);
    input.on('close', this.onInputEnd);
    input.on('error', this.onStreamError);
    // stays attached after the end: a late EPIPE must not become an unhandled 'error' event
    output.on('error', this.onStreamError);
    output.on('close', this.onOutputClose);
    output.on('drain', this.onDrain);
    this.timer = setInterval(this.tick, this.keepaliveIntervalMs);
    this.timer.unref();
  }

  /** Registers the handler for calls of `method` from the other side. */
  handle(method: string, handler: RpcHandler): void {
    this.handlers.set(method, handler);
  }

  call(method: string, args: CodecValue): Promise<CodecValue> {
    return this.request(method, args, null).then(({ result, chunks }) => {
      // a reply with a stream nobody asked for: refuse it rather than hold it
      if (chunks !== EMPTY_CHUNKS) (chunks as InboundStream).cancel();
      return result;
    });
  }

  callWithUpload(method: string, args: CodecValue, chunks: AsyncIterable<Buffer>): Promise<CodecValue> {
    return this.request(method, args, chunks).then(({ result, chunks: down }) => {
      if (down !== EMPTY_CHUNKS) (down as InboundStream).cancel();
      return result;
    });
  }

  /** A call whose handler returns withDownload(...); a plain result comes with no chunks. */
  callWithDownload(method: string, args: CodecValue, upload: AsyncIterable<Buffer> | null = null): Promise<DownloadResult> {
    return this.request(method, args, upload);
  }

  /** Ends the session: pending calls reject with RemoteLostError, the output is ended, timers released. */
  close(): void {
    this.end(new RemoteLostError('the remote session was closed'));
  }

  /** Sends data frames, and the values of calls and results, deflated from now on (both sides read them always). */
  compressData(on: boolean): void {
    this.compress = on;
  }

  get stats(): RpcStats {
    return { ...this.counters };
  }

  private request(method: string, args: CodecValue, upload: AsyncIterable<Buffer> | null): Promise<DownloadResult> {
    if (this.endReason !== null) return Promise.reject(this.endReason);
    const id = this.allocateId();
    let frame: Buffer[];
    try {
      frame = encodeMessage({ kind: 'call', id, method, args, upload: upload !== null, compress: this.compress });
    } catch (e) {
      return Promise.reject(asError(e));
    }
    return new Promise<DownloadResult>((resolve, reject) => {
      const call: PendingCall = { method, resolve, reject, uploadFailure: null, replied: false };
      this.pending.set(id, call);
      const send = (): void => {
        // a session that ended meanwhile has rejected the call already
        if (this.endReason !== null) return;
        this.enqueue(frame);
        if (upload !== null) void this.sendUpload(id, call, upload);
      };
      // --bwlimit holds calls to the rate too, not only data frames: a batch of small files is one call's value
      const wait = this.sendBucket?.take(frame.reduce((n, b) => n + b.length, 0)) ?? 0;
      if (wait > 0) setTimeout(send, wait);
      else send();
    });
  }

  private allocateId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = id === MAX_ID ? 1 : id + 1;
      if (!this.pending.has(id) && !this.myUploads.has(id) && !this.myDownloads.has(id)) return id;
    }
  }

  private async sendUpload(id: number, call: PendingCall, chunks: AsyncIterable<Buffer>): Promise<void> {
    const stream: OutboundStream = { stopped: false };
    this.myUploads.set(id, stream);
    const shouldStop = (): boolean => stream.stopped || call.replied || this.endReason !== null;
    try {
      await this.pump(id, chunks, shouldStop);
      if (this.endReason === null) this.enqueue(encodeMessage(shouldStop() ? this.abortOf(id, 'the upload was stopped') : { kind: 'end', id }));
    } catch (e) {
      call.uploadFailure = asError(e);
      if (this.endReason === null) this.enqueue(encodeMessage({ kind: 'abort', id, error: errorToWire(e) }));
    } finally {
      this.myUploads.delete(id);
    }
  }

  private abortOf(id: number, message: string): Message {
    return { kind: 'abort', id, error: { name: 'Error', message } };
  }

  /** Sends `chunks` as data frames for `wireId`, waiting for the output to drain when it is full. */
  private async pump(wireId: number, chunks: AsyncIterable<Buffer>, shouldStop: () => boolean): Promise<void> {
    let sinceYield = 0;
    for await (const chunk of chunks) {
      for (const piece of pieces(chunk, this.pieceSize)) {
        if (shouldStop()) return;
        await this.roomToWrite();
        // a source and an output that never block would otherwise keep this loop in microtasks for the
        // whole stream: replies, cancels and timers (which run in later turns) could not get a word in
        if (sinceYield >= YIELD_EVERY) {
          sinceYield = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
        if (shouldStop()) return;
        const frame = encodeMessage({ kind: 'data', id: wireId, chunk: piece, compress: this.compress });
        const wait = this.sendBucket?.take(frame.reduce((n, b) => n + b.length, 0)) ?? 0;
        if (wait > 0) await sleep(wait);
        if (shouldStop()) return;
        this.enqueue(frame);
        sinceYield += piece.length;
      }
    }
  }

  private roomToWrite(): Promise<void> {
    if (!this.output.writableNeedDrain || this.endReason !== null) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.add(resolve));
  }

  private readonly onDrain = (): void => {
    const waiters = [...this.drainWaiters];
    this.drainWaiters.clear();
    for (const wake of waiters) wake();
  };

  // ---- output: frames queue up within a turn and leave in one write ----

  private enqueue(frame: Buffer[]): void {
    if (this.endReason !== null) return;
    for (const b of frame) {
      this.outQueue.push(b);
      this.outQueuedBytes += b.length;
    }
    this.counters.framesSent++;
    // a stream fills the queue faster than a turn ends: write now, so that the output's backpressure shows
    if (this.outQueuedBytes >= MAX_DATA_CHUNK * 4) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.outQueue.length === 0 || this.output.destroyed || this.output.writableEnded) return;
    const queue = this.outQueue;
    this.outQueue = [];
    this.counters.bytesSent += this.outQueuedBytes;
    this.outQueuedBytes = 0;
    this.counters.writes++;
    // corked writes of several buffers reach the stream's writev: one system call, no concatenation
    this.output.cork();
    for (const b of queue) this.output.write(b);
    this.output.uncork();
  };

  private sendReply(msg: Message): void {
    if (this.endReason !== null) return;
    // --compress: a result's value too (a pulled batch of small files is one)
    this.enqueue(encodeMessage(msg.kind === 'result' ? { ...msg, compress: this.compress } : msg));
  }

  // ---- input ----

  private readonly onData = (chunk: Buffer | string): void => {
    if (this.endReason !== null) return;
    this.lastHeard = Date.now();
    this.counters.bytesReceived += chunk.length;
    this.paceReading(chunk.length);
    try {
      const payloads = this.decoder.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
      for (const payload of payloads) {
        this.counters.framesReceived++;
        this.dispatch(decodeMessage(payload));
        if (this.endReason !== null) return;
      }
    } catch (e) {
      this.end(e instanceof ProtocolError ? e : new ProtocolError(`a frame could not be handled: ${asError(e).message}`));
    }
  };

  /** Under --bwlimit, what was read counts against the bucket: reading waits till it is paid for. */
  private paceReading(bytes: number): void {
    const wait = this.readBucket?.take(bytes) ?? 0;
    if (wait <= 0 || this.readThrottle !== null) return;
    this.input.pause();
    this.readThrottle = setTimeout(() => {
      this.readThrottle = null;
      this.lastHeard = Date.now();
      if (this.endReason === null && !this.inputPaused) this.input.resume();
    }, wait);
  }

  private dispatch(msg: Message): void {
    switch (msg.kind) {
      case 'ping':
        this.sendReply({ kind: 'pong' });
        return;
      case 'pong':
        return;
      case 'call':
        this.startHandler(msg.id, msg.method, msg.args, msg.upload);
        return;
      case 'result':
      case 'error':
        this.settle(msg);
        return;
      case 'data':
      case 'end':
      case 'abort':
        this.streamFrame(msg);
        return;
      case 'cancel':
        // a late cancel (the stream already ended) is normal, so an unknown id is ignored here
        if (msg.id >= RECEIVERS_CALL) {
          const up = this.myUploads.get(msg.id - RECEIVERS_CALL);
          if (up) up.stopped = true;
        } else {
          const down = this.theirDownloads.get(msg.id);
          if (down) down.stopped = true;
        }
        return;
    }
  }

  private settle(msg: Extract<Message, { kind: 'result' | 'error' }>): void {
    if (msg.id < RECEIVERS_CALL) throw new ProtocolError(`a ${msg.kind} frame for call ${msg.id}, which this side did not make`);
    const id = msg.id - RECEIVERS_CALL;
    const call = this.pending.get(id);
    if (call === undefined) throw new ProtocolError(`a ${msg.kind} frame for call ${id}, which is not pending`);
    this.pending.delete(id);
    call.replied = true;
    if (msg.kind === 'error') {
      call.reject(call.uploadFailure ?? this.errorFromWire(msg.error, call.method));
      return;
    }
    let chunks: AsyncIterable<Buffer> = EMPTY_CHUNKS;
    if (msg.download) {
      const stream = this.inboundStream(() => this.sendReply({ kind: 'cancel', id }));
      this.myDownloads.set(id, stream);
      chunks = stream;
    }
    if (call.uploadFailure !== null) {
      if (chunks !== EMPTY_CHUNKS) (chunks as InboundStream).cancel();
      call.reject(call.uploadFailure);
    } else call.resolve({ result: msg.value, chunks });
  }

  private streamFrame(msg: Extract<Message, { kind: 'data' | 'end' | 'abort' }>): void {
    const mine = msg.id >= RECEIVERS_CALL;
    const id = mine ? msg.id - RECEIVERS_CALL : msg.id;
    const streams = mine ? this.myDownloads : this.theirUploads;
    const stream = streams.get(id);
    if (stream === undefined) throw new ProtocolError(`a ${msg.kind} frame for stream ${id}, which is not open`);
    if (msg.kind === 'data') {
      stream.push(msg.chunk);
      return;
    }
    streams.delete(id);
    if (msg.kind === 'end') stream.end();
    else stream.fail(this.errorFromWire(msg.error, 'stream'));
  }

  private inboundStream(sendCancel: () => void): InboundStream {
    return new InboundStream({
      onCancel: sendCancel,
      onQueued: (bytes) => {
        this.inboundQueued += bytes;
        if (!this.inputPaused && this.inboundQueued > this.inboundHighWater) {
          this.inputPaused = true;
          this.input.pause();
        } else if (this.inputPaused && this.inboundQueued <= this.inboundHighWater / 4) {
          this.inputPaused = false;
          this.lastHeard = Date.now();
          if (this.endReason === null && this.readThrottle === null) this.input.resume();
        }
      },
    });
  }

  private startHandler(id: number, method: string, args: CodecValue, hasUpload: boolean): void {
    if (id >= RECEIVERS_CALL) throw new ProtocolError(`a call with id ${id}, which marks a call of this side`);
    if (this.theirCalls.has(id) || this.theirUploads.has(id) || this.theirDownloads.has(id)) throw new ProtocolError(`a call with id ${id}, which is still in use`);
    this.theirCalls.add(id);
    const wireId = id + RECEIVERS_CALL;
    let upload: InboundStream | null = null;
    if (hasUpload) {
      upload = this.inboundStream(() => this.sendReply({ kind: 'cancel', id: wireId }));
      this.theirUploads.set(id, upload);
    }
    const handler = this.handlers.get(method);
    const run = async (): Promise<CodecValue | DownloadReply> => {
      if (handler === undefined) throw Object.assign(new Error(`no handler for the method "${method}"`), { name: 'UnknownMethodError', code: 'UNKNOWN_METHOD' });
      return handler(args, upload);
    };
    run()
      .then(
        (reply) => {
          if (reply instanceof DownloadReply) {
            this.sendReply({ kind: 'result', id: wireId, value: reply.result, download: true });
            void this.sendDownload(id, reply.chunks);
          } else this.sendReply({ kind: 'result', id: wireId, value: reply, download: false });
        },
        (e: unknown) => this.sendReply({ kind: 'error', id: wireId, error: errorToWire(e) }),
      )
      .catch((e: unknown) => {
        // the result could not be encoded: the caller gets that as the call's error
        this.sendReply({ kind: 'error', id: wireId, error: errorToWire(e) });
      })
      .finally(() => {
        this.theirCalls.delete(id);
        // what the handler did not read of its upload is of no use any more
        upload?.cancel();
      });
  }

  private async sendDownload(id: number, chunks: AsyncIterable<Buffer>): Promise<void> {
    const stream: OutboundStream = { stopped: false };
    this.theirDownloads.set(id, stream);
    const wireId = id + RECEIVERS_CALL;
    try {
      await this.pump(wireId, chunks, () => stream.stopped || this.endReason !== null);
      this.sendReply({ kind: 'end', id: wireId });
    } catch (e) {
      this.sendReply({ kind: 'abort', id: wireId, error: errorToWire(e) });
    } finally {
      this.theirDownloads.delete(id);
    }
  }

  // ---- liveness and the end ----

  private readonly tick = (): void => {
    const now = Date.now();
    // while input is paused on purpose, silence is ours, not the link's
    if (this.inputPaused || this.readThrottle !== null) this.lastHeard = now;
    const silence = now - this.lastHeard;
    if (silence >= this.lostAfterMs) this.end(new RemoteLostError(`the remote side did not answer for ${Math.round(silence / 1000)} s`));
    else if (silence >= this.keepaliveIntervalMs) this.sendReply({ kind: 'ping' });
  };

  private readonly onInputEnd = (): void => {
    this.end(new RemoteLostError(this.decoder.atBoundary ? 'the remote side closed the connection' : 'the connection was cut in the middle of a frame'));
  };

  private readonly onStreamError = (e: Error): void => {
    this.end(new RemoteLostError(`the connection to the remote side failed: ${e.message}`));
  };

  private readonly onOutputClose = (): void => {
    this.end(new RemoteLostError('the connection to the remote side was closed'));
  };

  private end(reason: Error): void {
    if (this.endReason !== null) return;
    // what is queued (a last reply) still goes out before the output ends
    this.flush();
    this.endReason = reason;
    clearInterval(this.timer);
    if (this.readThrottle !== null) clearTimeout(this.readThrottle);
    for (const call of this.pending.values()) call.reject(reason);
    this.pending.clear();
    for (const stream of [...this.theirUploads.values(), ...this.myDownloads.values()]) stream.fail(reason);
    this.theirUploads.clear();
    this.myDownloads.clear();
    this.onDrain();
    this.input.off('data', this.onData);
    this.input.off('end', this.onInputEnd);
    this.input.off('close', this.onInputEnd);
    this.input.destroy();
    this.output.off('close', this.onOutputClose);
    if (!this.output.writableEnded) this.output.end();
    this.resolveClosed(reason);
  }
}
