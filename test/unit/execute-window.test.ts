// Across a link, each delete, directory and metadata action waits for the far side's answer and costs it little, so
// the executor keeps many in flight (engine/execute.ts STREAMED_CONCURRENCY), not --concurrency's 8: 100 deletes were
// 13 round trips. Real trees and real endpoints; the only stand-in is the far side's remoteness: the right endpoint is
// a LocalEndpoint that says it is not local and counts the calls it has in flight (each answers a turn later, as an
// answer from the far side would), which a real link cannot report.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { expectOf } from '../../src/core/propagate.js';
import type { AbsPath, Action } from '../../src/core/types.js';
import type { Endpoint } from '../../src/endpoint/endpoint.js';
import { LocalEndpoint } from '../../src/endpoint/local-endpoint.js';
import { executePlan } from '../../src/engine/execute.js';
import { absFromText } from '../../src/fs/paths.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function root(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsync-window-'));
  dirs.push(d);
  return d;
}

/** The endpoint as a far side: not local, and the most calls of `counted` it ever had in flight. */
function asFarSide(inner: LocalEndpoint, counted: ReadonlySet<string>): { far: Endpoint; peak: () => number } {
  let inFlight = 0;
  let peak = 0;
  const far = new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'isLocal') return false;
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof key !== 'string' || !counted.has(key) || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        try {
          await setImmediate();
          return await Reflect.apply(value, target, args);
        } finally {
          inFlight--;
        }
      };
    },
  });
  return { far, peak: () => peak };
}

const run = { concurrency: 8, racyWindowNs: { left: 0n, right: 0n }, trashStamp: { left: null, right: '2026-01-01T00-00-00.000Z' } } as const;

describe('the executor with a far side', () => {
  it('keeps many more deletes in flight than --concurrency, and each one lands', async () => {
    const right = root();
    for (let i = 0; i < 100; i++) writeFileSync(join(right, `f${i}`), String(i));
    const inner = new LocalEndpoint(absFromText(right) as AbsPath);
    const scan = await inner.scan({ side: 'right', vouch: null });
    const actions: Action[] = [...scan.entries].map(([path, s]) => ({ type: 'delete', path, target: 'right', expect: expectOf(s) }));
    const { far, peak } = asFarSide(inner, new Set(['remove']));
    const left = new LocalEndpoint(absFromText(root()) as AbsPath);
    const { outcomes } = await executePlan(actions, { ...run, endpoints: { left, right: far } });
    expect([...outcomes].filter((o) => o.status === 'applied')).toHaveLength(100);
    expect(readdirSync(right).filter((n) => !n.startsWith('.tsync'))).toEqual([]);
    expect(peak()).toBeGreaterThan(run.concurrency);
    await left.close();
    await inner.close();
  });

  it('begins and ends no run on a side when there is nothing to do (two round trips of every no-op run)', async () => {
    const inner = new LocalEndpoint(absFromText(root()) as AbsPath);
    const { far, peak } = asFarSide(inner, new Set(['beginRun', 'endRun']));
    const left = new LocalEndpoint(absFromText(root()) as AbsPath);
    const { outcomes, bytes } = await executePlan([], { ...run, endpoints: { left, right: far } });
    expect([...outcomes]).toEqual([]);
    expect(bytes).toBe(0);
    expect(peak()).toBe(0);
    await left.close();
    await inner.close();
  });

  it('makes the directories of one depth many at a time, each parent before its children', async () => {
    const left = root();
    for (let i = 0; i < 40; i++) mkdirSync(join(left, `d${i}`, 'inner'), { recursive: true });
    const source = new LocalEndpoint(absFromText(left) as AbsPath);
    const scan = await source.scan({ side: 'left', vouch: null });
    const actions: Action[] = [];
    for (const [path, s] of scan.entries) if (s.entry.kind === 'dir') actions.push({ type: 'mkdir', path, target: 'right', expect: null, source: { ...s, entry: s.entry } });
    const right = root();
    const inner = new LocalEndpoint(absFromText(right) as AbsPath);
    const { far, peak } = asFarSide(inner, new Set(['makeDir']));
    const { outcomes } = await executePlan(actions, { ...run, endpoints: { left: source, right: far } });
    expect([...outcomes].filter((o) => o.status === 'applied')).toHaveLength(80);
    for (let i = 0; i < 40; i++) expect(readdirSync(join(right, `d${i}`))).toEqual(['inner']);
    expect(peak()).toBeGreaterThan(run.concurrency);
    await source.close();
    await inner.close();
  });
});
