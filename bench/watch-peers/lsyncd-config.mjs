#!/usr/bin/env node
// Generates the lsyncd config bench/watch.mjs runs lsyncd with: rsync mirroring of SRC into DST with no
// delay, in the foreground.
//
//   node bench/watch-peers/lsyncd-config.mjs SRC DST > lsyncd.conf.lua
//   lsyncd lsyncd.conf.lua
//
// Also importable: `lsyncdConfig(src, dst)` returns the text.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A Lua string literal (byte-safe: everything outside printable ASCII is a decimal escape). */
/** @param {string} s */
export function luaString(s) {
  let out = '"';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${String(b).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** lsyncd wants directories with a trailing slash (it hands them to rsync as SRC/ DST/). */
const dir = (/** @type {string} */ p) => {
  const abs = resolve(p);
  return abs.endsWith('/') ? abs : `${abs}/`;
};

/** @param {string} src @param {string} dst */
export function lsyncdConfig(src, dst) {
  return ['settings {', '  nodaemon = true,', '}', 'sync {', '  default.rsync,', `  source = ${luaString(dir(src))},`, `  target = ${luaString(dir(dst))},`, '  delay = 0,', '}', ''].join(
    '\n',
  );
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [src, dst] = process.argv.slice(2);
  if (src === undefined || dst === undefined) {
    console.error('usage: lsyncd-config.mjs SRC DST');
    process.exit(2);
  }
  process.stdout.write(lsyncdConfig(src, dst));
}
