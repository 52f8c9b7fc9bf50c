// The near side of a remote scan (RemoteEndpoint.scan): entries arrive as compact batches while the far side still
// walks, are checked as they arrive, and the stream ends with the scan's summary (remote/entry-batches.ts). The far side here is an RpcPeer over in-memory streams (real PassThroughs, as in rpc-peer.test.ts;
// ssh and the agent process are what the test/remote suites add) serving a real scan of a real temp tree, or a
// hostile reply: a path outside the root, a batch cut short, an entry count that does not match.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { AbsPath, RelPath, ScannedEntry } from '../../src/core/types.js';
import { LocalEndpoint } from '../../src/endpoint/local-endpoint.js';
import { entryBatches, streamedEntryBatches } from '../../src/remote/entry-batches.js';
import { ProtocolError } from '../../src/remote/protocol-error.js';
import { encodeScanBatch } from '../../src/remote/scan-batch-codec.js';
import { RemoteEndpoint } from '../../src/remote/remote-endpoint.js';
import { RpcPeer, withDownload } from '../../src/remote/rpc-peer.js';
import type { CodecValue } from '../../src/remote/value-codec.js';
import { ScanTable } from '../../src/scan/scan-table.js';
import { BaseTable } from '../../src/store/base-table.js';
import { makeTempDir, removeTempDir } from '../helpers/cli.js';

const dirs: string[] = [];
const peers: RpcPeer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.close();
  for (const d of dirs.splice(0)) removeTempDir(d);
});

function link(): { near: RpcPeer; far: RpcPeer } {
  const up = new PassThrough();
  const down = new PassThrough();
  const near = new RpcPeer(down, up, {});
  const far = new RpcPeer(up, down, {});
  peers.push(near, far);
  return { near, far };
}

function headOf(count: number): CodecValue {
  return { count, problems: [], leftoverTemps: [], rulesRead: new Map() };
}

async function* raw(...parts: Buffer[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield p;
}

async function* noParts(): AsyncGenerator<[RelPath, ScannedEntry][]> {}

/** `batches`, then a streamed scan's summary (its own encoding: streamedEntryBatches with no entries). */
async function* streamed(batches: AsyncIterable<Buffer>, summary: CodecValue): AsyncGenerator<Buffer> {
  yield* batches;
  yield* streamedEntryBatches(noParts(), () => summary);
}

const KEEP = { owner: true, group: true, xattrs: false };
const NOT_UTF8 = Buffer.from([0x66, 0xff, 0xfe, 0x2e, 0x74]).toString('latin1'); // "f\xff\xfe.t": no UTF-8

describe('a remote scan reply', () => {
  it('brings back what a real scan of the far root found, names that are not UTF-8 included', async () => {
    const root = makeTempDir('tsync-rscan-');
    dirs.push(root);
    mkdirSync(join(root, 'd/e'), { recursive: true });
    writeFileSync(join(root, 'd/e/a.txt'), 'a');
    writeFileSync(Buffer.from(join(root, 'd', NOT_UTF8), 'latin1'), 'not utf-8');
    symlinkSync('../nowhere', join(root, 'd/link'));
    for (let i = 0; i < 2500; i++) writeFileSync(join(root, `f${i}`), String(i)); // more than one batch
    const far = new LocalEndpoint(root as AbsPath);
    const { near, far: farPeer } = link();
    const sent = new Map<RelPath, ScannedEntry>();
    let count: number | null = null;
    farPeer.handle('scan', async () => {
      // as the agent serves it: the walk's parts as they come, then the summary
      const walk = far.scanStreamed({ side: 'right', vouch: null, keep: KEEP }, 0);
      async function* parts(): AsyncGenerator<[RelPath, ScannedEntry][]> {
        for (;;) {
          const next = await walk.next();
          if (next.done === true) {
            count = next.value.count;
            return;
          }
          for (const [path, scanned] of next.value) sent.set(path, scanned);
          yield next.value;
        }
      }
      return withDownload(
        {},
        streamedEntryBatches(parts(), () => headOf(count ?? -1)),
      );
    });
    const endpoint = new RemoteEndpoint(near, '/far' as AbsPath, async () => undefined);
    const got = await endpoint.scan({ side: 'right', vouch: null, keep: KEEP });
    expect(count).toBe(sent.size);
    expect(new Map(got.entries)).toStrictEqual(sent);
    expect(got.entries.get(`d/${NOT_UTF8}` as RelPath)?.entry).toMatchObject({ kind: 'file', size: 9 });
    expect(got.entries.get('d/link' as RelPath)?.entry).toMatchObject({ kind: 'symlink', target: '../nowhere' });
  });

  it('vouches for unchanged files from the index as the entries arrive', async () => {
    const { near, far } = link();
    const entry: ScannedEntry = { entry: { kind: 'file', size: 1, mtimeNs: 5n, mode: 0o644, hash: null }, stat: { ino: 9n, ctimeNs: 6n, size: 1, mtimeNs: 5n }, observedAtNs: 7n };
    const entries = new Map<RelPath, ScannedEntry>([
      ['known' as RelPath, entry],
      ['new' as RelPath, entry],
    ]);
    far.handle('scan', async () => withDownload({}, streamed(entryBatches(entries), headOf(2))));
    const endpoint = new RemoteEndpoint(near, '/far' as AbsPath, async () => undefined);
    const got = await endpoint.scan({ side: 'right', vouch: (p) => (p === 'known' ? '00112233445566ff' : null), keep: KEEP });
    expect(got.entries.get('known' as RelPath)?.entry).toMatchObject({ hash: '00112233445566ff' });
    expect(got.entries.get('new' as RelPath)?.entry).toMatchObject({ hash: null });
  });

  const file = (path: string): [RelPath, ScannedEntry] => [
    path as RelPath,
    { entry: { kind: 'file', size: 1, mtimeNs: 5n, mode: 0o644, hash: null }, stat: { ino: 9n, ctimeNs: 6n, size: 1, mtimeNs: 5n }, observedAtNs: 7n },
  ];
  function lengthPrefixed(body: Buffer): Buffer {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length, 0);
    return Buffer.concat([head, body]);
  }
  async function batchBytes(entries: [RelPath, ScannedEntry][]): Promise<Buffer> {
    const out: Buffer[] = [];
    for await (const b of entryBatches(new Map(entries))) out.push(b);
    return Buffer.concat(out);
  }

  it.each([
    ['a path outside the root', async () => ({ count: 1, bytes: await batchBytes([file('../../etc/passwd')]) }), /not a path inside the root/],
    ['a batch cut short', async () => ({ count: 1, bytes: (await batchBytes([file('a')])).subarray(0, 20), noSummary: true }), /ended inside a batch/],
    ['no summary at the end', async () => ({ count: 1, bytes: await batchBytes([file('a')]), noSummary: true }), /ended without its summary/],
    ['fewer entries than the head says', async () => ({ count: 2, bytes: await batchBytes([file('a')]) }), /a scan of 2 entries sent 1/],
    ['the same path twice', async () => ({ count: 2, bytes: lengthPrefixed(encodeScanBatch([file('a'), file('a')])) }), /a scan of 2 entries sent 1/],
  ] as const)('%s is a ProtocolError', async (_what, reply, message) => {
    // into a table of its own, and into one keyed by the index's numbers (a sync's), where the index numbers the
    // path sent (a) and where it does not (b)
    for (const pathSlots of [undefined, indexOf('a'), indexOf('b')]) {
      const { near, far } = link();
      const got = await reply();
      far.handle('scan', async () => withDownload({}, 'noSummary' in got ? raw(got.bytes) : streamed(raw(got.bytes), headOf(got.count))));
      const endpoint = new RemoteEndpoint(near, '/far' as AbsPath, async () => undefined);
      const scanning = endpoint.scan({ side: 'right', vouch: null, keep: KEEP, ...(pathSlots === undefined ? {} : { pathSlots }) });
      await expect(scanning).rejects.toThrow(ProtocolError);
      await expect(scanning).rejects.toThrow(message);
    }
  });

  it("keys a full scan's table by the index's numbers for its paths, as a local walk's (a full cycle proves quiet paths from its columns)", async () => {
    const { near, far } = link();
    far.handle('scan', async () => withDownload({}, streamed(entryBatches(new Map([file('a'), file('new')])), headOf(2))));
    const index = indexOf('a');
    const endpoint = new RemoteEndpoint(near, '/far' as AbsPath, async () => undefined);
    const got = await endpoint.scan({ side: 'right', vouch: null, keep: KEEP, pathSlots: index });
    expect(got.entries).toBeInstanceOf(ScanTable);
    const table = got.entries as ScanTable;
    expect([...(table.slotsByNumber(index) ?? [])]).toEqual([0]);
    expect([...table.keys()]).toEqual(['a', 'new']);
    expect(table.get('new' as RelPath)?.entry).toMatchObject({ kind: 'file', size: 1 });
  });
});

/** An index holding one directory at `path`: its numbers for paths (scan-table.ts PathSlots). */
function indexOf(path: string): BaseTable {
  const index = new BaseTable(1);
  index.append(path as RelPath, { kind: 'dir', mode: 0o755, mtimeNs: 1n }, null, null);
  return index;
}

describe('a remote hash reply', () => {
  const good = '0123456789abcdef';
  it.each([
    [
      'a hash and an errno code, one per path asked for',
      new Map<CodecValue, CodecValue>([
        ['a', { hash: good }],
        ['b', { code: 'ENOENT' }],
      ]),
      null,
    ],
    [
      'a path that was not asked for',
      new Map<CodecValue, CodecValue>([
        ['a', { hash: good }],
        ['c', { hash: good }],
      ]),
      /"c" was not asked for/,
    ],
    ['a hash that is not 16 hex digits', new Map<CodecValue, CodecValue>([['a', { hash: 'xyz' }]]), /neither a hash nor an errno code/],
    ['both a hash and a code', new Map<CodecValue, CodecValue>([['a', { hash: good, code: 'EIO' }]]), /neither a hash nor an errno code/],
    ['not a map', ['a', good], /not a map/],
  ] as const)('%s', async (_what, reply, message) => {
    const { near, far } = link();
    far.handle('hash', async () => reply);
    const endpoint = new RemoteEndpoint(near, '/far' as AbsPath, async () => undefined);
    const hashing = endpoint.hash(['a', 'b'] as RelPath[], 4);
    if (message === null) {
      expect(await hashing).toStrictEqual(
        new Map([
          ['a', { hash: good }],
          ['b', { code: 'ENOENT' }],
        ]),
      );
      return;
    }
    await expect(hashing).rejects.toThrow(ProtocolError);
    await expect(hashing).rejects.toThrow(message);
  });
});
