import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CONFLICT_POLICIES } from '../core/types.js';
import { UsageError } from '../errors.js';

/** What a profile may set: the roots and the options of `sync`/`watch`, under their flag names in camelCase. */
export interface Profile {
  readonly source?: string;
  readonly destination?: string;
  readonly oneWay?: boolean;
  readonly conflict?: string;
  readonly stateDir?: string;
  readonly checksum?: boolean;
  readonly force?: boolean;
  readonly maxDelete?: string;
  readonly concurrency?: string;
  readonly exclude?: readonly string[];
  readonly include?: readonly string[];
  readonly trash?: boolean;
  readonly trashKeep?: string;
  readonly fsync?: boolean;
  readonly quiet?: boolean;
}

type Kind = 'string' | 'boolean' | 'strings' | 'number-or-string';

const KEYS: Readonly<Record<keyof Profile, Kind>> = {
  source: 'string',
  destination: 'string',
  oneWay: 'boolean',
  conflict: 'string',
  stateDir: 'string',
  checksum: 'boolean',
  force: 'boolean',
  maxDelete: 'number-or-string',
  concurrency: 'number-or-string',
  exclude: 'strings',
  include: 'strings',
  trash: 'boolean',
  trashKeep: 'number-or-string',
  fsync: 'boolean',
  quiet: 'boolean',
};

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

/** Loads and validates one profile; every mistake is a precise UsageError (exit 2). */
export function loadProfile(name: string, candidates: readonly string[]): Profile {
  let file: string | null = null;
  let text = '';
  for (const c of candidates) {
    try {
      text = readFileSync(c, 'utf8');
      file = c;
      break;
    } catch {
      // try the next place
    }
  }
  if (file === null) throw new UsageError(`--profile ${name}: no config file (looked for ${candidates.join(', ')})`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`config ${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const profiles = isObject(doc) ? doc.profiles : undefined;
  if (!isObject(profiles)) throw new UsageError(`config ${file}: expected an object with a "profiles" object`);
  const raw = profiles[name];
  if (raw === undefined) throw new UsageError(`config ${file}: no profile "${name}" (profiles: ${Object.keys(profiles).join(', ') || 'none'})`);
  if (!isObject(raw)) throw new UsageError(`config ${file}: profile "${name}" must be an object`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const kind = (KEYS as Record<string, Kind | undefined>)[key];
    const where = `config ${file}: profile "${name}": "${key}"`;
    if (kind === undefined) throw new UsageError(`config ${file}: profile "${name}": unknown key "${key}" (known: ${Object.keys(KEYS).join(', ')})`);
    out[key] = checked(where, kind, value);
  }
  if (out.conflict !== undefined && !(CONFLICT_POLICIES as readonly string[]).includes(out.conflict as string)) {
    throw new UsageError(`config ${file}: profile "${name}": "conflict" must be one of ${CONFLICT_POLICIES.join(', ')}`);
  }
  return out as Profile;
}

function checked(where: string, kind: Kind, value: unknown): unknown {
  switch (kind) {
    case 'string':
      if (typeof value !== 'string' || value === '') throw new UsageError(`${where} must be a non-empty string`);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw new UsageError(`${where} must be true or false`);
      return value;
    case 'strings':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new UsageError(`${where} must be a list of strings`);
      return value;
    case 'number-or-string':
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      if (typeof value === 'string' && value !== '') return value;
      throw new UsageError(`${where} must be a number or a string`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
