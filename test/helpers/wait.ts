import { readFileSync } from 'node:fs';

/** Polls `cond` every `everyMs` until it holds; throws `why()` after `timeoutMs` (a bound for a hung process, not a timing check). */
export async function until(cond: () => boolean, timeoutMs: number, why: () => string, everyMs = 10): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(why());
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A file's text, or null when it cannot be read (not there yet, or gone). */
export function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
