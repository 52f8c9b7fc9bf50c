// A side whose root is on another machine: every Endpoint method is a call to the agent there
// (agent-serve.ts), pipelined over one RPC session. The parts of the interface marked LOCAL are done
// here: the stat cache vouches for hashes as the scan arrives, and ignore files are applied by the caller
// with both sides' rules (sync/scan-pair.ts). Replies are checked like requests are on the agent: a far
// side that sends a path outside the root or a malformed entry ends the session (ProtocolError).
import * as v from 'valibot';
import type { AbsPath, Expectation, KeptMeta, Problem, RelPath, ScannedEntry, Side } from '../core/types.js';
import type { WrittenSide } from '../core/written-paths.js';
import type { Copied, Endpoint, EndpointWatch, HashResult, Installed, LinkTarget, PrepareRequest, RunOptions, ScanRequest, Xattrs } from '../endpoint/endpoint.js';
import type { ReadStream, ReadTrailer } from '../engine/stream-copy.js';
import type { ScanResult } from '../scan/scan.js';
import type { RootWatchEvents } from '../watch/watcher.js';
import type { RpcPeer } from './rpc-peer.js';
import type { CodecValue } from './value-codec.js';
import { parseWire, problem, relPath, scannedEntry, wire, xattrValues } from './wire-shapes.js';

const NO_META: KeptMeta = { owner: false, group: false, xattrs: false };

const scanReply = v.object({
  entries: v.map(relPath, scannedEntry),
  problems: v.array(problem),
  leftoverTemps: v.array(relPath),
  rulesRead: v.map(v.string(), v.string()),
});
const hashReply = v.map(relPath, v.union([v.object({ hash: v.string() }), v.object({ code: v.string() })]));
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
  ) {}

  direct(): null {
    return null;
  }

  async scan(req: ScanRequest): Promise<ScanResult> {
    const rules = req.filter?.rules ?? { exclude: [], include: [] };
    const raw = await this.peer.call('scan', { side: req.side, keep: wire(req.keep ?? NO_META), rules: wire(rules) });
    return this.scanResultOf(req, parseWire(scanReply, raw, 'scan reply'));
  }

  /** Like scan, for the dirty roots only: ignore files are applied by the caller (sync/watched-pair.ts). */
  async rescan(req: ScanRequest, roots: readonly RelPath[]): Promise<ScanResult> {
    const rules = req.filter?.rules ?? { exclude: [], include: [] };
    const raw = await this.peer.call('rescan', { side: req.side, keep: wire(req.keep ?? NO_META), rules: wire(rules), roots: [...roots] });
    return this.scanResultOf(req, parseWire(scanReply, raw, 'rescan reply'));
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
    return parseWire(hashReply, await this.peer.call('hash', { paths, concurrency }), 'hash reply') as Map<RelPath, HashResult>;
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
    await this.peer.call('assertUnchanged', { path, scanned: wire(scanned), label });
  }

  async remove(path: RelPath, expect: Expectation, label: string): Promise<void> {
    await this.peer.call('remove', { path, expect: wire(expect), label });
  }

  async makeDir(path: RelPath, source: ScannedEntry, label: string): Promise<ScannedEntry> {
    return this.entryReply('makeDir', await this.peer.call('makeDir', { path, source: wire(source), label }));
  }

  async setMeta(path: RelPath, source: ScannedEntry, expect: Expectation, xattrs: Xattrs, label: string): Promise<ScannedEntry> {
    return this.entryReply('setMeta', await this.peer.call('setMeta', { path, source: wire(source), expect: wire(expect), xattrs, label }));
  }

  async readXattrs(path: RelPath, label: string): Promise<Xattrs> {
    return parseWire(xattrValues, await this.peer.call('readXattrs', { path, label }), 'readXattrs reply') as Xattrs;
  }

  async noteOwnerLeft(path: RelPath): Promise<void> {
    await this.peer.call('noteOwnerLeft', { path });
  }

  async installSymlink(path: RelPath, source: ScannedEntry, expect: Expectation): Promise<ScannedEntry> {
    return this.entryReply('installSymlink', await this.peer.call('installSymlink', { path, source: wire(source), expect: wire(expect) }));
  }

  async link(path: RelPath, linkTo: RelPath, linkToExpect: LinkTarget | null, source: ScannedEntry, expect: Expectation, label: string): Promise<ScannedEntry> {
    return this.entryReply('link', await this.peer.call('link', { path, linkTo, linkToExpect: wire(linkToExpect), source: wire(source), expect: wire(expect), label }));
  }

  async copyWithin(fromPath: RelPath, from: ScannedEntry, toPath: RelPath, expect: Expectation): Promise<Copied> {
    return parseWire(copied, await this.peer.call('copyWithin', { fromPath, from: wire(from), toPath, expect: wire(expect) }), 'copyWithin reply') as Copied;
  }

  /**
   * The agent streams the file and checks it unchanged at the end (the stream fails otherwise); what it
   * read (hash, size, the source's stat after) is asked for once the bytes are through.
   */
  async openRead(path: RelPath, scanned: ScannedEntry): Promise<ReadStream> {
    const token = this.nextReadToken++;
    const down = await this.peer.callWithDownload('openRead', { token, path, scanned: wire(scanned) });
    const inner = down.chunks[Symbol.asyncIterator]();
    let settle: { resolve: (t: ReadTrailer) => void; reject: (e: unknown) => void } = { resolve: () => undefined, reject: () => undefined };
    const done = new Promise<ReadTrailer>((resolve, reject) => {
      settle = { resolve, reject };
    });
    done.catch(() => undefined); // the chunks carry the same error to whoever reads them
    const fetchTrailer = async (): Promise<void> => {
      try {
        settle.resolve(parseWire(trailer, await this.peer.call('readTrailer', { token }), 'readTrailer reply') as ReadTrailer);
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
    const raw = await this.peer.callWithUpload('install', { path, source: wire(source), expect: wire(expect), xattrs }, chunks);
    return parseWire(installed, raw, 'install reply') as Installed;
  }

  async flush(written: WrittenSide, rootMade: boolean): Promise<readonly string[]> {
    const raw = await this.peer.call('flush', { written: { inodes: [...written.inodes], dirs: [...written.dirs] }, rootMade });
    return parseWire(v.array(v.string()), raw, 'flush reply').map((line) => `remote: ${line}`);
  }

  async close(): Promise<void> {
    try {
      await this.peer.call('close', {});
    } catch {
      // the link may be gone already: closing is what was wanted
    }
    await this.disconnect();
  }

  ended(): Promise<Error> {
    return this.peer.closed;
  }

  /** The stat cache vouches for unchanged files here, as the reply arrives; problems are this side's. */
  private scanResultOf(req: ScanRequest, got: v.InferOutput<typeof scanReply>): ScanResult {
    const entries = got.entries as Map<RelPath, ScannedEntry>;
    const vouch = req.vouch;
    if (vouch !== null) {
      for (const [path, scanned] of entries) {
        const e = scanned.entry;
        if (e.kind !== 'file' || e.hash !== null) continue;
        const hash = vouch(path, scanned.stat);
        if (hash !== null) entries.set(path, { ...scanned, entry: { ...e, hash } });
      }
    }
    const problems = (got.problems as Problem[]).map((p) => ({ ...p, side: req.side }));
    return { side: req.side, entries, problems, leftoverTemps: got.leftoverTemps, rulesRead: got.rulesRead };
  }

  private entryReply(method: string, raw: CodecValue): ScannedEntry {
    return parseWire(scannedEntry, raw, `${method} reply`) as ScannedEntry;
  }
}
