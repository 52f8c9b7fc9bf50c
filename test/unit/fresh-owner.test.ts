// The small-file copy, the streamed install (what a remote side's agent and a large local stream run) and the whole
// install of a batch's small file leave out
// the fchown where a fresh file of the target directory already has the wanted owner and group
// (engine/apply-meta.ts applyToTempFile), learnt from the first file of each directory; the installed file's fstat
// after the rename must catch a guess that no longer holds and chown it there (engine/copy-file.ts
// ownedAsRecorded). A directory made setgid between two copies is such a case, which
// no run of the CLI can be made to hit on demand, so the copy is driven here directly. Real files, real
// chown: root only.
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OwnerMeta, ScannedEntry, XattrMeta } from '../../src/core/types.js';
import { MetaWriter } from '../../src/engine/apply-meta.js';
import { copyFileAtomic } from '../../src/engine/copy-file.js';
import { installBytes, installStream } from '../../src/engine/stream-copy.js';
import { statIdOf } from '../../src/fs/stat.js';
import { loadHasher } from '../../src/hash/xxhash.js';

const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
beforeAll(() => loadHasher());

function scannedFile(abs: string): ScannedEntry {
  const st = lstatSync(abs, { bigint: true });
  return {
    entry: { kind: 'file', size: Number(st.size), mtimeNs: st.mtimeNs, mode: Number(st.mode) & 0o7777, hash: null, uid: Number(st.uid), gid: Number(st.gid) },
    stat: statIdOf(st),
    observedAtNs: 0n,
  };
}

type ApplyMeta = (fd: number, tmpAbs: Buffer) => OwnerMeta & XattrMeta;
type Installer = (root: string, name: string, source: ScannedEntry, applyMeta: ApplyMeta) => Promise<ScannedEntry>;

/** What both ways of installing are asked: `dst/<name>`, new (no expectation), with no trash. */
function installRequest(root: string, name: string, source: ScannedEntry, applyMeta: ApplyMeta) {
  return {
    targetDirAbs: Buffer.from(join(root, 'dst')),
    targetAbs: Buffer.from(join(root, 'dst', name)),
    source,
    expect: null,
    label: name,
    beforeRename: () => undefined,
    keepReplaced: () => undefined,
    applyMeta,
  };
}

const installers: Record<string, Installer> = {
  'small copy': async (root, name, source, applyMeta) => {
    const r = await copyFileAtomic({ ...installRequest(root, name, source, applyMeta), sourceAbs: Buffer.from(join(root, 'src', name)), sourceRacyWindowNs: 0n });
    return r.target;
  },
  'streamed install': async (root, name, source, applyMeta) => {
    const bytes = readFileSync(join(root, 'src', name));
    async function* chunks(): AsyncGenerator<Buffer> {
      yield bytes;
    }
    const r = await installStream(installRequest(root, name, source, applyMeta), chunks());
    return r.target;
  },
  'whole install (a batch of small files)': async (root, name, source, applyMeta) => {
    return installBytes(installRequest(root, name, source, applyMeta), readFileSync(join(root, 'src', name))).target;
  },
};

describe.each(Object.entries(installers))('%s: owner guessed from the directory, checked after the rename', (_, install) => {
  it.skipIf(!isRoot)('a directory made setgid between two copies: the second copy still gets the source group', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsync-fresh-owner-'));
    dirs.push(root);
    mkdirSync(join(root, 'src'));
    mkdirSync(join(root, 'dst'));
    const meta = new MetaWriter({ owner: true, group: true, xattrs: false }, (m) => {
      throw new Error(`unexpected warning: ${m}`);
    });
    const copy = async (name: string): Promise<ScannedEntry> => {
      const sourceAbs = join(root, 'src', name);
      writeFileSync(sourceAbs, `${name}\n`);
      chownSync(sourceAbs, 0, 0);
      const source = scannedFile(sourceAbs);
      return install(root, name, source, (fd, tmpAbs) => meta.applyToTempFile(fd, tmpAbs, source.entry, null, name, 'dst'));
    };
    await copy('first'); // learns what a fresh file in dst gets: root's uid and gid
    expect(lstatSync(join(root, 'dst', 'first')).gid).toBe(0);
    chownSync(join(root, 'dst'), 0, 4444);
    chmodSync(join(root, 'dst'), 0o2755); // from now on a fresh file there gets group 4444
    const second = await copy('second');
    const st = lstatSync(join(root, 'dst', 'second'), { bigint: true });
    expect(`${st.uid}:${st.gid}`).toBe('0:0');
    expect(Number(st.mode) & 0o7777).toBe(lstatSync(join(root, 'src', 'second')).mode & 0o7777);
    // what the index would record is the file as it now stands
    expect(second.stat.ctimeNs).toBe(st.ctimeNs);
    expect(second.entry.kind === 'file' ? second.entry.gid : null).toBe(0);
  });
});
