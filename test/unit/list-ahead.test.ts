// Listings read ahead on the addon's own thread (native/list_ahead.c through fs/native-listing.ts nativeListReader,
// used by scan/list-ahead.ts): on real directories, each listing taken must be the one listDir gives for the same
// descriptor; a job is taken or dropped once; a walk that reads ahead must find exactly what a walk without it finds,
// and leave no descriptor open. TSYNC_LIST_AHEAD=0 is the walk without it.
import { mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AbsPath, RelPath } from '../../src/core/types.js';
import { DirAnchors } from '../../src/engine/dir-anchors.js';
import { addonPath, ListingError, nativeLister, nativeListReader, type ListReader, type NativeListing } from '../../src/fs/native-listing.js';
import { absFromText } from '../../src/fs/paths.js';
import { nowNs } from '../../src/fs/stat.js';
import { ListAhead, listsAhead } from '../../src/scan/list-ahead.js';
import { walkTree } from '../../src/scan/scan.js';

const made: string[] = [];
afterEach(() => {
  vi.unstubAllEnvs();
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsync-list-ahead-'));
  made.push(d);
  return d;
}

/** The reader and the lister, or a skip where the addon is not built (the walk then never reads ahead). */
function addon(skip: () => void): { reader: ListReader; lister: (fd: number) => NativeListing } {
  const reader = nativeListReader();
  const lister = nativeLister();
  if (reader === null || lister === null) {
    skip();
    throw new Error('unreachable');
  }
  return { reader, lister };
}

/** `dirs` directories of `files` files each, some with a subdirectory, a symlink and a name that is not UTF-8. */
function wideTree(root: string, dirs: number, files: number): void {
  for (let d = 0; d < dirs; d++) {
    const dir = join(root, `d${d}`);
    mkdirSync(dir);
    for (let f = 0; f < files; f++) writeFileSync(join(dir, `f${f}`), `${d}/${f}`.repeat(f));
    if (d % 3 === 0) {
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'sub', 'inner'), 'inner');
      symlinkSync('../f0', join(dir, 'sub', 'link'));
    }
    if (d % 5 === 0) mkdirSync(join(dir, 'empty'));
  }
  writeFileSync(Buffer.concat([Buffer.from(`${root}/d1/`), Buffer.from([0x6c, 0xe9, 0xff])]), 'latin1 name');
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe("the addon's reader", () => {
  it('hands back for each job what listDir gives for the same descriptor, whatever the order they are taken in', (ctx) => {
    const { reader, lister } = addon(() => ctx.skip());
    const root = temp();
    wideTree(root, 40, 7);
    const fds = readdirSync(root).map((d) => openSync(join(root, d), 'r'));
    try {
      const jobs = fds.map((fd) => reader.ahead(fd));
      expect(jobs.every((j) => j !== null)).toBe(true);
      // taken last to first: most were read by the thread by then, the last queued may still wait (listed inline)
      for (let i = jobs.length - 1; i >= 0; i--) {
        const job = jobs[i];
        if (job === null || job === undefined) throw new Error('no job');
        const got = reader.taken(job);
        const fd = fds[i] as number;
        expect(got.names).toEqual(lister(fd).names);
        expect(got.names.length).toBeGreaterThan(0);
        expect([...got.numbers]).toEqual([...lister(fd).numbers]);
        expect([...got.times]).toEqual([...lister(fd).times]);
      }
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  });

  it('hands back the right listing for each job while the reader is at the one wanted (the taker lists the queued ones meanwhile)', (ctx) => {
    const { reader, lister } = addon(() => ctx.skip());
    const root = temp();
    // one directory the reader takes a while over, queued first, then small ones
    const big = join(root, 'big');
    mkdirSync(big);
    for (let f = 0; f < 4000; f++) writeFileSync(join(big, `f${f}`), '');
    wideTree(root, 10, 3);
    const fds = ['big', ...readdirSync(root).filter((d) => d !== 'big')].map((d) => openSync(join(root, d), 'r'));
    try {
      for (let round = 0; round < 3; round++) {
        const jobs = fds.map((fd) => reader.ahead(fd));
        // the reader is at the big one by now: the taker lists the small ones while it waits for it
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
        for (const [i, job] of jobs.entries()) {
          if (job === null || job === undefined) throw new Error('no job');
          const got = reader.taken(job);
          const fd = fds[i] as number;
          expect(got.names).toEqual(lister(fd).names);
          expect([...got.numbers]).toEqual([...lister(fd).numbers]);
          expect([...got.times]).toEqual([...lister(fd).times]);
        }
      }
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  });

  it('takes a job once: taken again or after being dropped, it is an error; dropped twice is nothing', (ctx) => {
    const { reader } = addon(() => ctx.skip());
    const root = temp();
    writeFileSync(join(root, 'a'), 'a');
    const fd = openSync(root, 'r');
    try {
      const job = reader.ahead(fd);
      if (job === null) throw new Error('no job');
      expect(reader.taken(job).names).toEqual(['a']);
      expect(() => reader.taken(job)).toThrow(/taken or dropped already/);
      const dropped = reader.ahead(fd);
      if (dropped === null) throw new Error('no job');
      reader.dropped(dropped);
      reader.dropped(dropped);
      expect(() => reader.taken(dropped)).toThrow(/taken or dropped already/);
    } finally {
      closeSync(fd);
    }
  });

  it("gives a descriptor's failure as the lister does: a ListingError with the errno's name", (ctx) => {
    const { reader } = addon(() => ctx.skip());
    const file = join(temp(), 'file');
    writeFileSync(file, 'not a directory');
    const fd = openSync(file, 'r');
    try {
      const job = reader.ahead(fd);
      if (job === null) throw new Error('no job');
      const e = (() => {
        try {
          reader.taken(job);
        } catch (err) {
          return err;
        }
        return null;
      })();
      expect(e).toBeInstanceOf(ListingError);
      expect((e as ListingError).code).toBe('ENOTDIR');
    } finally {
      closeSync(fd);
    }
  });
});

describe("the reader's bound on what it holds", () => {
  /** The addon's test knob: sets the bound, answers the bytes held now. */
  function limitOf(): (bytes: number) => number {
    const addon = createRequire(import.meta.url)(addonPath()) as { listAheadLimit?: (bytes: number) => number };
    if (typeof addon.listAheadLimit !== 'function') throw new Error('the addon has no listAheadLimit');
    return addon.listAheadLimit;
  }

  function pause(ms: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  }

  it('stops reading ahead while the listings it read and were not taken hold more than the bound; the walk lists the rest itself', (ctx) => {
    const { reader, lister } = addon(() => ctx.skip());
    const limit = limitOf();
    const root = temp();
    wideTree(root, 10, 200);
    const fds = readdirSync(root).map((d) => openSync(join(root, d), 'r'));
    const DEFAULT = 64 << 20;
    try {
      const heldAfterQueueing = (bound: number): number => {
        limit(bound);
        const jobs = fds.map((fd) => reader.ahead(fd));
        pause(300); // time for the reader to read what the bound lets it
        const held = limit(bound);
        jobs.forEach((job, i) => {
          if (job === null) throw new Error('no job');
          expect(reader.taken(job).names).toEqual(lister(fds[i] as number).names);
        });
        expect(limit(bound)).toBe(0);
        return held;
      };
      const unbounded = heldAfterQueueing(DEFAULT);
      // each listing of 200 names holds more than 200 * 88 bytes: with a bound of one byte, one is read, then none
      const bounded = heldAfterQueueing(1);
      expect(unbounded).toBeGreaterThan(10 * 200 * 88);
      expect(bounded).toBeGreaterThan(200 * 88);
      expect(bounded).toBeLessThan(2 * 200 * 88);
    } finally {
      limit(DEFAULT);
      for (const fd of fds) closeSync(fd);
    }
  });
});

describe('ListAhead', () => {
  it("queues the directories on top of the walk's stack and hands each one's listing and pinned place to the walk", (ctx) => {
    const { reader, lister } = addon(() => ctx.skip());
    if (!listsAhead()) ctx.skip();
    const root = temp();
    wideTree(root, 8, 3);
    writeFileSync(join(root, 'plain-file'), 'x');
    const anchors = new DirAnchors(absFromText(root) as AbsPath);
    const ahead = new ListAhead(reader, anchors, false);
    const before = nowNs();
    // popped from the end: d7 first; 'plain-file' is not a directory and 'gone' is not there: left to the walk
    const stack = ['d0', 'gone', 'plain-file', 'd5', 'd6', 'd7'] as RelPath[];
    ahead.fill(stack);
    ahead.fill(stack); // queued once
    for (const dir of ['d7', 'd6', 'd5'] as RelPath[]) {
      const got = ahead.take(dir);
      if (got === undefined) throw new Error(`${dir} was not read ahead`);
      expect(got.listedAtNs >= before && got.listedAtNs <= nowNs()).toBe(true);
      const fd = got.place.dirFd;
      if (fd === undefined) throw new Error('no descriptor');
      expect(got.listing().names).toEqual(lister(fd).names);
      expect(got.listing().names).toContain('f0');
      got.place.release();
      expect(ahead.take(dir)).toBeUndefined();
    }
    // four from the top: d0 was below them
    expect(ahead.take('plain-file' as RelPath)).toBeUndefined();
    expect(ahead.take('d0' as RelPath)).toBeUndefined();
    expect(ahead.listingsTaken).toBe(3);
    ahead.fill(['d0', 'd1'] as RelPath[]);
    ahead.end();
    expect(ahead.take('d1' as RelPath)).toBeUndefined();
    anchors.closeAll();
  });
});

describe('a walk that reads ahead', () => {
  function walk(root: string): { entries: Map<RelPath, unknown>; listedAhead: number } {
    const scan = walkTree({ root: absFromText(root) as AbsPath, side: 'left', vouch: null, keep: { owner: true, group: true, xattrs: false } });
    const entries = new Map<RelPath, unknown>();
    for (const [path, s] of scan.entries) entries.set(path, { entry: s.entry, stat: { ...s.stat, observedAtNs: undefined } });
    return { entries, listedAhead: scan.listedAhead ?? 0 };
  }

  it('finds exactly what a walk without it finds, took most listings from the reader, and leaves no descriptor open', (ctx) => {
    if (!listsAhead()) ctx.skip();
    const root = temp();
    wideTree(root, 60, 5);
    const fdsBefore = openFds();
    const withReader = walk(root);
    expect(openFds()).toBe(fdsBefore);
    vi.stubEnv('TSYNC_LIST_AHEAD', '0');
    const without = walk(root);
    expect(without.listedAhead).toBe(0);
    // 60 + 20 subdirectories + 12 empty ones below the root, which is listed first and never ahead
    expect(withReader.listedAhead).toBeGreaterThan(60);
    expect(withReader.entries.size).toBe(without.entries.size);
    expect(withReader.entries).toEqual(without.entries);
  });

  it('leaves no descriptor open when it stops in the middle', (ctx) => {
    if (!listsAhead()) ctx.skip();
    const root = temp();
    wideTree(root, 30, 2);
    const fdsBefore = openFds();
    let calls = 0;
    expect(() =>
      walkTree({
        root: absFromText(root) as AbsPath,
        side: 'left',
        vouch: () => {
          // a few files in: the walk has directories queued ahead by then
          if (++calls === 10) throw new Error('stopped');
          return null;
        },
      }),
    ).toThrow('stopped');
    expect(calls).toBe(10);
    expect(openFds()).toBe(fdsBefore);
  });
});
