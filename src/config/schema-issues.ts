import * as v from 'valibot';
import { UsageError } from '../errors.js';

// Turns a file's JSON into checked data with a valibot schema, or into ONE line naming the file, the key
// (as a path jq understands: `profiles.backup.conflict`, `actions[2].expect.kind`), what was expected
// and what was found. Convention: every message a schema here carries is the "expected" phrase, so the
// line reads the same whatever part of the schema failed.

type AnyIssue = v.BaseIssue<unknown>;

/** Parses `text` as JSON and validates it; the first problem is a UsageError (exit 2). */
export function parseJsonFile<S extends v.GenericSchema>(schema: S, text: string, file: string): v.InferOutput<S> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  // abortEarly: one line is all the user sees, and the first problem in document order is the one to fix.
  const result = v.safeParse(schema, doc, { abortEarly: true, message: expectedOf });
  if (result.success) return result.output;
  const [issue] = result.issues;
  throw new UsageError(`${file}: ${describeIssue(issue)}`);
}

/** `key.path: expected X, found Y`, or `key.path: missing`. Exported for the unit test. */
export function describeIssue(issue: AnyIssue): string {
  const where = keyPath(issue);
  // JSON has no undefined: a received `undefined` is a required key that is absent.
  const what = issue.received === 'undefined' ? 'missing' : `expected ${issue.message}, found ${foundOf(issue)}`;
  return where === '' ? what : `${where}: ${what}`;
}

/** A JSON object: valibot's object schemas also take a list (its indexes as keys), which no file here means. */
export const anObject = v.custom<Record<string, unknown>>((x) => typeof x === 'object' && x !== null && !Array.isArray(x), 'an object');

/**
 * An object that admits only the listed keys (a typo is an error, not silently ignored); an unknown
 * key's line lists the known ones.
 */
export function closedObject<E extends v.ObjectEntries>(entries: E) {
  return v.pipe(anObject, exactKeys(entries));
}

/** closedObject without the list guard, for the options of a `v.variant` (which must be object schemas; guard the variant). */
export function exactKeys<E extends v.ObjectEntries>(entries: E): v.StrictObjectSchema<E, (issue: v.StrictObjectIssue) => string> {
  const known = Object.keys(entries).join('|');
  return v.strictObject(entries, (issue) => (issue.expected === 'never' ? `a known key (${known})` : 'an object'));
}

/** The phrase for issues whose schema carries no message of its own: built from valibot's `expected`. */
function expectedOf(issue: AnyIssue): string {
  const e = issue.expected ?? '';
  const plain: Record<string, string> = { string: 'a string', number: 'a number', boolean: 'true or false', Object: 'an object', Array: 'a list', null: 'null' };
  const known = plain[e];
  if (known !== undefined) return known;
  // A union of literals, as valibot writes it: `("keep-both" | "newer")` -> one of keep-both|newer
  const options = /^\((.*)\)$/.exec(e)?.[1]?.split(' | ');
  if (options !== undefined) return options.every((o) => o.startsWith('"')) ? `one of ${options.map(unquote).join('|')}` : options.map((o) => plain[o] ?? o).join(' or ');
  return e;
}

function unquote(s: string): string {
  return s.replace(/^"(.*)"$/, '$1');
}

/**
 * The value at the key path, as the file has it. Not valibot's `received`: a check forwarded to a key
 * received the whole object, and a transformed value (a number read as a flag's text) is no longer the
 * file's. An unknown key is shown by its name.
 */
function foundOf(issue: AnyIssue): string {
  const last = issue.path?.at(-1);
  if (last === undefined || issue.expected === 'never') return short(issue.received);
  const value: unknown = last.value;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'an object';
  return short(typeof value === 'string' ? JSON.stringify(value) : String(value));
}

function short(text: string): string {
  if (text === 'Object') return 'an object';
  if (text === 'Array') return 'a list';
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function keyPath(issue: AnyIssue): string {
  let out = '';
  for (const item of issue.path ?? []) {
    const key: unknown = item.key;
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$-]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}
