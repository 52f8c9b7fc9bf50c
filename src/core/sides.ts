import type { Side } from './types.js';

type Mode = 'one-way' | 'two-way';

/**
 * The sides a run may change (write, trash, clean up, create when missing). A one-way source is only
 * ever read: this is the one place that rule lives.
 */
export function writableSides(mode: Mode): readonly Side[] {
  return mode === 'one-way' ? ['right'] : ['left', 'right'];
}

export function isWritable(mode: Mode, side: Side): boolean {
  return writableSides(mode).includes(side);
}

/** The sides whose own edits a run carries over (one-way: the source; a destination's edits are undone, not followed). */
export function sourceSides(mode: Mode): readonly Side[] {
  return mode === 'one-way' ? ['left'] : ['left', 'right'];
}

/** How messages name a side: the code says left/right, people read source/destination or first/second root. */
export function sideLabel(side: Side, mode: Mode): string {
  if (mode === 'one-way') return side === 'left' ? 'source' : 'destination';
  return side === 'left' ? 'first root' : 'second root';
}

export function otherSide(side: Side): Side {
  return side === 'left' ? 'right' : 'left';
}
