// A side whose root is on another machine: every Endpoint method is a call to the agent there
// (agent-serve.ts), pipelined over one RPC session. The parts of the interface marked LOCAL are done
// here: the stat cache vouches for hashes as the scan arrives, and ignore files are applied by the caller
// with both sides' rules (sync/scan-pair.ts). Replies are checked like requests are on the agent: a far
// side that sends a path outside the root or a malformed entry ends the session (ProtocolError).
import * as v from 'valibot';
import { withEntry } from '../core/scanned.js';
import type { AbsPath, Expectation, KeptMeta, Problem, RelPath, ScannedEntry, Side } from '../core/types.js';
import { flushStrategyOf, TARGETED_FLUSH_MAX, type WrittenSide } from '../core/written-paths.js';
import { type BlockSignature, checkSignature } from '../delta/block-signature.js';
import type {
  BatchInstallItem,
  BatchReadItem,
  CacheStamp,
  Copied,
  FileRead,
  PerFile,
  DeltaBasis,
  Endpoint,
  EndpointWatch,
  HashResult,
  Installed,
  LinkTarget,
  PrepareRequest,
  RunOptions,
  ScanRequest,
  TrashVersionRef,
  Xattrs,
} from '../endpoint/endpoint.js';
import type { ReadStream, ReadTrailer } from '../engine/stream-copy.js';
import type { TrashedVersion } from '../core/trash-names.js';
import type { ScanResult } from '../scan/scan.js';
import type { RootWatchEvents } from '../watch/watcher.js';
import { GrowingScanTable } from '../scan/growing-scan-table.js';
import { ProtocolError } from './protocol-error.js';
import type { DownloadResult, RpcPeer, RpcStats } from './rpc-peer.js';
import { readEntryBatches } from './entry-batches.js';
import { IDENTITY_IDS, type IdMap, mapScanned } from './id-map.js';
import type { CodecValue } from './value-codec.js';
import { engineErrorFromWire } from './engine-errors.js';
import { installBatchReply, readBatchReply } from './wire-shapes.js';
import { blockSignature, cacheStampShape, parseWire, problem, relPath, scannedEntry, trashedVersion, wire, xattrValues } from './wire-shapes.js';

/** Paths per hash request: about 1 MB each way. */
const HASH_SLICE = 10_000;

/** An entry whose xattrs the agent's walk left out and the index did not vouch for: its slot in the scan table, and what the walk saw. */
interface LateXattrsAsked {
  readonly slot: number;
  readonly path: RelPath;
  readonly ino: bigint;
  readonly ctimeNs: bigint;
}

/** Digests by path: '' (none kept) or 16 hex digits (fs/xattrs.ts). */
const xattrDigestsReply = v.map(relPath, v.pipe(v.string(), v.regex(/^(?:|[0-9a-f]{16})$/)));

const NO_META: KeptMeta = { owner: false, group: false, xattrs: false };

const scanHead = v.object({
  count: v.pipe(v.number(), v.integer(), v.minValue(0)),
  problems: v.array(problem),
  leftoverTemps: v.array(relPath),
  rulesRead: v.map(v.string(), v.string()),
});
const copied = v.object({ source: scannedEntry, target: scannedEntry, bytes: v.number() });
const installed = v.object({ target: scannedEntry, bytes: v.number(), hash: v.string() });
const hintBatch = v.object({ paths: v.array(relPath), whole: v.boolean(), failure: v.nullable(v.pipe(v.string(), v.maxLength(64 * 1024))) });
const trailer = v.object({ hash: v.string(), bytes: v.number(), source: scannedEntry });

export class RemoteEndpoint implements Endpoint {
  readonly isLocal = false;
  private nextReadToken = 1;

  constructor(
    private readonly peer: RpcPeer,
    /** The root's real path on the far machine (for messages). */
    readonly root: AbsPath,
    /** Ends the session and the ssh process behind it. */
    private readonly disconnect: () => Promise<void>,
    /** Owners and groups by name between the machines (id-map.ts). */
    private readonly ids: IdMap = IDENTITY_IDS,
  ) {}

  /** A (local-id) entry as the agent must get it. */
  private out(s: ScannedEntry): CodecValue {
    const mapped = mapScanned(s, (e) => this.ids.toRemote(e));
    // the codec takes plain objects only, and `s` may be a scan table's view (scan/scan-table.ts ScannedRow)
    return wire(withEntry(mapped, mapped.entry));
  }

  /** An entry as the agent reported it, with local ids. */
  private in(s: ScannedEntry): ScannedEntry {
    return mapScanned(s, (e) => this.ids.toLocal(e));
  }

  direct(): null {
    return null;
  }

  async scan(req: ScanRequest): Promise<ScanResult> {
    const rules = req.filter?.rules ?? { exclude: [], include: [] };
    const keep = req.keep ?? NO_META;
    // the agent has no index to vouch with: a listxattr on every entry there was a third of its walk (10k entries,
    // no-op). It walks without them, and this side asks for the digests its index does not vouch for.
    const late = keep.xattrs && req.xattrsAfterWalk === true && req.vouchXattrs !== undefined;
    const down = await this.peer.callWithDownload('scan', { side: req.side, keep: wire(keep), rules: wire(rules), ...(late ? { lateXattrs: true } : {}) });
    return this.scanResultOf(req, down, true, late);
  }

  /** Like scan, for the dirty roots only: ignore files are applied by the caller (sync/watched-pair.ts). */
  async rescan(req: ScanRequest, roots: readonly RelPath[]): Promise<ScanResult> {
    const rules = req.filter?.rules ?? { exclude: [], include: [] };
    return this.scanResultOf(req, await this.peer.callWithDownload('rescan', { side: req.side, keep: wire(req.keep ?? NO_META), rules: wire(rules), roots: [...roots] }));
  }

  /**
   * The agent watches its root and calls our `hints` handler with batches; a malformed batch ends the
   * session, like a malformed reply.
   */
  async watch(side: Side, knownDirs: readonly RelPath[] | undefined, events: RootWatchEvents): Promise<EndpointWatch> {
    this.peer.handle('hints', async (raw) => {
      let batch: v.InferOutput<typeof hintBatch>;
      try {
        batch = parseWire(hintBatch, raw, 'hints');
      } catch (e) {
        setImmediate(() => this.peer.close());
        throw e;
      }
      if (batch.failure !== null) events.onFailure(side, `remote: ${batch.failure}`);
      if (batch.whole) events.onHint(side, null);
      for (const p of batch.paths) events.onHint(side, p);
      return null;
    });
    await this.peer.call('watch', { knownDirs: knownDirs === undefined ? null : [...knownDirs] });
    return {
      adopt: async (dirs) => parseWire(v.array(relPath), await this.peer.call('watchAdopt', { dirs: [...dirs] }), 'watchAdopt reply'),
      close: async () => {
        try {
          await this.peer.call('unwatch', {});
        } catch {
          // the session is gone: so is the agent's watch
        }
      },
    };
  }

  async hash(paths: readonly RelPath[], concurrency: number): Promise<Map<RelPath, HashResult>> {
    if (paths.length === 0) return new Map();
    // in slices, so that no request or reply comes near the frame limit (frame.ts)
    const out = new Map<RelPath, HashResult>();
    for (let at = 0; at < paths.length; at += HASH_SLICE) {
      const slice = paths.slice(at, at + HASH_SLICE);
      for (const [path, r] of hashReplyOf(await this.peer.call('hash', { paths: slice, concurrency }), new Set(slice))) out.set(path, r);
    }
    return out;
  }

  async prepare(req: PrepareRequest): Promise<void> {
    await this.peer.call('prepare', wire(req));
  }

  async removeTemps(paths: readonly RelPath[]): Promise<void> {
    if (paths.length > 0) await this.peer.call('removeTemps', { paths });
  }

  async hasFineCtime(): Promise<boolean> {
    return (await this.peer.call('hasFineCtime', {})) === true;
  }

  async beginRun(opts: RunOptions): Promise<void> {
    await this.peer.call('beginRun', wire(opts));
  }

  async endRun(): Promise<string[]> {
    return parseWire(v.array(v.string()), await this.peer.call('endRun', {}), 'endRun reply');
  }

  async assertParents(path: RelPath): Promise<void> {
    await this.peer.call('assertParents', { path });
  }

  async assertUnchanged(path: RelPath, scanned: ScannedEntry, label: string): Promise<void> {
    await this.peer.call('assertUnchanged', { path, scanned: this.out(scanned), label });
  }

  async remove(path: RelPath, expect: Expectation, label: string): Promise<void> {
    await this.peer.call('remove', { path, expect: wire(expect), label });
  }

  async makeDir(path: RelPath, source: ScannedEntry, label: string): Promise<ScannedEntry> {
    return this.entryReply('makeDir', await this.peer.call('makeDir', { path, source: this.out(source), label }));
  }

  async setMeta(path: RelPath, source: ScannedEntry, expect: Expectation, xattrs: Xattrs, label: string): Promise<ScannedEntry> {
    return this.entryReply('setMeta', await this.peer.call('setMeta', { path, source: this.out(source), expect: wire(expect), xattrs, label }));
  }

  async readXattrs(path: RelPath, label: string): Promise<Xattrs> {
    return parseWire(xattrValues, await this.peer.call('readXattrs', { path, label }), 'readXattrs reply') as Xattrs;
  }

  async noteOwnerLeft(path: RelPath): Promise<void> {
    await this.peer.call('noteOwnerLeft', { path });
  }

  async installSymlink(path: RelPath, source: ScannedEntry, expect: Expectation): Promise<ScannedEntry> {
    return this.entryReply('installSymlink', await this.peer.call('installSymlink', { path, source: this.out(source), expect: wire(expect) }));
  }

  async link(path: RelPath, linkTo: RelPath, linkToExpect: LinkTarget | null, source: ScannedEntry, expect: Expectation, label: string): Promise<ScannedEntry> {
    return this.entryReply('link', await this.peer.call('link', { path, linkTo, linkToExpect: wire(linkToExpect), source: this.out(source), expect: wire(expect), label }));
  }

  async copyWithin(fromPath: RelPath, from: ScannedEntry, toPath: RelPath, expect: Expectation): Promise<Copied> {
    const got = parseWire(copied, await this.peer.call('copyWithin', { fromPath, from: this.out(from), toPath, expect: wire(expect) }), 'copyWithin reply') as Copied;
    return { ...got, source: this.in(got.source), target: this.in(got.target) };
  }

  /**
   * The agent streams the file and checks it unchanged at the end (the stream fails otherwise); what it
   * read (hash, size, the source's stat after) is asked for once the bytes are through.
   */
  async openRead(path: RelPath, scanned: ScannedEntry): Promise<ReadStream> {
    const token = this.nextReadToken++;
    return this.readWithTrailer(token, await this.peer.callWithDownload('openRead', { token, path, scanned: this.out(scanned) }));
  }

  async signature(path: RelPath, expect: Expectation, blockSize: number): Promise<BlockSignature> {
    const sig = parseWire(blockSignature, await this.peer.call('signature', { path, expect: wire(expect), blockSize }), 'signature reply') as BlockSignature;
    // sized loops and lookups follow from it: a far side's word is checked first
    checkSignature(sig);
    if (sig.blockSize !== blockSize) throw new ProtocolError(`a signature with blocks of ${sig.blockSize} bytes, not ${blockSize}`);
    return sig;
  }

  /** The agent reads the file and sends its delta against `basis`; the trailer is fetched as for openRead. */
  async openDelta(path: RelPath, scanned: ScannedEntry, basis: BlockSignature): Promise<ReadStream> {
    const token = this.nextReadToken++;
    const signature = { blockSize: basis.blockSize, size: basis.size, weak: basis.weak, strong: basis.strong };
    return this.readWithTrailer(token, await this.peer.callWithDownload('openDelta', { token, path, scanned: this.out(scanned), signature }));
  }

  async installDelta(path: RelPath, source: ScannedEntry, expect: Expectation, basis: DeltaBasis, ops: AsyncIterable<Buffer>, xattrs: Xattrs): Promise<Installed> {
    const args = { path, source: this.out(source), expect: wire(expect), basis: { path: basis.path, expect: wire(basis.expect), blockSize: basis.blockSize }, xattrs };
    const got = parseWire(installed, await this.peer.callWithUpload('installDelta', args, ops), 'installDelta reply') as Installed;
    return { ...got, target: this.in(got.target) };
  }

  private readWithTrailer(token: number, down: DownloadResult): ReadStream {
    const inner = down.chunks[Symbol.asyncIterator]();
    let settle: { resolve: (t: ReadTrailer) => void; reject: (e: unknown) => void } = { resolve: () => undefined, reject: () => undefined };
    const done = new Promise<ReadTrailer>((resolve, reject) => {
      settle = { resolve, reject };
    });
    done.catch(() => undefined); // the chunks carry the same error to whoever reads them
    const fetchTrailer = async (): Promise<void> => {
      try {
        const got = parseWire(trailer, await this.peer.call('readTrailer', { token }), 'readTrailer reply') as ReadTrailer;
        settle.resolve({ ...got, source: this.in(got.source) });
      } catch (e) {
        settle.reject(e);
      }
    };
    const iterator: AsyncIterator<Buffer> = {
      next: async () => {
        try {
          const r = await inner.next();
          if (r.done === true) await fetchTrailer();
          return r;
        } catch (e) {
          settle.reject(e);
          throw e;
        }
      },
      return: async () => {
        await inner.return?.();
        settle.reject(new Error('the read was given up'));
        return { done: true, value: undefined };
      },
    };
    return {
      chunks: { [Symbol.asyncIterator]: () => iterator },
      done,
      cancel: () => void iterator.return?.(),
    };
  }

  async install(path: RelPath, source: ScannedEntry, expect: Expectation, chunks: AsyncIterable<Buffer>, xattrs: Xattrs): Promise<Installed> {
    const raw = await this.peer.callWithUpload('install', { path, source: this.out(source), expect: wire(expect), xattrs }, chunks);
    const got = parseWire(installed, raw, 'install reply') as Installed;
    return { ...got, target: this.in(got.target) };
  }

  /** One request for many small files read whole (engine/batch-copy.ts); per file its bytes or its error. */
  async readBatch(items: readonly BatchReadItem[]): Promise<PerFile<FileRead>[]> {
    const args = { items: items.map((i) => ({ path: i.path, scanned: this.out(i.scanned), xattrs: i.xattrs, noteOwner: i.noteOwner })) };
    const reply = parseWire(readBatchReply, await this.peer.call('readBatch', args), 'readBatch reply');
    if (reply.length !== items.length) throw new ProtocolError(`a batch of ${items.length} reads answered ${reply.length}`);
    return reply.map((r): PerFile<FileRead> => {
      if ('error' in r) return { error: engineErrorFromWire(r.error, 'readBatch') };
      if (r.bytes.length !== r.trailer.bytes) throw new ProtocolError(`a batched read of ${r.trailer.bytes} bytes sent ${r.bytes.length}`);
      const trailer = r.trailer as ReadTrailer;
      return { ok: { bytes: r.bytes, trailer: { ...trailer, source: this.in(trailer.source) }, xattrs: r.xattrs as Xattrs } };
    });
  }

  /** One request for many small files installed; per file what was installed or why not. */
  async installBatch(items: readonly BatchInstallItem[]): Promise<PerFile<Installed>[]> {
    const args = { items: items.map((i) => ({ path: i.path, source: this.out(i.source), expect: wire(i.expect), bytes: i.bytes, xattrs: i.xattrs })) };
    const reply = parseWire(installBatchReply, await this.peer.call('installBatch', args), 'installBatch reply');
    if (reply.length !== items.length) throw new ProtocolError(`a batch of ${items.length} installs answered ${reply.length}`);
    return reply.map((r): PerFile<Installed> => {
      if ('error' in r) return { error: engineErrorFromWire(r.error, 'installBatch') };
      const got = r.installed as Installed;
      return { ok: { ...got, target: this.in(got.target) } };
    });
  }

  async flush(written: WrittenSide, rootMade: boolean): Promise<readonly string[]> {
    // beyond the targeted flush's limit the far side flushes its whole file system (syncfs): the list itself
    // is not needed there, and a run of a million files would not fit in a frame, so only enough of it goes
    const many = flushStrategyOf(written) === 'syncfs';
    const inodes = many ? [...written.inodes].slice(0, TARGETED_FLUSH_MAX + 1) : [...written.inodes];
    const dirs = many ? [...written.dirs].slice(0, TARGETED_FLUSH_MAX + 1) : [...written.dirs];
    const raw = await this.peer.call('flush', { written: { inodes, dirs }, rootMade });
    return parseWire(v.array(v.string()), raw, 'flush reply').map((line) => `remote: ${line}`);
  }

  async flushFileSystem(): Promise<readonly string[]> {
    const raw = await this.peer.call('flushFileSystem', {});
    return parseWire(v.array(v.string()), raw, 'flushFileSystem reply').map((line) => `remote: ${line}`);
  }

  /** Asked when it is needed (at a commit, and before a deferred flush is settled), not kept from the open: a mount can change. */
  async cacheStamp(): Promise<CacheStamp | null> {
    return parseWire(v.nullable(cacheStampShape), await this.peer.call('cacheStamp', {}), 'cacheStamp reply');
  }

  async listTrash(): Promise<TrashedVersion[]> {
    return parseWire(v.array(trashedVersion), await this.peer.call('listTrash', {}), 'listTrash reply') as TrashedVersion[];
  }

  async restoreFromTrash(version: TrashVersionRef): Promise<void> {
    await this.peer.call('restoreFromTrash', { version: { stamp: version.stamp, path: version.path, stored: version.stored } });
  }

  /** What crossed the link so far (profiling, and tests of when a request left). */
  get linkStats(): RpcStats {
    return this.peer.stats;
  }

  async close(): Promise<void> {
    try {
      await this.peer.call('close', {});
    } catch {
      // the link may be gone already: closing is what was wanted
    }
    // for profiling and the e2e tests (what a delta or --compress saved), not a contract
    if (process.env.TSYNC_TIMINGS === '1') {
      const s = this.linkStats;
      process.stderr.write(`tsync timing: remote link: ${s.bytesSent} bytes sent, ${s.bytesReceived} bytes received\n`);
    }
    await this.disconnect();
  }

  ended(): Promise<Error> {
    return this.peer.closed;
  }

  /**
   * A scan's entries, read batch by batch and checked as they arrive, and its summary: in the reply (a rescan), or
   * at the end of the stream (`streamed`: a scan, whose entries leave the far side while it still walks). The stat
   * cache vouches for unchanged files here, as they arrive; problems are this side's.
   */
  private async scanResultOf(req: ScanRequest, down: DownloadResult, streamed = false, lateXattrs = false): Promise<ScanResult> {
    // kept in columns as they arrive, as a local walk keeps its own (scan/growing-scan-table.ts): a full scan's
    // table keyed by the index's numbers for its paths, as a local walk's is, made when the first entry arrives (a
    // lazy request loads the index then, as its vouch would): a full cycle then proves the quiet paths from the
    // columns and tests only the others (sync/quiet-columns.ts), not every path (issue 11)
    let table: GrowingScanTable | null = null;
    const tableFor = (): GrowingScanTable => {
      if (table !== null) return table;
      const slots = streamed ? req.pathSlots : undefined;
      table = new GrowingScanTable(slots === undefined ? {} : { slots, expectedEntries: slots.pathSlotCount });
      return table;
    };
    const vouch = req.vouch;
    const shared = req.sharedPath;
    const vouchXattrs = lateXattrs ? req.vouchXattrs : undefined;
    const unvouched: LateXattrsAsked[] = [];
    let slot = 0;
    // one pass as the batches arrive: each entry is mapped and vouched for once, and the hash goes into the entry
    // the decoder has just made (nobody else holds it) instead of a copy of it, which a no-op would make per file
    const trailer = await readEntryBatches(
      down.chunks,
      (path, arrived) => {
        const scanned = this.in(arrived);
        const e = scanned.entry;
        if (vouch !== null && e.kind === 'file' && e.hash === null) (e as { hash: string | null }).hash = vouch(path, scanned.stat);
        if (vouchXattrs !== undefined && e.kind !== 'symlink') {
          const digest = vouchXattrs(path, scanned.stat);
          if (digest !== undefined) (e as { xattrs?: string }).xattrs = digest;
          else unvouched.push({ slot, path, ino: scanned.stat.ino, ctimeNs: scanned.stat.ctimeNs });
        }
        // a path sent twice takes the later slot and leaves the count short: the check below refuses it
        tableFor().append(shared === undefined ? path : shared(path), scanned);
        slot++;
      },
      streamed,
    );
    const entries = tableFor();
    const got = parseWire(scanHead, streamed ? trailer : down.result, streamed ? 'scan summary' : 'scan reply');
    if (entries.size !== got.count) throw new ProtocolError(`a scan of ${got.count} entries sent ${entries.size}`);
    await this.settleLateXattrs(entries, unvouched);
    const problems = (got.problems as Problem[]).map((p) => ({ ...p, side: req.side }));
    return { side: req.side, entries, problems, leftoverTemps: got.leftoverTemps, rulesRead: got.rulesRead };
  }

  /**
   * Asks the agent for the xattr digests of the entries its walk left without them and the index did not vouch
   * for (a no-op: none, and no round trip). One it could not read, or whose entry changed since the walk, stays
   * unknown: that decides nothing this run (core/compare.ts), and the changed ctime has it read next time.
   */
  private async settleLateXattrs(entries: GrowingScanTable, unvouched: readonly LateXattrsAsked[]): Promise<void> {
    for (let at = 0; at < unvouched.length; at += HASH_SLICE) {
      const slice = unvouched.slice(at, at + HASH_SLICE);
      const asked = new Set(slice.map((u) => u.path));
      const raw = await this.peer.call('xattrDigests', { asked: slice.map(({ path, ino, ctimeNs }) => ({ path, ino, ctimeNs })) });
      const digests = parseWire(xattrDigestsReply, raw, 'xattrDigests reply');
      for (const path of digests.keys()) if (!asked.has(path)) throw new ProtocolError(`malformed xattrDigests reply: ${JSON.stringify(path)} was not asked for`);
      for (const u of slice) {
        const digest = digests.get(u.path);
        if (digest !== undefined) entries.settleXattrs(u.slot, digest);
      }
    }
  }

  private entryReply(method: string, raw: CodecValue): ScannedEntry {
    return this.in(parseWire(scannedEntry, raw, `${method} reply`) as ScannedEntry);
  }
}

const HASH_TEXT = /^[0-9a-f]{16}$/;
const ERRNO_CODE = /^[!-~]{1,64}$/;

/**
 * Checks a hash reply: one result per path asked for, no other path, each a hash (16 hex digits) or an
 * errno code. A plain loop rather than a schema: a first two-way sync asks for every file (in slices).
 */
function hashReplyOf(raw: CodecValue, asked: ReadonlySet<RelPath>): Map<RelPath, HashResult> {
  if (!(raw instanceof Map)) throw new ProtocolError('malformed hash reply: not a map');
  const out = new Map<RelPath, HashResult>();
  for (const [path, r] of raw as ReadonlyMap<CodecValue, CodecValue>) {
    if (typeof path !== 'string' || !asked.has(path as RelPath)) throw new ProtocolError(`malformed hash reply: ${JSON.stringify(path)} was not asked for`);
    const result = typeof r === 'object' && r !== null && !(r instanceof Map) && !Array.isArray(r) && !(r instanceof Uint8Array) ? (r as { readonly [key: string]: CodecValue }) : null;
    const keys = result === null ? [] : Object.keys(result);
    const hash = result?.hash;
    const code = result?.code;
    if (keys.length === 1 && typeof hash === 'string' && HASH_TEXT.test(hash)) out.set(path as RelPath, { hash });
    else if (keys.length === 1 && typeof code === 'string' && ERRNO_CODE.test(code)) out.set(path as RelPath, { code });
    else throw new ProtocolError(`malformed hash reply at ${JSON.stringify(path)}: neither a hash nor an errno code`);
  }
  return out;
}
