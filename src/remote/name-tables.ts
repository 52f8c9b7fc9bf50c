import { readFileSync } from 'node:fs';
import type { NameTables } from './id-map.js';

/**
 * This machine's user and group names by id, from /etc/passwd and /etc/group. Node has no getpwuid for
 * other users, so accounts that only a directory service (LDAP, sssd) knows are not seen: their ids keep
 * their numbers, as with --numeric-ids. TSYNC_ETC_DIR reads the two files from another directory (a test
 * hook: one machine plays two with different accounts).
 */
export function readNameTables(etcDir = process.env.TSYNC_ETC_DIR ?? '/etc'): NameTables {
  return { users: parseIdFile(`${etcDir}/passwd`), groups: parseIdFile(`${etcDir}/group`) };
}

/** `name:x:id:…` lines; anything else (comments, NIS `+` lines, garbage) is skipped. */
export function parseIdFile(file: string): Map<number, string> {
  const out = new Map<number, string>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const [name, , idText] = line.split(':');
    if (name === undefined || name === '' || name.startsWith('+') || name.startsWith('#') || idText === undefined || !/^\d+$/.test(idText)) continue;
    const id = Number(idText);
    if (!out.has(id)) out.set(id, name);
  }
  return out;
}
