// The loader hooks of record-loads.mjs: they record each module's URL and change nothing about how it loads.
import { appendFileSync } from 'node:fs';

/** @type {string | undefined} */
let logFile;

/** @param {string | undefined} data */
export function initialize(data) {
  logFile = data;
}

/**
 * @param {string} url
 * @param {unknown} context
 * @param {(url: string, context: unknown) => Promise<unknown>} nextLoad
 */
export async function load(url, context, nextLoad) {
  if (logFile !== undefined) appendFileSync(logFile, `${url}\n`);
  return nextLoad(url, context);
}
