// @ts-check
// TEST-ONLY fault layer. Loaded into a child tsync process with `node --import <this file>`; production
// code never imports it. It wraps the `node:fs` and `node:fs/promises` functions tsync calls and, where a
// rule in $TSYNC_FAULT_PLAN matches, either throws an errno error the kernel could have returned (EIO,
// ENOSPC, EACCES, EXDEV…) or makes a REAL change to the tree (unlink, rewrite, swap a directory for a
// symlink) just before the call goes ahead. That is the one thing a test cannot do from outside: land a
// fault at a precise moment of the run. Everything else stays real: the files, the index, the process.
//
// $TSYNC_FAULT_PLAN is JSON: an array of rules
//   { op, path, nth?, times?, error?, then? }
//   op     one of: open-read, open-write, read, write (a copyFile is a read of its source and a write of
//          its destination), rename, unlink, rmdir, mkdir, fchmod, futimes,
//          readdir, lstat, link, symlink, truncate (ftruncate: a sparse copy sets its length),
//          fsync (the callback form the targeted flush uses; the path is the one its fd was opened with)
//   path   a substring of the path the call is about (for fd calls: the path the fd was opened with;
//          for rename and link: the destination). "" matches every call of that op.
//   exact  true: `path` must equal the call's path
//   unless a substring that keeps a call from matching (e.g. "-probe-": not the ctime probe's temp file)
//   pattern  a regular expression (its source) the call's path must match as well: for a name only the run
//          knows whose shape tells it apart, such as a copy stage's `.tsync-tmp-PID-sN` among temp files
//   nth    the first matching call that fires (1-based, default 1); times: how many fire (default 1)
//   error  an errno code to throw: the call does not happen
//   then   a real change made just before the call runs: { do: 'unlink' | 'rewrite' | 'append' |
//          'dir-to-symlink' | 'chown', target: absolute path, to?: symlink target, or "uid:gid" for chown };
//          a target of "$CALL_PATH"
//          means the path of the call the rule matched (for a name only the run knows, such as a temp name)
// $TSYNC_FAULT_LOG (required with a plan) gets one JSON line when the layer is loaded,
// { loaded: <pid>, rules: <count> }, and one per fault that fires, { rule, thread, op, path, error, then }
// (thread: the worker_threads threadId, 0 for the main thread): the test asserts from it that the layer was
// in the process and that each of its faults really landed, and where.
//
// Plain JavaScript because Node 20 cannot `--import` TypeScript; `npm run typecheck` checks it with
// `checkJs` and the project's strict options (tsconfig.js.json). Two loosenings, both below and commented:
// `wfs`/`wfsp` (Node's types declare the fs bindings read-only; replacing them is this layer's whole job),
// and `any[]` for the arguments of the overloaded calls it forwards unchanged (readSync, writeSync,
// readdirSync, lstatSync, the FileHandle): naming one overload would reject the others' arguments.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { constants as osConstants } from 'node:os';
import { getEnvironmentData, isMainThread, setEnvironmentData, threadId } from 'node:worker_threads';

// The scan's native listing (src/fs/native-listing.ts) lists a directory and lstats its names in C, where this
// layer cannot reach. A process with the layer walks through Node's fs instead, whose calls it wraps; the scan
// handles an error from either the same way (scan/scan.ts walkDirs, scanNativeListing), and the native
// listing's own errors are tested with real ones (test/e2e/native-listing.test.ts). Set before tsync starts,
// so its scan workers, which copy this environment, walk the same way.
process.env.TSYNC_NATIVE = '0';

/** @typedef {{ op: string, path: string, exact?: boolean, unless?: string, pattern?: string, nth?: number, times?: number, error?: string, then?: { do: string, target: string, to?: string } }} Rule */

/** @type {Rule[]} */
const rules = JSON.parse(process.env.TSYNC_FAULT_PLAN ?? '[]');
// One count of each rule for the whole process, in every thread: tsync's worker threads (the scan worker,
// src/scan/scan-worker.ts) load this layer too (workers inherit the --import), and the nth matching call
// must mean the nth in the process, whichever thread makes it, or a rule would fire once per thread. The
// main thread makes the counters (it loads first, before any worker exists) and hands them to every worker
// it starts through worker_threads' environment data, which a SharedArrayBuffer crosses without a copy.
const COUNTERS = 'tsync-fault-layer-counters';
/** @type {SharedArrayBuffer} */
const counters = isMainThread ? new SharedArrayBuffer(8 * Math.max(rules.length, 1)) : /** @type {SharedArrayBuffer} */ (getEnvironmentData(COUNTERS));
if (isMainThread) setEnvironmentData(COUNTERS, counters);
// a worker that could not find the counters would count on its own: refuse rather than fire twice
if (!(counters instanceof SharedArrayBuffer)) throw new Error('fault layer: a worker thread found no shared counters');
const seen = new Int32Array(counters, 0, Math.max(rules.length, 1));
const fired = new Int32Array(counters, 4 * Math.max(rules.length, 1), Math.max(rules.length, 1));
const logFile = process.env.TSYNC_FAULT_LOG;
// a fault that fires unreported would let a test count a disruption it cannot see: refuse to run blind
if (rules.length > 0 && (logFile === undefined || logFile === '')) throw new Error('fault layer: $TSYNC_FAULT_PLAN needs $TSYNC_FAULT_LOG');

// The originals, captured before anything is wrapped: the layer's own changes use these.
const real = {
  openSync: fs.openSync,
  closeSync: fs.closeSync,
  readSync: fs.readSync,
  writeSync: fs.writeSync,
  renameSync: fs.renameSync,
  unlinkSync: fs.unlinkSync,
  rmdirSync: fs.rmdirSync,
  mkdirSync: fs.mkdirSync,
  fchmodSync: fs.fchmodSync,
  futimesSync: fs.futimesSync,
  ftruncateSync: fs.ftruncateSync,
  readdirSync: fs.readdirSync,
  lstatSync: fs.lstatSync,
  linkSync: fs.linkSync,
  symlinkSync: fs.symlinkSync,
  writeFileSync: fs.writeFileSync,
  appendFileSync: fs.appendFileSync,
  rmSync: fs.rmSync,
  readlinkSync: fs.readlinkSync,
  chownSync: fs.chownSync,
  fsync: fs.fsync,
  open: fsp.open,
  copyFile: fsp.copyFile,
};

/**
 * The path a call is about, as text. tsync reaches entries through `/proc/self/fd/N/name` (its stand-in
 * for openat, src/engine/dir-anchors.ts); such a path is shown as the directory N was opened on.
 * @param {unknown} p
 */
function pathText(p) {
  const text = Buffer.isBuffer(p) ? p.toString('latin1') : p instanceof URL ? p.pathname : String(p);
  if (!text.startsWith('/')) {
    // a bare name looked up from inside its directory (src/fs/work-dir.ts): the working directory, by its real path
    try {
      return `${real.readlinkSync('/proc/self/cwd', { encoding: 'latin1' })}/${text}`;
    } catch {
      return text;
    }
  }
  const m = /^\/proc\/self\/fd\/(\d+)(\/.*)?$/.exec(text);
  if (m === null) return text;
  try {
    return `${real.readlinkSync(`/proc/self/fd/${m[1]}`, { encoding: 'latin1' })}${m[2] ?? ''}`;
  } catch {
    return text;
  }
}

/** fd -> the path it was opened with, so reads and writes can be matched by path. */
/** @type {Map<number, string>} */
const fdPaths = new Map();

/** @param {string} code @param {string} syscall @param {string} path */
function errnoError(code, syscall, path) {
  const errno = /** @type {Record<string, number>} */ (osConstants.errno)[code] ?? 5;
  const err = /** @type {NodeJS.ErrnoException} */ (new Error(`${code}: injected fault, ${syscall} '${path}'`));
  err.code = code;
  err.errno = -errno;
  err.syscall = syscall;
  err.path = path;
  return err;
}

/** A change's target that stands for the path of the call the rule matched. */
const CALL_PATH = '$CALL_PATH';

/** @param {{ do: string, target: string, to?: string }} change */
function makeChange(change) {
  const t = change.target;
  switch (change.do) {
    case 'unlink':
      real.rmSync(t, { recursive: true, force: true });
      break;
    case 'rewrite':
      real.writeFileSync(t, `changed by the fault layer at ${process.hrtime.bigint()}\n`);
      break;
    case 'append':
      real.appendFileSync(t, `appended by the fault layer at ${process.hrtime.bigint()}\n`);
      break;
    case 'chown': {
      // another user's entry at that name (the layer runs as root in the tests that use it)
      const [uid, gid] = (change.to ?? '65534:65534').split(':').map(Number);
      real.chownSync(t, uid ?? 65534, gid ?? 65534);
      break;
    }
    case 'dir-to-symlink': {
      // keep the directory's contents (moved aside, not lost) and plant a symlink where it was
      real.renameSync(t, `${t}.moved-by-fault-layer`);
      real.symlinkSync(change.to ?? '/tmp', t);
      break;
    }
    default:
      throw new Error(`fault layer: unknown change ${change.do}`);
  }
}

/**
 * Called before every wrapped call: throws the rule's error, or makes its change, when a rule fires.
 * @param {string} op @param {string} path @param {string} syscall
 */
function check(op, path, syscall) {
  for (let i = 0; i < rules.length; i++) {
    const r = /** @type {Rule} */ (rules[i]);
    if (r.op !== op || !(r.exact === true ? path === r.path : path.includes(r.path)) || (r.unless !== undefined && path.includes(r.unless))) continue;
    if (r.pattern !== undefined && !new RegExp(r.pattern).test(path)) continue;
    // atomic: two threads that match at once each get a count of their own, and only `times` of them fire
    const n = Atomics.add(seen, i, 1) + 1;
    if (n < (r.nth ?? 1)) continue;
    if (Atomics.add(fired, i, 1) >= (r.times ?? 1)) continue;
    if (logFile !== undefined) real.appendFileSync(logFile, `${JSON.stringify({ rule: i, thread: threadId, op, path, error: r.error ?? null, then: r.then?.do ?? null })}\n`);
    if (r.then !== undefined) makeChange(r.then.target === CALL_PATH ? { ...r.then, target: path } : r.then);
    if (r.error !== undefined) throw errnoError(r.error, syscall, path);
  }
}

/** @param {number} flags */
function isWriteOpen(flags) {
  return (flags & (fs.constants.O_WRONLY | fs.constants.O_RDWR | fs.constants.O_CREAT)) !== 0;
}

/** @param {unknown} flags */
function numericFlags(flags) {
  if (typeof flags === 'number') return flags;
  if (flags === undefined || flags === 'r') return fs.constants.O_RDONLY;
  return fs.constants.O_WRONLY; // 'w', 'a', 'wx'…
}

/** @typedef {import('node:fs').PathLike} PathLike */
// any: the wrappers are assigned over bindings that Node's types declare read-only (see the header)
/** @type {any} */ const wfs = fs;
/** @type {any} */ const wfsp = fsp;

wfs.openSync = (/** @type {PathLike} */ p, /** @type {import('node:fs').OpenMode} */ flags, /** @type {import('node:fs').Mode | null | undefined} */ mode) => {
  const path = pathText(p);
  check(isWriteOpen(numericFlags(flags)) ? 'open-write' : 'open-read', path, 'open');
  const fd = real.openSync(p, flags, mode);
  fdPaths.set(fd, path);
  return fd;
};
wfs.closeSync = (/** @type {number} */ fd) => {
  fdPaths.delete(fd);
  return real.closeSync(fd);
};
wfs.readSync = (/** @type {number} */ fd, /** @type {any[]} */ ...rest) => {
  check('read', fdPaths.get(fd) ?? '', 'read');
  return real.readSync(fd, .../** @type {[any]} */ (rest));
};
wfs.writeSync = (/** @type {number} */ fd, /** @type {any[]} */ ...rest) => {
  check('write', fdPaths.get(fd) ?? '', 'write');
  return real.writeSync(fd, .../** @type {[any]} */ (rest));
};
wfs.fchmodSync = (/** @type {number} */ fd, /** @type {import('node:fs').Mode} */ mode) => {
  check('fchmod', fdPaths.get(fd) ?? '', 'fchmod');
  return real.fchmodSync(fd, mode);
};
wfs.futimesSync = (/** @type {number} */ fd, /** @type {import('node:fs').TimeLike} */ a, /** @type {import('node:fs').TimeLike} */ m) => {
  check('futimes', fdPaths.get(fd) ?? '', 'futime');
  return real.futimesSync(fd, a, m);
};
wfs.ftruncateSync = (/** @type {number} */ fd, /** @type {number | undefined} */ len) => {
  check('truncate', fdPaths.get(fd) ?? '', 'ftruncate');
  return real.ftruncateSync(fd, len);
};
wfs.renameSync = (/** @type {PathLike} */ from, /** @type {PathLike} */ to) => {
  check('rename', pathText(to), 'rename');
  return real.renameSync(from, to);
};
wfs.linkSync = (/** @type {PathLike} */ from, /** @type {PathLike} */ to) => {
  check('link', pathText(to), 'link');
  return real.linkSync(from, to);
};
wfs.symlinkSync = (/** @type {PathLike} */ target, /** @type {PathLike} */ p, /** @type {import('node:fs').symlink.Type | null | undefined} */ type) => {
  check('symlink', pathText(p), 'symlink');
  return real.symlinkSync(target, p, type);
};
wfs.unlinkSync = (/** @type {PathLike} */ p) => {
  check('unlink', pathText(p), 'unlink');
  return real.unlinkSync(p);
};
wfs.rmdirSync = (/** @type {PathLike} */ p, /** @type {import('node:fs').RmDirOptions | undefined} */ o) => {
  check('rmdir', pathText(p), 'rmdir');
  return real.rmdirSync(p, o);
};
wfs.mkdirSync = (/** @type {PathLike} */ p, /** @type {import('node:fs').Mode | import('node:fs').MakeDirectoryOptions | null | undefined} */ o) => {
  check('mkdir', pathText(p), 'mkdir');
  return real.mkdirSync(p, o);
};
wfs.readdirSync = (/** @type {PathLike} */ p, /** @type {any} */ o) => {
  check('readdir', pathText(p), 'scandir');
  return real.readdirSync(p, o);
};
wfs.lstatSync = (/** @type {PathLike} */ p, /** @type {any} */ o) => {
  check('lstat', pathText(p), 'lstat');
  return real.lstatSync(p, o);
};

/** Wraps a FileHandle's own read/write/chmod/utimes so that faults can land inside a streamed copy. */
// any: FileHandle's read and write are overloaded, and their wrappers forward whichever form was called
function wrapHandle(/** @type {any} */ fh, /** @type {string} */ path) {
  const read = fh.read.bind(fh);
  const write = fh.write.bind(fh);
  const chmod = fh.chmod.bind(fh);
  const utimes = fh.utimes.bind(fh);
  const truncate = fh.truncate.bind(fh);
  fh.read = async (/** @type {any[]} */ ...a) => {
    check('read', path, 'read');
    return read(...a);
  };
  fh.write = async (/** @type {any[]} */ ...a) => {
    check('write', path, 'write');
    return write(...a);
  };
  fh.chmod = async (/** @type {import('node:fs').Mode} */ m) => {
    check('fchmod', path, 'fchmod');
    return chmod(m);
  };
  fh.utimes = async (/** @type {import('node:fs').TimeLike} */ a, /** @type {import('node:fs').TimeLike} */ m) => {
    check('futimes', path, 'futime');
    return utimes(a, m);
  };
  fh.truncate = async (/** @type {number | undefined} */ len) => {
    check('truncate', path, 'ftruncate');
    return truncate(len);
  };
  return fh;
}

wfsp.open = async (/** @type {PathLike} */ p, /** @type {string | number | undefined} */ flags, /** @type {import('node:fs').Mode | undefined} */ mode) => {
  const path = pathText(p);
  check(isWriteOpen(numericFlags(flags)) ? 'open-write' : 'open-read', path, 'open');
  return wrapHandle(await real.open(p, flags, mode), path);
};

// The flush's fsync (engine/targeted-flush.ts): a fault is reported through the callback, as the kernel's would be.
wfs.fsync = (/** @type {number} */ fd, /** @type {(e: NodeJS.ErrnoException | null) => void} */ callback) => {
  try {
    check('fsync', fdPaths.get(fd) ?? '', 'fsync');
  } catch (e) {
    process.nextTick(callback, /** @type {NodeJS.ErrnoException} */ (e));
    return;
  }
  real.fsync(fd, callback);
};

// The kernel copy of a large file (copy_file_range) reads its source and writes its destination in one
// call: it is both a 'read' of the one and a 'write' of the other.
wfsp.copyFile = async (/** @type {PathLike} */ from, /** @type {PathLike} */ to, /** @type {number | undefined} */ mode) => {
  check('read', pathText(from), 'copyfile');
  check('write', pathText(to), 'copyfile');
  return real.copyFile(from, to, mode);
};

// Make `import { renameSync } from 'node:fs'` (live ESM bindings of the built-in) see the wrappers.
syncBuiltinESMExports();

if (isMainThread && logFile !== undefined && logFile !== '') real.appendFileSync(logFile, `${JSON.stringify({ loaded: process.pid, rules: rules.length })}\n`);
