import { readFileSync } from 'node:fs';

/**
 * TEST ONLY: replaces the kernel boot id, so that test/faults/power-cut.test.ts can stand for a reboot
 * (which a test cannot really make). Not an option for users; nothing but that test sets it.
 */
export const TEST_ONLY_BOOT_ID_ENV = 'TSYNC_TEST_ONLY_BOOT_ID';

/**
 * The kernel's boot id (Linux: a random UUID made at each boot), or null where it cannot be read. Two
 * runs that read the same one ran in the same boot: nothing in between can have dropped the page cache.
 */
export function currentBootId(): string | null {
  const forced = process.env[TEST_ONLY_BOOT_ID_ENV];
  if (forced !== undefined && forced !== '') return forced;
  try {
    const id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return id === '' ? null : id;
  } catch {
    return null;
  }
}

/**
 * The id of the mount that holds `root` (the first field of /proc/self/mountinfo: a new number each
 * time something is mounted), or null where it cannot be read. The same boot id is not enough: a disk
 * pulled out and plugged back in without an unmount loses what its page cache held, and comes back
 * as a new mount. The mount is the one whose mount point is the longest prefix of `root` (the last
 * listed on a tie: it covers the earlier ones).
 */
export function mountIdOf(root: string): string | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'latin1');
  } catch {
    return null;
  }
  let best: { id: string; length: number } | null = null;
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const id = fields[0];
    const at = fields[4];
    if (id === undefined || at === undefined || id === '') continue;
    const point = at.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
    const holds = point === '/' || root === point || root.startsWith(`${point}/`);
    if (holds && (best === null || point.length >= best.length)) best = { id, length: point.length };
  }
  return best?.id ?? null;
}
