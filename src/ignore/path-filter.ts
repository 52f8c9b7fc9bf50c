import ignore, { type Ignore } from 'ignore';
import { readFileSync } from 'node:fs';
import { ancestorsOf } from '../core/paths.js';
import type { AbsPath, RelPath } from '../core/types.js';
import { toBytes, under } from '../fs/paths.js';

/** The name of the per-directory ignore file (gitignore syntax). Like every `.tsync*` name, never synced. */
export const IGNORE_FILE = '.tsyncignore';

export interface FilterRules {
  /** --exclude GLOB (repeatable), gitignore syntax. */
  readonly exclude: readonly string[];
  /** --include GLOB (repeatable): re-includes what an exclude or an ignore file left out. */
  readonly include: readonly string[];
}

/**
 * Decides which paths take part in a sync. The same answer holds on both sides: a directory's rules
 * are its `.tsyncignore` files of both roots together, so a path is never seen on one side and hidden
 * on the other. Matching is done by the maintained `ignore` package (gitignore semantics), not by us.
 * An excluded path is invisible to the run: it is neither copied nor deleted, on either side.
 */
export class PathFilter {
  private readonly top: Ignore;
  private readonly includes: Ignore | null;
  private readonly perDir = new Map<string, Ignore | null>();

  constructor(
    rules: FilterRules,
    private readonly roots: readonly AbsPath[],
  ) {
    this.top = ignore().add([...rules.exclude]);
    this.includes = rules.include.length > 0 ? ignore().add([...rules.include]) : null;
  }

  /** Whether `path` (a directory when `isDir`) is left out of the sync. */
  excludes(path: RelPath, isDir: boolean): boolean {
    const text = textOf(path);
    if (this.includes?.ignores(isDir ? `${text}/` : text) === true) return false;
    if (this.matches(this.top, text, isDir)) return true;
    if (this.matches(this.rulesOf(null), text, isDir)) return true;
    for (const dir of ancestorsOf(path)) {
      const rules = this.rulesOf(dir);
      if (rules === null) continue;
      const rel = text.slice(textOf(dir).length + 1);
      if (this.matches(rules, rel, isDir)) return true;
    }
    return false;
  }

  private matches(rules: Ignore | null, rel: string, isDir: boolean): boolean {
    return rules !== null && rules.ignores(isDir ? `${rel}/` : rel);
  }

  /** The rules of one directory's `.tsyncignore` files (both roots), read once per run. */
  private rulesOf(dir: RelPath | null): Ignore | null {
    const key = dir ?? '';
    const known = this.perDir.get(key);
    if (known !== undefined) return known;
    const lines: string[] = [];
    for (const root of this.roots) {
      const file = dir === null ? `${root}/${IGNORE_FILE}` : `${under(root, dir)}/${IGNORE_FILE}`;
      try {
        lines.push(...readFileSync(toBytes(file as AbsPath), 'utf8').split(/\r?\n/));
      } catch {
        // no ignore file in this directory on this side
      }
    }
    const rules = lines.some((l) => l.trim() !== '' && !l.startsWith('#')) ? ignore().add(lines) : null;
    this.perDir.set(key, rules);
    return rules;
  }
}

/** Patterns are text: match against the path's UTF-8 reading (invalid bytes read as U+FFFD). */
function textOf(path: RelPath): string {
  return Buffer.from(path, 'latin1').toString('utf8');
}
