import { readFileSync } from 'node:fs';

/**
 * tsync's version, read from the package.json shipped beside dist/ (found from this file, not the
 * working directory). Read at run time rather than copied in at build time: it costs a fraction of a
 * millisecond and needs no generated source that could fall behind package.json.
 */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}
