import { linkSync, lstatSync, rmSync, writeFileSync } from 'node:fs';
import { tempName } from '../fs/temp-name.js';
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
 * Creates `.tsync/` in a root if needed and adds the marks that are missing. Each is written whole under
 * a temp name and then linked into place: link() never replaces what is there (a mark someone edited
 * stays as it is) and a run killed half-way leaves no empty mark behind. The temp file sits at the root
 * under the engine's own temp name (fs/temp-name.ts), where the next run's scan finds and removes it if
 * this run is killed or cannot unlink it; inside `.tsync/` nobody would. A mark that cannot be written is
 * skipped: it only helps other tools and must not fail a sync.
 */
export function markOwnFolder(anchors: DirAnchors): void {
  anchors.makeDirs(OWN_DIR as RelPath);
  for (const mark of MARKS) {
    const final = anchors.place(`${OWN_DIR}/${mark.name}` as RelPath);
    try {
      if (exists(final.fdPath)) continue;
      const temp = anchors.place(tempName('mark') as RelPath);
      try {
        writeFileSync(temp.fdPath, mark.content, { flag: 'wx', mode: 0o644 });
        linkSync(temp.fdPath, final.fdPath);
      } catch {
        // EEXIST: marked meanwhile; anything else: best effort, see above
      } finally {
        removeQuietly(temp.fdPath);
        temp.release();
      }
    } finally {
      final.release();
    }
  }
}

function exists(path: Buffer): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A temp file that cannot be removed now is removed by the next run's scan (see above). */
function removeQuietly(path: Buffer): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // left for the next run
  }
}
