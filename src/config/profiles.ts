import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { CONFLICT_POLICIES } from '../core/types.js';
import { UsageError } from '../errors.js';
import { concurrencyOf, deleteLimitOf, EXPECTED_CONCURRENCY, EXPECTED_DAYS, EXPECTED_DELETE_LIMIT, trashKeepOf } from './options.js';
import { anObject, closedObject, parseJsonFile } from './schema-issues.js';

/** A value a flag takes as text: the config file may also give it as a JSON number (`"trashKeep": 14`). */
const flagText = (expected: string, accepts: (text: string) => boolean) =>
  v.pipe(v.union([v.pipe(v.number(), v.finite(), v.transform(String)), v.string()], 'a number or a string'), v.check(accepts, expected));

const isLimit = (l: ReturnType<typeof deleteLimitOf>): boolean => l !== null && l !== 'over-100%';

const text = v.pipe(v.string(), v.nonEmpty('a non-empty string'));
const patterns = v.array(v.string());

const PROFILE = closedObject({
  source: v.optional(text),
  destination: v.optional(text),
  oneWay: v.optional(v.boolean()),
  conflict: v.optional(v.picklist(CONFLICT_POLICIES)),
  stateDir: v.optional(text),
  checksum: v.optional(v.boolean()),
  force: v.optional(v.boolean()),
  maxDelete: v.optional(flagText(`${EXPECTED_DELETE_LIMIT}, at most 100%`, (t) => isLimit(deleteLimitOf(t)))),
  concurrency: v.optional(flagText(EXPECTED_CONCURRENCY, (t) => concurrencyOf(t) !== null)),
  exclude: v.optional(patterns),
  include: v.optional(patterns),
  trash: v.optional(v.boolean()),
  trashKeep: v.optional(flagText(EXPECTED_DAYS, (t) => trashKeepOf(t) !== null)),
  fsync: v.optional(v.boolean()),
  flushNow: v.optional(v.boolean()),
  quiet: v.optional(v.boolean()),
});

/**
 * The whole file is checked, not only the profile asked for: a mistake in any profile is reported the
 * first time the file is used rather than the day that profile is. Keys beside `profiles` are left to
 * other tools (an editor's `$schema`, comments as keys), as they always were.
 */
const CONFIG_FILE = v.pipe(anObject, v.looseObject({ profiles: v.pipe(anObject, v.record(v.string(), PROFILE)) }));

/** What a profile may set: the roots and the options of `sync`/`watch`, under their flag names in camelCase. */
export type Profile = Readonly<v.InferOutput<typeof PROFILE>>;

/**
 * The config file: `--config FILE`, else `tsync.config.json` in the working directory, else
 * `$XDG_CONFIG_HOME/tsync/config.json` (`~/.config/tsync/config.json`). Shape:
 * `{ "profiles": { "backup": { "source": "…", "destination": "…", "oneWay": true, … } } }`.
 */
export function configCandidates(explicit: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string[] {
  if (explicit !== undefined) return [explicit];
  const configHome = env.XDG_CONFIG_HOME ?? join(homedir(), '.config');
  return [join(cwd, 'tsync.config.json'), join(configHome, 'tsync', 'config.json')];
}

/** Loads and validates one profile; every mistake is a one-line UsageError (exit 2) naming the file and key. */
export function loadProfile(name: string, candidates: readonly string[]): Profile {
  let file: string | null = null;
  let content = '';
  for (const c of candidates) {
    try {
      content = readFileSync(c, 'utf8');
      file = c;
      break;
    } catch {
      // try the next place
    }
  }
  if (file === null) throw new UsageError(`--profile ${name}: no config file (looked for ${candidates.join(', ')})`);
  const { profiles } = parseJsonFile(CONFIG_FILE, content, file);
  const profile = Object.hasOwn(profiles, name) ? profiles[name] : undefined;
  if (profile === undefined) throw new UsageError(`${file}: profiles.${name}: no such profile (profiles: ${Object.keys(profiles).join(', ') || 'none'})`);
  return profile;
}
