import { realpathSync } from 'node:fs';
import type { AbsPath, RelPath } from '../core/types.js';

// The only place where binary-string paths (see core/types.ts) meet the file system's byte paths.

export function toBytes(p: AbsPath | RelPath): Buffer {
  return Buffer.from(p, 'latin1');
}

export function fromBytes(b: Buffer): string {
  return b.toString('latin1');
}

/** An absolute path typed by the user (UTF-8 text) in binary-string form. */
export function absFromText(text: string): AbsPath {
  return Buffer.from(text, 'utf8').toString('latin1') as AbsPath;
}

export function textOfAbs(p: AbsPath): string {
  return Buffer.from(p, 'latin1').toString('utf8');
}

export function under(root: AbsPath, rel: RelPath): AbsPath {
  return `${root}/${rel}` as AbsPath;
}

export function realpathAbs(p: AbsPath): AbsPath {
  return fromBytes(realpathSync.native(toBytes(p), { encoding: 'buffer' })) as AbsPath;
}
