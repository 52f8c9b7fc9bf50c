import type createIgnore from 'ignore';
import type { Ignore } from 'ignore';
import { lstatSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAtOrBelow, joinRel, parentOf } from '../core/paths.js';
import { DirAnchors, type Place } from '../engine/dir-anchors.js';
import type { AbsPath, RelPath } from '../core/types.js';
import { toBytes } from '../fs/paths.js';
import { nativeNoEntry } from '../fs/native-listing.js';

/** The name of the per-directory ignore file (gitignore syntax). Like every `.tsync*` name, never synced. */
export const IGNORE_FILE = '.tsyncignore';

type IgnoreFactory = typeof createIgnore;
let ignoreFactory: IgnoreFactory | null = null;

/**
 * A matcher for `patterns`. The `ignore` package is loaded on the first call, not at start-up: most
 * runs have no rules at all, and loading it is a measurable part of a short command's start
 * (bench/results-startup.md). It is CommonJS, so a synchronous require keeps `excludes` synchronous.
 */
function matcherOf(patterns: readonly string[]): Ignore {
  ignoreFactory ??= createRequire(import.meta.url)('ignore') as IgnoreFactory;
  return ignoreFactory().add([...patterns]);
}

/**
 * Where a filter's ignore-file rules come from besides the roots it reads itself: the text of each
 * directory's `.tsyncignore` files on a side it cannot read directly ('' for the root), e.g. a remote
 * side's, as its agent read them. `applyIgnoreFiles: false` reads the roots' ignore files (so that
 * `rulesRead` has them) without applying them: the scan of a pair with a remote side is filtered after
 * both sides are known, by a filter that holds both sides' rules (see `withoutExcluded`).
 */
export interface FilterSources {
  readonly texts?: ReadonlyMap<string, string>;
  readonly applyIgnoreFiles?: boolean;
}

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
  /** null when there are no --exclude rules: nothing to match, no matcher built. */
  private readonly top: Ignore | null;
  private readonly includes: Ignore | null;
  private readonly perDir = new Map<string, Ignore | null>();
  /**
   * The directory whose rules (and its ancestors') `excludes` last loaded, as its path and a '/' ('' for the root):
   * a path directly in it needs no look-up (perDir only grows). Per path, the look-up cut a substring and hashed
   * it: about 5% of a 100k-entry no-op's main thread (issue 11).
   */
  private checkedDirPrefix: string | null = null;
  /** The directories whose ignore files hold rules ('' for the root), and their rules. */
  private readonly withRules = new Map<string, Ignore>();
  /** Ignore files are read through directory descriptors, like the scan reads the tree (dir-anchors.ts). */
  private readonly anchors: DirAnchors[];
  /** The text of the rules read per directory ('' for the root): what two filters compare (scan/parallel-scan.ts). */
  private readonly textRead = new Map<string, string>();
  /** Per root, directories found missing there (so their subdirectories are not looked for at all). */
  private readonly missing: Set<string>[];
  /** Per root, directories a scan has just listed without an ignore file among their names (see `listed`). */
  private readonly listedWithout: Set<string>[];
  private readonly roots: readonly AbsPath[];
  /** The native addon's ENOENT probe (absentByPath), or null: taken when the filter is made, as a walk takes its listing. */
  private readonly noEntry = nativeNoEntry();

  private readonly texts: Map<string, string>;
  private readonly applyIgnoreFiles: boolean;

  constructor(
    /** The --exclude and --include rules, as given (a remote side's agent builds its own filter from them). */
    readonly rules: FilterRules,
    roots: readonly AbsPath[],
    sources: FilterSources = {},
  ) {
    this.texts = new Map(sources.texts ?? []);
    this.applyIgnoreFiles = sources.applyIgnoreFiles ?? true;
    this.top = rules.exclude.length > 0 ? matcherOf(rules.exclude) : null;
    this.includes = rules.include.length > 0 ? matcherOf(rules.include) : null;
    this.anchors = roots.map((r) => new DirAnchors(r));
    this.missing = roots.map(() => new Set<string>());
    this.listedWithout = roots.map(() => new Set<string>());
    this.roots = roots;
  }

  /**
   * A scan of `root` has just listed `dir` (null: the root) and found these names. When there is no
   * ignore file among them, the rules of `dir` need not be looked for on that root: the lookup (a
   * directory descriptor opened, an lstat, a close, per directory and root) was most of what this
   * filter cost a no-op run with no rules at all. The other root is still looked at as before.
   */
  listed(root: AbsPath, dir: RelPath | null, names: readonly string[]): void {
    const i = this.roots.indexOf(root);
    const key = dir ?? '';
    if (i < 0 || this.perDir.has(key) || names.includes(IGNORE_FILE)) return;
    this.listedWithout[i]?.add(key);
  }

  /** Closes the directory descriptors used to find ignore files (a scan calls this when it is done). */
  closeDirs(): void {
    for (const a of this.anchors) a.closeAll();
  }

  /** The ignore-file rules this filter has read so far, per directory ('' for the root), as one text each. */
  rulesRead(): ReadonlyMap<string, string> {
    return this.textRead;
  }

  /** Reads the rules of these directories ('' for the root) now, as `excludes` would when it first needs them. */
  readRules(dirs: Iterable<string>): void {
    for (const d of dirs) this.loadUpTo(d === '' ? null : (d as RelPath));
    this.closeDirs();
  }

  /**
   * More of the other side's ignore-file texts (a watch's rescan of a remote side read them): taken for
   * directories whose rules this filter has not read yet; those it has keep theirs until the next full scan.
   */
  learnTexts(texts: ReadonlyMap<string, string>): void {
    for (const [dir, text] of texts) if (!this.perDir.has(dir)) this.texts.set(dir, text);
  }

  /** Whether `path` (a directory when `isDir`) is left out of the sync. */
  excludes(path: RelPath, isDir: boolean): boolean {
    // a walk asks for a directory's names one after another: the rules above them were made sure of for the first
    const prefix = this.checkedDirPrefix;
    if (prefix === null || !path.startsWith(prefix) || path.indexOf('/', prefix.length) >= 0) {
      const dir = parentOf(path);
      this.loadUpTo(dir);
      this.checkedDirPrefix = dir === null ? '' : `${dir}/`;
    }
    // the common case, no rules anywhere: no text conversion per path (it showed in a 100k-path profile)
    if (this.top === null && this.includes === null && this.withRules.size === 0) return false;
    const text = textOf(path);
    if (this.includes?.ignores(isDir ? `${text}/` : text) === true) return false;
    if (this.matches(this.top, text, isDir)) return true;
    // only directories that have rules are looked at: a path is not matched against every ancestor
    for (const [key, rules] of this.withRules) {
      if (key === '') {
        if (this.matches(rules, text, isDir)) return true;
      } else if (isAtOrBelow(path, key as RelPath) && path !== key) {
        if (this.matches(rules, text.slice(textOf(key as RelPath).length + 1), isDir)) return true;
      }
    }
    return false;
  }

  /** Reads the rules of `dir` and of every directory above it not read yet. */
  private loadUpTo(dir: RelPath | null): void {
    const chain: (RelPath | null)[] = [];
    let d: RelPath | null = dir;
    for (;;) {
      if (this.perDir.has(d ?? '')) break;
      chain.push(d);
      if (d === null) break;
      d = parentOf(d);
    }
    for (let i = chain.length - 1; i >= 0; i--) this.rulesOf(chain[i] ?? null);
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
    this.anchors.forEach((anchors, i) => {
      const missing = this.missing[i] as Set<string>;
      const parent = dir === null ? null : parentOf(dir);
      if (parent !== null && missing.has(parent)) {
        missing.add(key);
        return;
      }
      if ((this.listedWithout[i] as Set<string>).delete(key)) return; // listed just now, without one
      if (absentByPath(this.roots[i] as AbsPath, dir, this.noEntry)) return;
      let place: Place;
      try {
        place = anchors.place(joinRel(dir, IGNORE_FILE));
      } catch {
        missing.add(key); // the directory is not on this side (or not a real directory): no rules from it
        return;
      }
      try {
        // most directories have none: ask without an exception per directory
        if (lstatSync(place.fdPath, { throwIfNoEntry: false })?.isFile() !== true) return;
        lines.push(...readFileSync(place.fdPath, 'utf8').split(/\r?\n/));
      } catch {
        // unreadable, or gone since: as if there were none
      } finally {
        place.release();
      }
    });
    const given = this.texts.get(key);
    if (given !== undefined && given !== '') lines.push(...given.split(/\r?\n/));
    const rules = this.applyIgnoreFiles && lines.some((l) => l.trim() !== '' && !l.startsWith('#')) ? matcherOf(lines) : null;
    this.perDir.set(key, rules);
    this.textRead.set(key, lines.join('\n'));
    if (rules !== null) this.withRules.set(key, rules);
    return rules;
  }
}

/**
 * Whether a plain lstat by path finds no ignore file in `dir` of `root`. The anchored lookup (a directory
 * descriptor opened down the chain, an lstat through it, a close) costs about 70 µs a directory here, and a
 * run looks up every directory on the root it is not walking: 150 ms of a 100k-entry sync's main thread, and
 * as much again in its scan worker (issue 11). A path lstat costs a few µs. Only its plain "no such file"
 * is trusted, and it can only say so truly: a symlink on the way leads elsewhere, where a file found would
 * not count, but where none is found the anchored lookup finds none either (it stops at the symlink: no
 * rules). Anything else (a file there, or an error) is left to the anchored lookup.
 */
function absentByPath(root: AbsPath, dir: RelPath | null, noEntry: ((path: string) => boolean) | null): boolean {
  const path = `${root}/${joinRel(dir, IGNORE_FILE)}`;
  // the native addon's lstat where it is in use: the same answer, without Node's ~10 us around each probe (issue 11)
  if (noEntry !== null) return noEntry(path);
  try {
    return lstatSync(toBytes(path as AbsPath), { throwIfNoEntry: false }) === undefined;
  } catch {
    return false;
  }
}

/** Patterns are text: match against the path's UTF-8 reading (invalid bytes read as U+FFFD). */
function textOf(path: RelPath): string {
  return Buffer.from(path, 'latin1').toString('utf8');
}
