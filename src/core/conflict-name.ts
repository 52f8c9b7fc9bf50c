import { baseName, parentOf, joinRel } from './paths.js';
import type { RelPath, Side } from './types.js';

const NAME_MAX = 255;

/**
 * `<stem>.tsync-conflict-YYYYMMDD-HHMMSS-<side><ext>` beside the original, in UTC, made unique with
 * `-2`, `-3`… when taken. Recognisable by people and by tools (the word "conflict"), and, unlike tsync's
 * own `.tsync*` names, synced like any file. Pure: the time and the taken names are inputs.
 */
export function conflictName(path: RelPath, side: Side, nowMs: number, isTaken: (p: RelPath) => boolean): RelPath {
  const name = baseName(path);
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  const d = new Date(nowMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}-${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`;
  const parent = parentOf(path);
  for (let n = 1; ; n++) {
    const tag = `.tsync-conflict-${stamp}-${side}${n === 1 ? '' : `-${n}`}`;
    // Names are bytes (binary strings): shorten the stem, never the tag, to stay within NAME_MAX.
    let fitted = ext.length + tag.length > NAME_MAX ? '' : ext;
    const room = Math.max(1, NAME_MAX - tag.length - fitted.length);
    // Only a stem that was cut can end in half a UTF-8 sequence; never cut it down to nothing.
    const s = stem.length > room ? trimPartialUtf8(stem.slice(0, room)) || stem.slice(0, room) : stem;
    if (s.length + tag.length + fitted.length > NAME_MAX) fitted = '';
    const candidate = joinRel(parent, `${s}${tag}${fitted}`);
    if (!isTaken(candidate)) return candidate;
  }
}

/** Drops a UTF-8 sequence cut in half at the end (bytes 0x80-0xBF and an orphaned lead byte). */
function trimPartialUtf8(s: string): string {
  let end = s.length;
  let cont = 0;
  while (end > 0 && (s.charCodeAt(end - 1) & 0xc0) === 0x80) {
    end--;
    cont++;
  }
  if (end === 0) return s;
  const lead = s.charCodeAt(end - 1);
  const need = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc0 ? 1 : 0;
  if (need === 0) return s.slice(0, end + cont); // no lead byte: leave as it was
  return need === cont ? s : s.slice(0, end - 1);
}
