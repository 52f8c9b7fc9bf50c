// An agent's scan travels while the agent walks (remote/agent-serve.ts, scan/scan.ts walkTreeStreamed): batches of
// entries as each slice of the walk makes them final, then the summary only the end of the walk knows. A real agent
// process (the built bundle) over pipes, a real tree; what is checked is what tsync relies on: the stream holds
// exactly what a walk of the root finds, a root that is gone is an error and the agent goes on serving, and a
// client that stops reading part way leaves an agent that serves the next scan whole.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AbsPath, RelPath, ScannedEntry } from '../../src/core/types.js';
import { absFromText } from '../../src/fs/paths.js';
import { ENTRY_BATCH, readEntryBatches } from '../../src/remote/entry-batches.js';
import { walkTree } from '../../src/scan/scan.js';
import { makeTempDir, removeTempDir } from '../helpers/cli.js';
import { put } from '../helpers/tree.js';
import { type AgentSession, startAgent } from './agent-session.js';

const onDone: (() => unknown)[] = [];
afterAll(async () => {
  for (const f of onDone.splice(0)) await f();
});

function scratch(): string {
  const d = makeTempDir('tsync-agent-scan-');
  onDone.push(() => removeTempDir(d));
  return d;
}

async function session(root: string, home: string): Promise<AgentSession> {
  const env = { PATH: '/usr/local/bin:/usr/bin:/bin', XDG_CACHE_HOME: join(home, 'cache'), XDG_STATE_HOME: join(home, 'state'), HOME: home };
  const agent = await startAgent(env);
  onDone.unshift(() => agent.stop());
  await agent.peer.call('open', { path: root, mayBeMissing: false });
  return agent;
}

const SCAN_ARGS = { side: 'right', keep: { owner: true, group: true, xattrs: false }, rules: { exclude: [], include: [] } };

/** A tree of more entries than one batch holds, in nested directories. */
function tree(root: string, dirs = 30): void {
  for (let d = 0; d < dirs; d++) {
    const sub = join(root, `d${d}`, 'sub');
    mkdirSync(sub, { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(join(sub, `f${f}`), `${d}/${f}`);
  }
  put(root, 'top.txt', 'top');
}

describe("an agent's scan stream", () => {
  it('holds exactly what a walk of the root finds, in batches, then a summary that counts them', async () => {
    const d = scratch();
    const root = join(d, 'root');
    tree(root);
    const agent = await session(root, join(d, 'home'));
    const down = await agent.peer.callWithDownload('scan', SCAN_ARGS);
    const got = new Map<RelPath, ScannedEntry>();
    const summary = await readEntryBatches(
      down.chunks,
      (path, scanned) => {
        got.set(path, scanned);
      },
      true,
    );
    const walked = walkTree({ root: absFromText(root) as AbsPath, side: 'right', vouch: null, keep: { owner: true, group: true, xattrs: false } });
    expect(got.size).toBeGreaterThan(ENTRY_BATCH);
    expect(summary).toMatchObject({ count: got.size });
    expect(new Set(got.keys())).toEqual(new Set(walked.entries.keys()));
    for (const [path, s] of walked.entries) expect(got.get(path)?.entry).toEqual(s.entry);
  });

  it('answers a root that is gone with an error, and goes on serving', async () => {
    const d = scratch();
    const root = join(d, 'root');
    tree(root);
    const agent = await session(root, join(d, 'home'));
    rmSync(root, { recursive: true });
    await expect(agent.peer.callWithDownload('scan', SCAN_ARGS)).rejects.toThrow(/ENOENT/);
    mkdirSync(root);
    put(root, 'back.txt', 'the root is back');
    const down = await agent.peer.callWithDownload('scan', SCAN_ARGS);
    const paths: RelPath[] = [];
    await readEntryBatches(down.chunks, (path) => paths.push(path), true);
    expect(paths).toEqual(['back.txt']);
  });

  it('ends a walk whose client stopped reading part way (its descriptors closed), and serves the next scan whole', async () => {
    const d = scratch();
    const root = join(d, 'root');
    tree(root, 100); // a walk of several 25 ms slices: the client stops while it is under way
    const agent = await session(root, join(d, 'home'));
    // the walk holds a descriptor per directory on its way down: one left suspended would keep them open
    const openFds = (): number => readdirSync(`/proc/${agent.child.pid}/fd`).length;
    const before = openFds();
    const first = await agent.peer.callWithDownload('scan', SCAN_ARGS);
    const it = first.chunks[Symbol.asyncIterator]();
    await it.next();
    await it.return?.();
    const down = await agent.peer.callWithDownload('scan', SCAN_ARGS);
    let count = 0;
    const summary = await readEntryBatches(
      down.chunks,
      () => {
        count++;
      },
      true,
    );
    expect(count).toBe(100 * 102 + 1);
    expect(summary).toMatchObject({ count });
    expect(openFds()).toBe(before);
    expect(agent.stderr()).toBe('');
  });
});
