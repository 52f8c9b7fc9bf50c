import { linkSync, rmSync, writeFileSync } from 'node:fs';
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
 * stays as it is) and a run killed half-way leaves no empty mark behind. A mark that cannot be written
 * is skipped: it only helps other tools and must not fail a sync.
 */
export function markOwnFolder(anchors: DirAnchors): void {
  anchors.makeDirs(OWN_DIR as RelPath);
  for (const mark of MARKS) {
    const final = anchors.place(`${OWN_DIR}/${mark.name}` as RelPath);
    const temp = anchors.place(`${OWN_DIR}/${mark.name}.tmp-${process.pid}` as RelPath);
    try {
      writeFileSync(temp.fdPath, mark.content, { flag: 'wx', mode: 0o644 });
      linkSync(temp.fdPath, final.fdPath);
    } catch {
      // EEXIST: already marked; anything else: best effort, see above
    } finally {
      rmSync(temp.fdPath, { force: true });
      temp.release();
      final.release();
    }
  }
}
