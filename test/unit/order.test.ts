// The engine's phase order, and that it holds for plans of any size.
import { describe, expect, it } from 'vitest';
import { orderActions, phaseOf } from '../../src/core/order.js';
import { relPath } from '../../src/core/paths.js';
import type { Action } from '../../src/core/types.js';
import { file } from './fixtures/entries.js';

const copy = (path: string): Action => ({ type: 'copy', path: relPath(path), target: 'right', expect: null, source: file('x') });

describe('orderActions', () => {
  it('puts copies after directory creation, and directories top-down', () => {
    const mk = (path: string): Action => ({
      type: 'mkdir',
      path: relPath(path),
      target: 'right',
      expect: null,
      source: { entry: { kind: 'dir', mode: 0o755, mtimeNs: 0n }, stat: { ino: 1n, ctimeNs: 0n, size: 0, mtimeNs: 0n }, observedAtNs: 0n },
    });
    const ordered = orderActions([copy('a/b/f'), mk('a/b'), mk('a')]);
    expect(ordered.map((a) => `${a.type} ${a.path}`)).toEqual(['mkdir a', 'mkdir a/b', 'copy a/b/f']);
  });

  it('orders a plan of 300,000 actions (a spread of that many arguments overflows the stack: it did, at 1M files)', () => {
    const actions = Array.from({ length: 300_000 }, (_, i) => copy(`d${i % 1000}/f${i}`));
    const ordered = orderActions(actions);
    expect(ordered).toHaveLength(actions.length);
    expect(ordered.every((a) => phaseOf(a) === 'copies')).toBe(true);
  });
});
