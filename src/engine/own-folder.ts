import { writeFileSync } from 'node:fs';
import type { RelPath } from '../core/types.js';
import type { DirAnchors } from './dir-anchors.js';

/** tsync's folder inside a root (the trash lives there); like every `.tsync*` name it is never synced. */
export const OWN_DIR = '.tsync';

/**
 * What marks the folder as tsync's own for other tools: a `.gitignore` of `*` keeps it out of `git
 * status` in a synced working copy, and a CACHEDIR.TAG (bford.info/cachedir) makes restic, borg and
 * `tar --exclude-caches` skip it. The signature line is fixed by that convention.
 */
const MARKS: readonly { readonly name: string; readonly content: string }[] = [
  { name: '.gitignore', content: '# tsync keeps its trash here: none of it belongs in the repository\n*\n' },
  {
    name: 'CACHEDIR.TAG',
    content:
      'Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by tsync (its trash).\n# For information about cache directory tags, see https://bford.info/cachedir/\n',
  },
];

/**
 * Creates `.tsync/` in a root if needed and writes the marks that are missing. Each is created
 * exclusively (O_EXCL: never through a symlink, never over a file someone edited); a mark that cannot
 * be written is skipped, since it only helps other tools and must not fail a sync.
 */
export function markOwnFolder(anchors: DirAnchors): void {
  anchors.makeDirs(OWN_DIR as RelPath);
  for (const mark of MARKS) {
    const place = anchors.place(`${OWN_DIR}/${mark.name}` as RelPath);
    try {
      writeFileSync(place.fdPath, mark.content, { flag: 'wx', mode: 0o644 });
    } catch {
      // EEXIST: already marked; anything else: best effort, see above
    } finally {
      place.release();
    }
  }
}
