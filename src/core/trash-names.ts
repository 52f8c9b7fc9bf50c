// The names inside a root's trash, `<root>/.tsync/trash/<stamp>/<path>[.~N~]`, shared by the engine that
// writes them and the wire layer that checks what a client asks the agent to restore. Pure: no I/O.
import type { RelPath } from './types.js';

/** `<root>/.tsync/trash/<stamp>/<relative path>`: inside the root, so keeping a version is a rename. */
export const TRASH_DIR = '.tsync/trash';

export interface TrashedVersion {
  readonly stamp: string;
  /** When it was kept: its ctime (set by the link or rename that kept it), never before its folder's stamp. */
  readonly atMs: number;
  /** The path it had in the tree. */
  readonly path: RelPath;
  /** Where it is now, relative to the root. */
  readonly stored: RelPath;
}

/** What trashStamp (engine/trash.ts) makes: an ISO 8601 UTC time with `-` for `:` (sortable, no colons). */
const STAMP = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z$/;

export function isTrashStamp(text: string): boolean {
  return STAMP.test(text) && !Number.isNaN(Date.parse(text.replace(/T(\d\d)-(\d\d)-(\d\d)/, 'T$1:$2:$3')));
}

/**
 * Is `stored` where the trash of the run `stamp` keeps a version of `path`? The first version of a path
 * in a run's folder has its own name, later ones a `.~N~` suffix
 * (N from 2; listTrash reads any number there).
 */
export function isStoredVersionOf(stored: string, stamp: string, path: RelPath): boolean {
  if (!isTrashStamp(stamp)) return false;
  const prefix = `${TRASH_DIR}/${stamp}/${path}`;
  if (stored === prefix) return true;
  return stored.startsWith(prefix) && /^\.~\d+~$/.test(stored.slice(prefix.length));
}
