// The far side of a remote root: a LocalEndpoint on this machine, its methods served over the framed
// protocol on stdin and stdout. The agent holds no state index (that stays with the tsync that called
// it) and decides nothing: it scans, reads and writes its root as asked, with the same descriptor-anchored
// I/O, stale checks, temp-plus-rename and trash as a local side. Every argument is checked on arrival
// (wire-shapes.ts): a path outside the root or a malformed value ends the session and touches nothing.
import { homedir, hostname } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import * as v from 'valibot';
import type { Expectation, RelPath, ScannedEntry } from '../core/types.js';
import type { WrittenSide } from '../core/written-paths.js';
import { type LinkTarget, type RunOptions, SHARED_THREAD_SLICE_MS, type Xattrs } from '../endpoint/endpoint.js';
import { LocalEndpoint } from '../endpoint/local-endpoint.js';
import type { StreamedWalkEnd } from '../scan/scan.js';
import type { ReadTrailer } from '../engine/stream-copy.js';
import { mayChown } from '../fs/owner.js';
import { toBytes } from '../fs/paths.js';
import { xattrsAvailable } from '../fs/xattrs.js';
import { loadHasher } from '../hash/xxhash.js';
import { PathFilter } from '../ignore/path-filter.js';
import { resolveStateDir } from '../store/state-location.js';
import { resolveOne } from '../sync/roots.js';
import { shapeForWire } from './engine-errors.js';
import { entryBatches, streamedEntryBatches } from './entry-batches.js';
import { ProtocolError } from './protocol-error.js';
import { AgentWatch } from './agent-watch.js';
import { acquireRootLock, type RootLock } from './root-lock.js';
import { type RpcHandler, RpcPeer, withDownload } from './rpc-peer.js';
import type { CodecValue } from './value-codec.js';
import { addonOffer, blockSignature, deltaBasis, expectation, keptMeta, label, parseWire, relPath, scannedEntry, trashVersionRef, wire, xattrValues } from './wire-shapes.js';
import { installBatchRequest, readBatchRequest } from './wire-shapes.js';
import { errorToWire } from './wire-error.js';
import type { BlockSignature } from '../delta/block-signature.js';
import { MAX_BLOCK, MIN_BLOCK } from '../delta/block-signature.js';
import { machineIdentity } from './machine-id.js';
import { installAddon, takeCachedAddon } from './agent-xattr-addon.js';
import { readNameTables } from './name-tables.js';

const rules = v.object({ exclude: v.array(v.string()), include: v.array(v.string()) });
const linkTarget = v.nullable(v.object({ ino: v.bigint(), size: v.number(), mtimeNs: v.bigint() }));
const written = v.object({ inodes: v.array(relPath), dirs: v.array(v.nullable(relPath)) });

/** What one session of the agent holds: the root it serves once `open` named it, its lock, unread read trailers. */
class AgentSession {
  private endpoint: LocalEndpoint | null = null;
  private lock: RootLock | null = null;
  private readonly trailers = new Map<number, Promise<ReadTrailer>>();
  private watch: AgentWatch | null = null;

  constructor(private readonly peer: RpcPeer) {}

  /** Registers a method whose arguments are checked with `schema` first. */
  on<S extends v.GenericSchema>(
    method: string,
    schema: S,
    run: (args: v.InferOutput<S>, upload: AsyncIterable<Buffer> | null) => Promise<CodecValue | ReturnType<typeof withDownload>>,
  ): void {
    const handler: RpcHandler = async (raw, upload) => {
      // the streaming hash that copies and reads use is loaded once, before the first of them
      await loadHasher();
      let args: v.InferOutput<S>;
      try {
        args = parseWire(schema, raw, `${method} request`);
      } catch (e) {
        // a request no tsync makes: end the session rather than guess what it meant
        setImmediate(() => this.peer.close());
        throw e;
      }
      try {
        return await run(args, upload);
      } catch (e) {
        throw shapeForWire(e);
      }
    };
    this.peer.handle(method, handler);
  }

  ep(): LocalEndpoint {
    if (this.endpoint === null) throw new ProtocolError('no root is open (open comes first)');
    return this.endpoint;
  }

  register(): void {
    this.on(
      'open',
      v.object({ path: v.string(), mayBeMissing: v.boolean(), compress: v.optional(v.boolean()), xattrAddon: v.optional(addonOffer) }),
      async ({ path, mayBeMissing, compress, xattrAddon }) => {
        if (this.endpoint !== null) throw new ProtocolError('a root is already open');
        // '' is the home directory and a relative path starts there, as with scp and rsync
        const text = path === '' ? homedir() : isAbsolute(path) ? path : join(homedir(), path);
        const { path: real, missing } = resolveOne(text, 'remote root', mayBeMissing);
        this.endpoint = new LocalEndpoint(real);
        const machine = machineIdentity();
        // no tsync installed here: the near side's xattr binary, if it is cached here already (else the reply asks for it)
        const addon = xattrAddon === undefined ? null : takeCachedAddon(xattrAddon);
        // --compress: from this reply on, data and values go deflated (the client reads both kinds)
        if (compress === true) this.peer.compressData(true);
        return {
          root: real,
          missing,
          host: hostname(),
          machine,
          uid: process.getuid?.() ?? -1,
          mayChown: mayChown(),
          xattrs: xattrsAvailable(),
          ...(addon === null ? {} : { xattrAddon: addon }),
          names: wire(readNameTables()),
          compress: compress === true,
        };
      },
    );
    this.on('xattrAddon', v.object({ offer: addonOffer, bytes: v.instance(Buffer) }), async ({ offer, bytes }) => ({ xattrs: installAddon(offer, bytes) }));
    this.on('lock', v.object({ clientHost: v.string(), clientPid: v.number() }), async ({ clientHost, clientPid }) => {
      const ep = this.ep();
      this.lock ??= acquireRootLock(resolveStateDir({ flag: undefined, env: process.env }), toBytes(ep.root), { host: clientHost, pid: clientPid });
      return null;
    });
    this.on('scan', v.object({ side: v.picklist(['left', 'right']), keep: keptMeta, rules, lateXattrs: v.optional(v.boolean()) }), async ({ side, keep, rules: r, lateXattrs }) => {
      // ignore files are read here but applied by the client, with both sides' rules (ignore/filter-scan.ts)
      const filter = new PathFilter(r, [this.ep().root], { applyIgnoreFiles: false });
      // the entries travel while the walk goes on, and the client maps and vouches for them as they come: the
      // walks of a big tree no longer run one after the other. The summary only the end knows closes the stream.
      // lateXattrs: the walk reads no xattrs; the client asks (xattrDigests) for those its index does not vouch for
      const walk = this.ep().scanStreamed({ side, filter, vouch: null, keep: lateXattrs === true ? { ...keep, xattrs: false } : keep }, SHARED_THREAD_SLICE_MS);
      // the first slice now: a root that cannot be walked is this call's error, not a broken stream
      const first = await walk.next();
      let result: StreamedWalkEnd | null = first.done === true ? first.value : null;
      async function* parts(): AsyncGenerator<[RelPath, ScannedEntry][]> {
        if (first.done === true) return;
        try {
          yield first.value;
          for (;;) {
            const next = await walk.next();
            if (next.done === true) {
              result = next.value;
              return;
            }
            yield next.value;
          }
        } finally {
          // the client stopped reading (or the link went): the walk ends here, its descriptors closed
          if (result === null) await walk.throw(new ScanStoppedError()).catch(() => undefined);
        }
      }
      const summary = (): CodecValue => {
        if (result === null) throw new Error('the scan summary was asked for before the walk ended');
        return scanHead(result, filter);
      };
      return withDownload({}, streamedEntryBatches(parts(), summary));
    });
    this.on('rescan', v.object({ side: v.picklist(['left', 'right']), keep: keptMeta, rules, roots: v.array(relPath) }), async ({ side, keep, rules: r, roots }) => {
      // like scan: ignore files read here, applied by the client with both sides' rules
      const filter = new PathFilter(r, [this.ep().root], { applyIgnoreFiles: false });
      const scan = await this.ep().rescan({ side, filter, vouch: null, keep }, roots);
      return withDownload(scanHead({ ...scan, count: scan.entries.size }, filter), entryBatches(scan.entries));
    });
    this.on('watch', v.object({ knownDirs: v.nullable(v.array(relPath)) }), async ({ knownDirs }) => {
      if (this.watch !== null) throw new ProtocolError('the root is already watched');
      this.watch = new AgentWatch(this.peer);
      await this.watch.start(this.ep(), knownDirs ?? undefined);
      return null;
    });
    this.on('watchAdopt', v.object({ dirs: v.array(relPath) }), async ({ dirs }) => (this.watch === null ? [] : this.watch.adopt(new Set(dirs))));
    this.on('unwatch', v.object({}), async () => {
      await this.watch?.close();
      this.watch = null;
      return null;
    });
    this.on('xattrDigests', v.object({ asked: v.array(v.object({ path: relPath, ino: v.bigint(), ctimeNs: v.bigint() })) }), async ({ asked }) => wire(this.ep().xattrDigests(asked)));
    this.on('hash', v.object({ paths: v.array(relPath), concurrency: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1024)) }), async ({ paths, concurrency }) =>
      wire(await this.ep().hash(paths, concurrency)),
    );
    this.on('prepare', v.object({ createRoot: v.boolean(), trashKeepMs: v.nullable(v.number()), leftoverTemps: v.array(relPath) }), async (req) => {
      await this.ep().prepare(req);
      return null;
    });
    this.on('removeTemps', v.object({ paths: v.array(relPath) }), async ({ paths }) => {
      await this.ep().removeTemps(paths);
      return null;
    });
    this.on('hasFineCtime', v.object({}), async () => this.ep().hasFineCtime());
    this.on(
      'beginRun',
      v.object({ trashStamp: v.nullable(v.pipe(v.string(), v.regex(/^[0-9A-Za-z_.-]+$/))), keep: keptMeta, chownRefused: v.boolean(), racyWindowNs: v.bigint() }),
      async (o) => {
        await this.ep().beginRun(o as RunOptions);
        return null;
      },
    );
    this.on('endRun', v.object({}), async () => this.ep().endRun());
    this.on('assertParents', v.object({ path: relPath }), async ({ path }) => {
      await this.ep().assertParents(path);
      return null;
    });
    this.on('assertUnchanged', v.object({ path: relPath, scanned: scannedEntry, label }), async (a) => {
      await this.ep().assertUnchanged(a.path, a.scanned as ScannedEntry, a.label);
      return null;
    });
    this.on('remove', v.object({ path: relPath, expect: expectation, label }), async (a) => {
      await this.ep().remove(a.path, a.expect as Expectation, a.label);
      return null;
    });
    this.on('makeDir', v.object({ path: relPath, source: scannedEntry, label }), async (a) => wire(await this.ep().makeDir(a.path, a.source as ScannedEntry, a.label)));
    this.on('setMeta', v.object({ path: relPath, source: scannedEntry, expect: expectation, xattrs: xattrValues, label }), async (a) =>
      wire(await this.ep().setMeta(a.path, a.source as ScannedEntry, a.expect as Expectation, a.xattrs as Xattrs, a.label)),
    );
    this.on('readXattrs', v.object({ path: relPath, label }), async (a) => (await this.ep().readXattrs(a.path, a.label)) as CodecValue);
    this.on('noteOwnerLeft', v.object({ path: relPath }), async ({ path }) => {
      await this.ep().noteOwnerLeft(path);
      return null;
    });
    this.on('installSymlink', v.object({ path: relPath, source: scannedEntry, expect: expectation }), async (a) =>
      wire(await this.ep().installSymlink(a.path, a.source as ScannedEntry, a.expect as Expectation)),
    );
    this.on('link', v.object({ path: relPath, linkTo: relPath, linkToExpect: linkTarget, source: scannedEntry, expect: expectation, label }), async (a) =>
      wire(await this.ep().link(a.path, a.linkTo, a.linkToExpect as LinkTarget | null, a.source as ScannedEntry, a.expect as Expectation, a.label)),
    );
    this.on('copyWithin', v.object({ fromPath: relPath, from: scannedEntry, toPath: relPath, expect: expectation }), async (a) =>
      wire(await this.ep().copyWithin(a.fromPath, a.from as ScannedEntry, a.toPath, a.expect as Expectation)),
    );
    this.on('openRead', v.object({ token: v.number(), path: relPath, scanned: scannedEntry }), async (a) => {
      const read = await this.ep().openRead(a.path, a.scanned as ScannedEntry);
      this.trailers.set(a.token, read.done);
      return withDownload(null, read.chunks);
    });
    this.on('signature', v.object({ path: relPath, expect: expectation, blockSize: v.pipe(v.number(), v.integer(), v.minValue(MIN_BLOCK), v.maxValue(MAX_BLOCK)) }), async (a) => {
      const sig = await this.ep().signature(a.path, a.expect as Expectation, a.blockSize);
      return { blockSize: sig.blockSize, size: sig.size, weak: sig.weak, strong: sig.strong };
    });
    this.on('openDelta', v.object({ token: v.number(), path: relPath, scanned: scannedEntry, signature: blockSignature }), async (a) => {
      // openDelta checks the signature against itself before it sizes anything by it
      const read = await this.ep().openDelta(a.path, a.scanned as ScannedEntry, a.signature as BlockSignature);
      this.trailers.set(a.token, read.done);
      return withDownload(null, read.chunks);
    });
    this.on('installDelta', v.object({ path: relPath, source: scannedEntry, expect: expectation, basis: deltaBasis, xattrs: xattrValues }), async (a, upload) => {
      if (upload === null) throw new ProtocolError('installDelta without its delta');
      const basis = { path: a.basis.path, expect: a.basis.expect as Expectation, blockSize: a.basis.blockSize };
      return wire(await this.ep().installDelta(a.path, a.source as ScannedEntry, a.expect as Expectation, basis, upload, a.xattrs as Xattrs));
    });
    this.on('readTrailer', v.object({ token: v.number() }), async ({ token }) => {
      const done = this.trailers.get(token);
      if (done === undefined) throw new ProtocolError(`no read ${token} to finish`);
      this.trailers.delete(token);
      return wire(await done);
    });
    this.on('install', v.object({ path: relPath, source: scannedEntry, expect: expectation, xattrs: xattrValues }), async (a, upload) => {
      if (upload === null) throw new ProtocolError('install without its bytes');
      return wire(await this.ep().install(a.path, a.source as ScannedEntry, a.expect as Expectation, upload, a.xattrs as Xattrs));
    });
    this.on('flush', v.object({ written, rootMade: v.boolean() }), async ({ written: w, rootMade }) => {
      const side: WrittenSide = { inodes: new Set(w.inodes), dirs: new Set(w.dirs) };
      return [...(await this.ep().flush(side, rootMade))];
    });
    this.on('flushFileSystem', v.object({}), async () => [...(await this.ep().flushFileSystem())]);
    this.on('cacheStamp', v.object({}), async () => wire(await this.ep().cacheStamp()));
    this.on('listTrash', v.object({}), async () => wire(await this.ep().listTrash()));
    this.on('restoreFromTrash', v.object({ version: trashVersionRef }), async ({ version }) => {
      await this.ep().restoreFromTrash(version);
      return null;
    });
    this.registerBatches();
    this.on('close', v.object({}), async () => {
      await this.closeAll();
      return null;
    });
  }

  /**
   * Batched copies of small files (engine/batch-copy.ts): many files per request, each read or installed
   * on its own with the checks of openRead and install, and its error sent back as its own result. A
   * malformed batch ends the session like any malformed request; one file's failure is that file's only.
   */
  private registerBatches(): void {
    this.on('readBatch', readBatchRequest, async ({ items }) => {
      const reads = await this.ep().readBatch(items.map((i) => ({ ...i, scanned: i.scanned as ScannedEntry })));
      return reads.map((r) => ('ok' in r ? { bytes: r.ok.bytes, trailer: wire(r.ok.trailer), xattrs: r.ok.xattrs } : { error: wire(errorToWire(shapeForWire(r.error))) }));
    });
    this.on('installBatch', installBatchRequest, async ({ items }) => {
      const got = await this.ep().installBatch(
        items.map((i) => ({ path: i.path, source: i.source as ScannedEntry, expect: i.expect as Expectation, bytes: i.bytes, xattrs: i.xattrs as Xattrs })),
      );
      return got.map((r) => ('ok' in r ? { installed: wire(r.ok) } : { error: wire(errorToWire(shapeForWire(r.error))) }));
    });
  }

  async closeAll(): Promise<void> {
    await this.watch?.close();
    this.watch = null;
    await this.endpoint?.close();
    this.lock?.release();
    this.lock = null;
  }
}

/** Ends a streamed walk whose stream was stopped before the walk was done. */
class ScanStoppedError extends Error {
  readonly code = 'SCAN_STOPPED';
}

/**
 * What a scan says besides its entries: at the end of a streamed scan's batches (entry-batches.ts
 * streamedEntryBatches), or as a rescan's reply, ahead of its batches.
 */
function scanHead(scan: Pick<StreamedWalkEnd, 'count' | 'problems' | 'leftoverTemps'>, filter: PathFilter): CodecValue {
  return { count: scan.count, problems: wire(scan.problems), leftoverTemps: scan.leftoverTemps, rulesRead: new Map(filter.rulesRead()) };
}

/** Serves one session on the agent's stdin and stdout until the client ends it (or the link is lost). */
export async function serveAgent(input: Readable, output: Writable): Promise<void> {
  const peer = new RpcPeer(input, output);
  const session = new AgentSession(peer);
  session.register();
  const reason = await peer.closed;
  await session.closeAll();
  // the client closing its end is the normal way out; anything else is said on stderr, which ssh passes on
  if (!(reason instanceof Error) || !/closed|ended/.test(reason.message)) process.stderr.write(`tsync agent: ${reason.message}\n`);
}
