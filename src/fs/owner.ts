import { readFileSync } from 'node:fs';

const CAP_CHOWN_BIT = 0n;

/**
 * Whether this process may give files away (chown to any uid, chgrp to any gid): root, or CAP_CHOWN in
 * the effective set (read from /proc/self/status). Without it owner and group are not kept at all:
 * comparing them would plan a change on every run that could never be applied.
 */
export function mayChown(): boolean {
  if (process.getuid?.() === 0) return true;
  try {
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return capEff !== undefined && ((BigInt(`0x${capEff}`) >> CAP_CHOWN_BIT) & 1n) === 1n;
  } catch {
    return false;
  }
}
