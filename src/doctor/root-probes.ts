import { closeSync, constants, fstatSync, ftruncateSync, linkSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hasFineGrainedCtime } from '../fs/ctime-probe.js';
import { errCode } from '../fs/stat.js';
import { type CheckResult, result } from './check.js';
import { probeXattr } from './xattr-probe.js';

/** Probe directories are tsync's own names (`.tsync*`): a sync never copies one a killed doctor left behind. */
export const PROBE_PREFIX = '.tsync-doctor-';

const SPARSE_SIZE = 1024 * 1024;

/**
 * What the file system under one root can do: fine-grained ctimes, case sensitivity, hard links,
 * sparse files, xattrs. Every probe works inside one fresh directory `<root>/.tsync-doctor-XXXXXX`,
 * removed at the end whatever happened. A root we cannot write to (a read-only one-way source) gets
 * one warning instead of the probes.
 */
export function probeRoot(rootText: string): CheckResult[] {
  let dir: string;
  try {
    dir = mkdtempSync(join(rootText, PROBE_PREFIX));
  } catch (e) {
    return [
      result('features', rootText, 'warn', `cannot create a probe directory in it (${errCode(e)}), so its file system's features are not checked; a one-way source may well be read-only`),
    ];
  }
  let checks: CheckResult[] = [];
  try {
    checks = [probeCtime(rootText, dir), probeCase(rootText, dir), probeHardLinks(rootText, dir), probeSparse(rootText, dir), xattrCheck(rootText, dir)];
  } finally {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      // harmless to a sync (a `.tsync*` name is never synced), but the user should know it is there
      checks.push(result('features', rootText, 'warn', `could not remove the probe directory ${dir} (${errCode(e)})`, `rm -r ${dir}`));
    }
  }
  return checks;
}

function probeCtime(root: string, dir: string): CheckResult {
  if (hasFineGrainedCtime(Buffer.from(dir))) return result('ctime', root, 'ok', 'fine-grained ctimes: a stat vouches for a file the moment it is taken');
  return result(
    'ctime',
    root,
    'ok',
    'coarse ctimes (a kernel before 6.13, or this file system keeps them coarse): a file changed in the same clock tick as its last stat is hashed again on the next run; safe, slightly slower',
  );
}

/** True when a name differing only by case finds the file already there. */
export function isCaseInsensitive(dir: string): boolean {
  const lower = join(dir, 'case-probe');
  const upper = join(dir, 'CASE-PROBE');
  closeSync(openSync(lower, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
  try {
    closeSync(openSync(upper, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
    return false;
  } catch (e) {
    if (errCode(e) === 'EEXIST') return true;
    throw e;
  }
}

function probeCase(root: string, dir: string): CheckResult {
  try {
    if (isCaseInsensitive(dir)) {
      return result(
        'case',
        root,
        'warn',
        'case-insensitive: names that differ only by case (README and readme) are one file here; if the other root holds both, one of them cannot be written here and is reported as a problem',
        'keep such names apart in the other root, or put this root on a case-sensitive file system',
      );
    }
    return result('case', root, 'ok', 'case-sensitive');
  } catch (e) {
    return result('case', root, 'warn', `could not probe (${errCode(e)})`);
  }
}

function probeHardLinks(root: string, dir: string): CheckResult {
  const file = join(dir, 'link-probe');
  try {
    closeSync(openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
    linkSync(file, join(dir, 'link-probe-2'));
    return result('hardlink', root, 'ok', 'hard links work (the trash keeps an overwritten file as a hard link)');
  } catch (e) {
    return result(
      'hardlink',
      root,
      'warn',
      `no hard links (${errCode(e)}): the trash keeps an overwritten file as a hard link, so with the trash on, overwriting a file here fails`,
      'sync with --no-trash (overwritten files are then not kept)',
    );
  }
}

function probeSparse(root: string, dir: string): CheckResult {
  const file = join(dir, 'sparse-probe');
  try {
    const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    let allocated: number;
    try {
      ftruncateSync(fd, SPARSE_SIZE);
      allocated = fstatSync(fd).blocks * 512;
    } finally {
      closeSync(fd);
    }
    if (allocated < SPARSE_SIZE / 2) return result('sparse', root, 'ok', 'sparse files: a 1 MiB hole takes no space');
    return result('sparse', root, 'ok', `no sparse files (a 1 MiB hole took ${allocated} bytes): copies of sparse files (VM images) take their full size here`);
  } catch (e) {
    return result('sparse', root, 'warn', `could not probe (${errCode(e)})`);
  }
}

function xattrCheck(root: string, dir: string): CheckResult {
  const file = join(dir, 'xattr-probe');
  try {
    closeSync(openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
  } catch (e) {
    return result('xattr', root, 'warn', `could not probe (${errCode(e)})`);
  }
  switch (probeXattr(file)) {
    case 'yes':
      return result('xattr', root, 'ok', 'user.* extended attributes work (tsync keeps them, and ACLs, unless --no-xattrs)');
    case 'no':
      return result('xattr', root, 'ok', 'no user.* extended attributes: a replica here cannot keep xattrs or ACLs (a sync says so once; the files are still copied)');
    case 'unknown':
      return result('xattr', root, 'warn', 'unknown: setfattr/getfattr are not installed', 'install the attr package to check');
  }
}

/** One file system or two: st_dev of both roots (both must exist). */
export function filesystemsCheck(aText: string, bText: string): CheckResult {
  const a = statSync(aText).dev;
  const b = statSync(bText).dev;
  return a === b
    ? result('filesystems', null, 'ok', 'both roots are on one file system: the same features apply to both, and a full disk stops both')
    : result('filesystems', null, 'ok', 'the roots are on two file systems: each is checked on its own above; copies between them always move the bytes');
}
