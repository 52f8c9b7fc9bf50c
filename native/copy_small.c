/*
 * copySmall(sourcePath, tempPath, scratch, out, racyWindowNs): the reading half of a small file's copy in one call
 * (engine/native-copy.ts, issue 11). A first copy of 10,000 small files spent about 65 µs of JavaScript per file
 * around its dozen system calls (two BigInt fstats, the calls' own wrapping, the hash's trip into WebAssembly memory);
 * here the same calls, in the same order and under the same checks as engine/copy-file.ts copySmallFile, cost their
 * kernel time and little more:
 *
 *   open the source (O_NOFOLLOW), fstat it, read it whole into `scratch`, XXH64 it, create the temp file (O_EXCL,
 *   0600), write it, fstat the source again (changed meanwhile: refused), and when its ctime is too recent to prove
 *   anything (the racy window, core/stat-cache.ts) read it again, which must hash the same; then set the temp file's
 *   atime and mtime to the source's (to the microsecond, as Node's utimes sets them in the JavaScript copy).
 *
 * Returns the temp file's descriptor, open for writing, for the caller to finish (owner, xattrs, mode, the rename), or
 * a negative number with the stage that stopped it in out[0] (see the enum below), the errno being the negated return
 * where there is one. Whatever stops it after the temp file was made removes that file again. What the source's
 * fstat gave is in `out` from the moment it was taken: the caller compares its inode, size and times with the scan's
 * (copy-file.ts sameSource) before it uses the copy, and drops the temp file when they differ (stale, as before).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "napi_args.h"
#include "xxh64.h"

#ifdef __APPLE__
#define st_mtim st_mtimespec
#define st_ctim st_ctimespec
#define st_atim st_atimespec
#endif

/* out[0] on failure: where the copy stopped */
enum { STAGE_NONE = 0, STAGE_OPEN_SOURCE = 1, STAGE_NOT_A_FILE = 2, STAGE_NOT_HERE = 3, STAGE_CHANGED = 4, STAGE_CREATE_TEMP = 5, STAGE_IO = 6 };
/* out[1..]: the source's fstat before reading, the hash, when the fstat was taken (ns, to the millisecond) */
enum { OUT_STAGE, OUT_INO, OUT_SIZE, OUT_MTIME, OUT_CTIME, OUT_ATIME, OUT_MODE, OUT_NLINK, OUT_BLOCKS, OUT_DEV, OUT_HASH, OUT_OBSERVED, OUT_BYTES, OUT_COUNT };

static int64_t ns_of_time(struct timespec ts) { return (int64_t)ts.tv_sec * 1000000000LL + (int64_t)ts.tv_nsec; }

/* As core/stat-cache.ts's nowNs: the wall clock to the millisecond, so that a racy test here is the one it makes. */
static int64_t now_ms_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ((int64_t)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000LL) * 1000000LL;
}

/* copy-file.ts changedSince: inode, size, mtime or ctime moved */
static bool changed_since(const struct stat *now, const struct stat *before) {
  return now->st_ino != before->st_ino || now->st_size != before->st_size || ns_of_time(now->st_mtim) != ns_of_time(before->st_mtim) ||
         ns_of_time(now->st_ctim) != ns_of_time(before->st_ctim);
}

/* Reads from offset 0 until `want` bytes or the end; stops early at `cap`. 0 or -errno; the bytes read in *got. */
static int read_from_start(int fd, unsigned char *buf, size_t cap, size_t want, size_t *got) {
  size_t n = 0;
  while (n < want && n < cap) {
    ssize_t r = pread(fd, buf + n, cap - n, (off_t)n);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  *got = n;
  return 0;
}

static int write_all(int fd, const unsigned char *buf, size_t len) {
  size_t n = 0;
  while (n < len) {
    ssize_t r = pwrite(fd, buf + n, len - n, (off_t)n);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    n += (size_t)r;
  }
  return 0;
}

/* A time in ns cut down to its microsecond (toward the past, also before 1970), as copy-file.ts secondsOf sets it. */
static struct timespec to_microsecond(struct timespec ts) {
  int64_t ns = ns_of_time(ts);
  int64_t us = ns >= 0 ? ns / 1000 : -((-ns + 999) / 1000);
  int64_t sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
  struct timespec out = {.tv_sec = (time_t)sec, .tv_nsec = (long)((us - sec * 1000000) * 1000)};
  return out;
}

/*
 * The copy itself (see the top of this file) of `source_name` in `source_dir` to a new temp file `temp_name` in
 * `temp_dir`: the temp file's descriptor, or a negative errno with the stage in out[OUT_STAGE]. `out` must be zeroed.
 */
static int copy_to_temp(int source_dir, const char *source_name, int temp_dir, const char *temp_name, unsigned char *buf, size_t cap, double window_ns, int64_t *out) {
  int result = 0;
  int stage = STAGE_NONE;
  int tmp = -1;
  int err = 0;
  int src = openat(source_dir, source_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (src < 0) {
    stage = STAGE_OPEN_SOURCE;
    result = -errno;
    goto done;
  }
  struct stat before, after;
  if (fstat(src, &before) != 0) {
    stage = STAGE_IO;
    result = -errno;
    goto done;
  }
  int64_t observed = now_ms_ns();
  out[OUT_INO] = (int64_t)before.st_ino;
  out[OUT_SIZE] = (int64_t)before.st_size;
  out[OUT_MTIME] = ns_of_time(before.st_mtim);
  out[OUT_CTIME] = ns_of_time(before.st_ctim);
  out[OUT_ATIME] = ns_of_time(before.st_atim);
  out[OUT_MODE] = (int64_t)before.st_mode;
  out[OUT_NLINK] = (int64_t)before.st_nlink;
  out[OUT_BLOCKS] = (int64_t)before.st_blocks;
  out[OUT_DEV] = (int64_t)before.st_dev;
  out[OUT_OBSERVED] = observed;
  if (!S_ISREG(before.st_mode)) {
    stage = STAGE_NOT_A_FILE;
    result = -EINVAL;
    goto done;
  }
  /* holes are written as holes by the JavaScript copy (sparse-copy.ts), and a file that no longer fits goes its way */
  if ((uint64_t)before.st_size >= (uint64_t)cap || (int64_t)before.st_blocks * 512 < (int64_t)before.st_size) {
    stage = STAGE_NOT_HERE;
    result = -EAGAIN;
    goto done;
  }
  size_t n = 0;
  err = read_from_start(src, buf, cap, (size_t)before.st_size, &n);
  if (err != 0) {
    stage = STAGE_IO;
    result = err;
    goto done;
  }
  if (n == cap) {
    stage = STAGE_CHANGED; /* grew past the scratch buffer while it was read */
    result = -EAGAIN;
    goto done;
  }
  uint64_t hash = tsync_xxh64(buf, n, 0);
  tmp = openat(temp_dir, temp_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (tmp < 0) {
    stage = STAGE_CREATE_TEMP;
    result = -errno;
    goto done;
  }
  err = write_all(tmp, buf, n);
  if (err != 0) {
    stage = STAGE_IO;
    result = err;
    goto done;
  }
  if (fstat(src, &after) != 0) {
    stage = STAGE_IO;
    result = -errno;
    goto done;
  }
  if (changed_since(&after, &before)) {
    stage = STAGE_CHANGED;
    result = -EAGAIN;
    goto done;
  }
  /* core/stat-cache.ts isRacy: a ctime this recent proves nothing on a coarse clock, so the bytes must read the same again */
  if (window_ns > 0 && out[OUT_CTIME] >= observed - (int64_t)window_ns) {
    size_t m = 0;
    err = read_from_start(src, buf, cap, cap, &m);
    if (err != 0) {
      stage = STAGE_IO;
      result = err;
      goto done;
    }
    if (m != n || tsync_xxh64(buf, m, 0) != hash || fstat(src, &after) != 0 || changed_since(&after, &before)) {
      stage = STAGE_CHANGED;
      result = -EAGAIN;
      goto done;
    }
  }
  struct timespec times[2] = {to_microsecond(before.st_atim), to_microsecond(before.st_mtim)};
  if (futimens(tmp, times) != 0) {
    stage = STAGE_IO;
    result = -errno;
    goto done;
  }
  out[OUT_HASH] = (int64_t)hash;
  out[OUT_BYTES] = (int64_t)n;
  result = tmp;
  tmp = -1; /* the caller's now */
done:
  if (tmp >= 0) {
    close(tmp);
    unlinkat(temp_dir, temp_name, 0); /* made by this call with O_EXCL a moment ago: ours */
  }
  if (src >= 0) close(src);
  out[OUT_STAGE] = stage;
  return result;
}

static napi_value copy_small(napi_env env, napi_value *argv) {
  char small_source[1024], small_temp[1024];
  char *source = small_source, *temp = small_temp;
  size_t source_len = 0, temp_len = 0;
  unsigned char *buf = NULL;
  size_t cap = 0;
  int64_t *out = NULL;
  size_t out_len = 0;
  double window_ns = 0;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, argv[2], &type, &cap, (void **)&buf, NULL, NULL) != napi_ok || type != napi_uint8_array ||
      napi_get_typedarray_info(env, argv[3], &type, &out_len, (void **)&out, NULL, NULL) != napi_ok || type != napi_bigint64_array || out_len < OUT_COUNT ||
      napi_get_value_double(env, argv[4], &window_ns) != napi_ok) {
    napi_throw_type_error(env, NULL, "copySmall(source, temp, scratch: Uint8Array, out: BigInt64Array(13), racyWindowNs)");
    return NULL;
  }
  for (int i = 0; i < OUT_COUNT; i++) out[i] = 0;
  int err = tsync_path_of(env, argv[0], small_source, sizeof small_source, &source, &source_len);
  if (err != 0) {
    out[OUT_STAGE] = STAGE_OPEN_SOURCE;
    return tsync_int_result(env, err);
  }
  err = tsync_path_of(env, argv[1], small_temp, sizeof small_temp, &temp, &temp_len);
  if (err != 0) {
    if (source != small_source) free(source);
    out[OUT_STAGE] = STAGE_CREATE_TEMP;
    return tsync_int_result(env, err);
  }
  /* each by its directory's descriptor where the path names one (tsync_at): the copy worker's paths do */
  const char *source_name, *temp_name;
  int source_dir = tsync_at(source, &source_name), temp_dir = tsync_at(temp, &temp_name);
  int result = copy_to_temp(source_dir, source_name, temp_dir, temp_name, buf, cap, window_ns, out);
  if (source != small_source) free(source);
  if (temp != small_temp) free(temp);
  return tsync_int_result(env, result);
}

napi_value tsync_copy_small(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (tsync_args(env, info, argv, 5, "copySmall(source, temp, scratch, out, racyWindowNs): five arguments") != 0) return NULL;
  return copy_small(env, argv);
}

/*
 * copySmallBatch(sourceDir, targetDir, names, tempPrefix, scratch, want, out, racyWindowNs): copies and installs many
 * new small files of one directory in one call (engine/small-copy-batch.ts, issue 11). Name i of the directory the
 * descriptor sourceDir holds becomes name i of the directory targetDir holds, where nothing may stand: each as
 * copySmall copies it to a temp file (tempPrefix and i in hex), then what engine/copy-file.ts installCopied does
 * with it, in the same order: the source must still be the file the scan saw (want's identity; copy-file.ts
 * sameSource), fchown where asked, fchmod to the source's mode, renameat2(2) with RENAME_NOREPLACE, fstat of what
 * was installed, and a chown again where its owner is not the one wanted (copy-file.ts ownedAsRecorded).
 *
 * Each file ends installed (out[B_RESULT] 0, with what stands there) or with nothing made (its temp file removed)
 * and the stage and errno that stopped it: the caller then copies it again the usual way, which meets the same
 * condition and reports it as it always has. Only a check after the rename can fail with the file in place
 * (STAGE_INSTALLED_UNCHECKED). Returns how many files it went through (all of them).
 */
enum { W_INO, W_SIZE, W_MTIME, W_CTIME, W_ANY_CTIME, W_CHOWN, W_UID, W_GID, W_COUNT };
enum { STAGE_STALE = 7, STAGE_OWNER = 8, STAGE_PLACE = 9, STAGE_INSTALLED_UNCHECKED = 10 };
enum { B_RESULT = OUT_COUNT, B_T_INO, B_T_CTIME, B_T_MTIME, B_T_SIZE, B_T_NLINK, B_T_BLOCKS, B_T_MODE, B_T_DEV, B_T_UID, B_T_GID, B_T_OBSERVED, B_COUNT };

static void put_installed(int64_t *o, const struct stat *st, int64_t observed) {
  o[B_T_INO] = (int64_t)st->st_ino;
  o[B_T_CTIME] = ns_of_time(st->st_ctim);
  o[B_T_MTIME] = ns_of_time(st->st_mtim);
  o[B_T_SIZE] = (int64_t)st->st_size;
  o[B_T_NLINK] = (int64_t)st->st_nlink;
  o[B_T_BLOCKS] = (int64_t)st->st_blocks;
  o[B_T_MODE] = (int64_t)st->st_mode;
  o[B_T_DEV] = (int64_t)st->st_dev;
  o[B_T_UID] = (int64_t)st->st_uid;
  o[B_T_GID] = (int64_t)st->st_gid;
  o[B_T_OBSERVED] = observed;
}

/* One file of the batch (see above): 0 installed, else a negative errno with out[OUT_STAGE] saying where it stopped. */
static int install_one(int source_dir, int target_dir, const char *name, const char *temp_name, unsigned char *buf, size_t cap, double window_ns, const int64_t *w, int64_t *o, const char *unchecked) {
  int tmp = copy_to_temp(source_dir, name, target_dir, temp_name, buf, cap, window_ns, o);
  if (tmp < 0) return tmp;
  int stage = STAGE_NONE;
  int result = 0;
  /* copy-file.ts sameSource: the ctime counts only where the scan saw one name */
  if (o[OUT_INO] != w[W_INO] || o[OUT_SIZE] != w[W_SIZE] || o[OUT_MTIME] != w[W_MTIME] || (w[W_ANY_CTIME] == 0 && o[OUT_CTIME] != w[W_CTIME])) {
    stage = STAGE_STALE;
    result = -ESTALE;
    goto discard;
  }
  uid_t uid = w[W_UID] < 0 ? (uid_t)-1 : (uid_t)w[W_UID];
  gid_t gid = w[W_GID] < 0 ? (gid_t)-1 : (gid_t)w[W_GID];
  if (w[W_CHOWN] != 0 && fchown(tmp, uid, gid) != 0) {
    stage = STAGE_OWNER;
    result = -errno;
    goto discard;
  }
  mode_t mode = (mode_t)(o[OUT_MODE] & 07777);
  if (fchmod(tmp, mode) != 0) {
    stage = STAGE_IO;
    result = -errno;
    goto discard;
  }
#if defined(__linux__) && defined(SYS_renameat2)
  if (syscall(SYS_renameat2, target_dir, temp_name, target_dir, name, 1 /* RENAME_NOREPLACE */) != 0) {
    stage = STAGE_PLACE;
    result = -errno;
    goto discard;
  }
#else
  stage = STAGE_PLACE;
  result = -ENOSYS;
  goto discard;
#endif
  /* installed: from here on nothing is undone, and a failure only means what stands there is not known */
  struct stat st;
  int64_t observed = now_ms_ns();
  if (unchecked != NULL && strcmp(unchecked, name) == 0) {
    result = -EIO; /* the test hook (tsync_copy_small_batch): as an fstat that failed */
  } else if (fstat(tmp, &st) != 0) {
    result = -errno;
  } else if ((w[W_UID] >= 0 && (int64_t)st.st_uid != w[W_UID]) || (w[W_GID] >= 0 && (int64_t)st.st_gid != w[W_GID])) {
    /* the owner guessed from the directory's first file did not hold (ownedAsRecorded): put right on the same inode */
    if (fchown(tmp, uid, gid) != 0 || fchmod(tmp, mode) != 0 || fstat(tmp, &st) != 0) result = -errno;
  }
  close(tmp);
  if (result != 0) {
    o[OUT_STAGE] = STAGE_INSTALLED_UNCHECKED;
    return result;
  }
  put_installed(o, &st, observed);
  return 0;
discard:
  close(tmp);
  unlinkat(target_dir, temp_name, 0); /* made by copy_to_temp with O_EXCL a moment ago: ours */
  o[OUT_STAGE] = stage;
  return result;
}

/* Name i of `names` (latin1, as RelPaths hold their bytes) into `name`: 0, or -EINVAL for what cannot be a name. */
static int name_at(napi_env env, napi_value names, uint32_t i, char *name, size_t size) {
  napi_value v;
  size_t len = 0;
  if (napi_get_element(env, names, i, &v) != napi_ok || napi_get_value_string_latin1(env, v, name, size, &len) != napi_ok) return -EINVAL;
  if (len == 0 || len >= size - 1 || strlen(name) != len || strchr(name, '/') != NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return -EINVAL;
  return 0;
}

napi_value tsync_copy_small_batch(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  const char *usage = "copySmallBatch(sourceDir, targetDir, names: string[], tempPrefix, scratch: Uint8Array, want: BigInt64Array, out: BigInt64Array, racyWindowNs)";
  if (tsync_args(env, info, argv, 8, usage) != 0) return NULL;
  int32_t source_dir = -1, target_dir = -1;
  uint32_t count = 0;
  bool is_array = false;
  char prefix[200];
  size_t prefix_len = 0;
  unsigned char *buf = NULL;
  size_t cap = 0, want_len = 0, out_len = 0;
  int64_t *want = NULL, *out = NULL;
  double window_ns = 0;
  napi_typedarray_type type;
  if (napi_get_value_int32(env, argv[0], &source_dir) != napi_ok || napi_get_value_int32(env, argv[1], &target_dir) != napi_ok || source_dir < 0 || target_dir < 0 ||
      napi_is_array(env, argv[2], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[2], &count) != napi_ok ||
      napi_get_value_string_latin1(env, argv[3], prefix, sizeof prefix, &prefix_len) != napi_ok || prefix_len == 0 || prefix_len >= sizeof prefix - 1 ||
      strchr(prefix, '/') != NULL || napi_get_typedarray_info(env, argv[4], &type, &cap, (void **)&buf, NULL, NULL) != napi_ok || type != napi_uint8_array ||
      napi_get_typedarray_info(env, argv[5], &type, &want_len, (void **)&want, NULL, NULL) != napi_ok || type != napi_bigint64_array ||
      want_len < (size_t)count * W_COUNT || napi_get_typedarray_info(env, argv[6], &type, &out_len, (void **)&out, NULL, NULL) != napi_ok ||
      type != napi_bigint64_array || out_len < (size_t)count * B_COUNT || napi_get_value_double(env, argv[7], &window_ns) != napi_ok) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  /*
   * TEST HOOK: TSYNC_TEST_BATCH_UNCHECKED=NAME makes the check after the rename of a file of that name fail as an
   * fstat of its open descriptor that failed would (EIO), with the file in place: the one failure of a batch that
   * leaves something installed (STAGE_INSTALLED_UNCHECKED), which no real file system can be made to produce on
   * purpose. The tests prove with it what a run reports then and that the next run converges
   * (test/e2e/small-copy-batch.test.ts). Read once a call: the environment is not written while copies run.
   */
  const char *unchecked = getenv("TSYNC_TEST_BATCH_UNCHECKED");
  for (uint32_t i = 0; i < count; i++) {
    int64_t *o = out + (size_t)i * B_COUNT;
    for (int k = 0; k < B_COUNT; k++) o[k] = 0;
    char name[NAME_MAX + 2];
    char temp_name[sizeof prefix + 16];
    int r = name_at(env, argv[2], i, name, sizeof name);
    if (r == 0 && snprintf(temp_name, sizeof temp_name, "%s%x", prefix, (unsigned)i) >= (int)sizeof temp_name) r = -ENAMETOOLONG;
    if (r != 0) {
      o[OUT_STAGE] = STAGE_OPEN_SOURCE;
      o[B_RESULT] = r;
      continue;
    }
    o[B_RESULT] = install_one(source_dir, target_dir, name, temp_name, buf, cap, window_ns, want + (size_t)i * W_COUNT, o, unchecked);
  }
  return tsync_int_result(env, (int)count);
}

/* xxh64(bytes): XXH64 (seed 0) of a Uint8Array, as a BigInt: for the tests that hold it to the WebAssembly one. */
napi_value tsync_xxh64_of(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_typedarray_type type;
  void *data = NULL;
  size_t len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_typedarray_info(env, argv[0], &type, &len, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "xxh64(bytes: Uint8Array)");
    return NULL;
  }
  napi_value result;
  if (napi_create_bigint_uint64(env, tsync_xxh64(data, len, 0), &result) != napi_ok) return NULL;
  return result;
}
