/*
 * listDir(fd): one directory's names and the lstat of each, read relative to the directory's descriptor (issue 11);
 * below it, four calls for the walk around it (openDirAt, closeFd, lstatErrno, xattrSizeAt), and two for a copy's
 * install (renameNoReplace, renameExchange); copy_small.c adds a small file's copy in one call (copySmall, xxh64), sync_fs.c a flush of a file system (syncfs). Node has no fstatat(2): its scan
 * looked each name up by a path (`/proc/self/fd/N/name`, a bare name after chdir, or a checked absolute path,
 * src/scan/scan.ts), and built a BigIntStats object per entry, with 14
 * BigInts and 4 Dates, for the 8 numbers the scan keeps. Here each name is looked up with fstatat(2) on the
 * directory's own descriptor: one name resolved per call, no symlink on the way ever followed (the same guarantee
 * as the descriptor paths, engine/dir-anchors.ts), and the numbers are handed back in two typed arrays.
 *
 * Returns a negative errno when the directory cannot be listed, else [names, times, numbers]:
 * - names: every name but "." and "..", in byte order (as Node's readdir gives them), as one latin1 string, each name
 *   followed by a NUL byte (a name holds no NUL; latin1 keeps each byte as one char, as the scan's binary strings do);
 * - times: BigInt64Array, 4 per name: st_ino, st_dev, mtime and ctime in ns (signed, as Node's bigint stats have them);
 * - numbers: Float64Array, 8 per name: st_mode, st_nlink, st_uid, st_gid, st_size, st_blocks, the errno of
 *   the name's fstatat (0: the other fields hold its stat), and the size of its list of xattr names (as xattrSizeAt
 *   answers it) where listDir(fd, true) asked for it and the name is a file or a directory, else -1 (not read, or
 *   could not be: the scan then reads them its usual way). The scan asks where no index vouches for the entries (a
 *   first sync), so that the read is made on the listing reader's thread (list_ahead.c), not on the walk's.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif
#include <unistd.h>

#include "listing.h"
#include "napi_args.h"

#ifdef __linux__
#include <stdio.h>
#include <sys/xattr.h>
#ifndef SYS_listxattrat
/* listxattrat(2), Linux 6.13: one number on every architecture since the syscall tables were unified */
#define SYS_listxattrat 465
#endif
/* 0 until listxattrat is known to be missing (see xattr_list_size), then the /proc path is used */
static volatile int no_listxattrat = 0;
#endif

/*
 * The size of the list of xattr names of `name` in the directory `fd` holds (as xattrSizeAt answers it), or -1 with
 * errno set. `through_proc` takes the way of kernels without listxattrat(2) (tests). Any thread may call it.
 */
static long xattr_list_size(int fd, const char *name, size_t len, bool through_proc) {
#ifdef __linux__
  long got = -1;
  if (!no_listxattrat && !through_proc) {
    got = syscall(SYS_listxattrat, fd, name, AT_SYMLINK_NOFOLLOW, NULL, (size_t)0);
    /* ENOSYS: a kernel before 6.13; EPERM: a seccomp filter that does not know the call (listxattr has no EPERM) */
    if (got < 0 && (errno == ENOSYS || errno == EPERM)) no_listxattrat = 1;
  }
  if (no_listxattrat || through_proc) {
    char stack_path[512];
    size_t need = len + 32;
    char *path = need <= sizeof stack_path ? stack_path : malloc(need);
    if (path == NULL) {
      errno = ENOMEM;
      return -1;
    }
    snprintf(path, need, "/proc/self/fd/%d/%s", fd, name);
    got = llistxattr(path, NULL, 0);
    int saved = errno;
    if (path != stack_path) free(path);
    errno = saved;
  }
  return got;
#else
  (void)fd;
  (void)name;
  (void)len;
  (void)through_proc;
  errno = ENOSYS;
  return -1;
#endif
}

#ifdef __APPLE__
/* macOS names the timespec fields of struct stat differently (tsync does not use this listing there, see the README's
   "Platforms", but it builds, so that an install is the same everywhere) */
#define st_mtim st_mtimespec
#define st_ctim st_ctimespec
#endif


void tsync_listing_free(listing *l) {
  free(l->read);
  free(l->starts);
  free(l->names);
  free(l->times);
  free(l->numbers);
}

static int grow_read(listing *l, size_t more) {
  if (l->read_len + more <= l->read_cap) return 0;
  size_t cap = l->read_cap == 0 ? 4096 : l->read_cap;
  while (cap < l->read_len + more) cap *= 2;
  char *p = realloc(l->read, cap);
  if (p == NULL) return ENOMEM;
  l->read = p;
  l->read_cap = cap;
  return 0;
}

static int grow_starts(listing *l) {
  if (l->count < l->cap) return 0;
  size_t cap = l->cap == 0 ? 64 : l->cap * 2;
  size_t *p = realloc(l->starts, cap * sizeof(size_t));
  if (p == NULL) return ENOMEM;
  l->starts = p;
  l->cap = cap;
  return 0;
}

static int64_t ns_of(struct timespec ts) { return (int64_t)ts.tv_sec * 1000000000LL + (int64_t)ts.tv_nsec; }

/* qsort's comparison needs the names' buffer: set for the one sort a call makes (a call runs on one thread) */
static __thread const char *sorting;

static int by_bytes(const void *a, const void *b) {
  /* strcmp compares as unsigned char: byte order, as Node's readdir (libuv's scandir) sorts its names */
  return strcmp(sorting + *(const size_t *)a, sorting + *(const size_t *)b);
}

/* Adds one name read (not "." or ".."), as read_names and the Linux list_into find them; 0 or an errno. */
static int add_name(listing *l, const char *name) {
  if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) return 0;
  size_t len = strlen(name);
  int err;
  if ((err = grow_read(l, len + 1)) != 0 || (err = grow_starts(l)) != 0) return err;
  memcpy(l->read + l->read_len, name, len + 1);
  l->starts[l->count++] = l->read_len;
  l->read_len += len + 1;
  return 0;
}

#ifndef __linux__
/* Reads the names of the directory `dir` into `l`; 0 or an errno. */
static int read_names(DIR *dir, listing *l) {
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(dir);
    if (e == NULL) return errno;
    int err = add_name(l, e->d_name);
    if (err != 0) return err;
  }
}
#endif

/* Sorts the names read and lstats each, relative to `dirfd`, into the output columns; 0 or an errno. */
static int stat_names(int dirfd, listing *l) {
  sorting = l->read;
  if (l->count > 1) qsort(l->starts, l->count, sizeof(size_t), by_bytes);
  l->names = malloc(l->read_len > 0 ? l->read_len : 1);
  l->times = malloc((l->count > 0 ? l->count : 1) * TIMES_PER_NAME * sizeof(int64_t));
  l->numbers = malloc((l->count > 0 ? l->count : 1) * NUMBERS_PER_NAME * sizeof(double));
  if (l->names == NULL || l->times == NULL || l->numbers == NULL) return ENOMEM;
  for (size_t i = 0; i < l->count; i++) {
    const char *name = l->read + l->starts[i];
    size_t len = strlen(name);
    memcpy(l->names + l->names_len, name, len + 1);
    l->names_len += len + 1;
    int64_t *t = l->times + i * TIMES_PER_NAME;
    double *n = l->numbers + i * NUMBERS_PER_NAME;
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      t[0] = (int64_t)st.st_ino;
      t[1] = (int64_t)st.st_dev;
      t[2] = ns_of(st.st_mtim);
      t[3] = ns_of(st.st_ctim);
      n[0] = (double)st.st_mode;
      n[1] = (double)st.st_nlink;
      n[2] = (double)st.st_uid;
      n[3] = (double)st.st_gid;
      n[4] = (double)st.st_size;
      n[5] = (double)st.st_blocks;
      n[6] = 0;
      long xattrs = l->probe_xattrs && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) ? xattr_list_size(dirfd, name, len, false) : -1;
      n[7] = xattrs >= 0 ? (double)xattrs : -1;
    } else {
      memset(t, 0, TIMES_PER_NAME * sizeof(int64_t));
      memset(n, 0, NUMBERS_PER_NAME * sizeof(double));
      n[6] = (double)errno;
      n[7] = -1;
    }
  }
  return 0;
}

#ifdef __linux__
/* getdents64's record (the kernel's struct linux_dirent64, which glibc does not declare) */
struct dirent64_record {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

/*
 * Lists the directory `fd` holds into `l`; 0 or an errno. Read with getdents64(2) on `fd` itself, from offset 0: no
 * copy of the descriptor, no DIR stream (fdopendir costs a dup, two fcntl calls and a close per directory, about a
 * fifth of a 100k-file no-op's system calls besides the lstats, issue 11). The offset is left at the end: nothing
 * reads entries through the scan's descriptors but this, which starts at 0 each time. Not openat(fd, "."): that needs
 * search permission on the directory, and a directory that may be read but not searched must list its names (each
 * then fails its fstatat alone, as Node's readdir and lstat do).
 */
int tsync_list_into(int fd, listing *l) {
  if (lseek(fd, 0, SEEK_SET) < 0) return errno;
  /* glibc's readdir reads with a buffer of this size too */
  char buf[32768] __attribute__((aligned(8)));
  for (;;) {
    long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (got < 0) return errno;
    if (got == 0) break;
    for (long at = 0; at < got;) {
      const struct dirent64_record *e = (const struct dirent64_record *)(buf + at);
      at += e->d_reclen;
      int err = add_name(l, e->d_name);
      if (err != 0) return err;
    }
  }
  return stat_names(fd, l);
}
#else
/* Lists the directory `fd` holds into `l`; 0 or an errno. */
int tsync_list_into(int fd, listing *l) {
  /*
   * A copy of the descriptor, which closedir closes, read from offset 0. Not openat(fd, "."): that needs search
   * permission on the directory, and a directory that may be read but not searched must list its names (each then
   * fails its fstatat alone, as Node's readdir and lstat do). The copy shares the caller's offset, which is left at
   * the end: nothing reads entries through the scan's descriptors but this, which starts at 0 each time.
   */
  int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) return errno;
  if (lseek(own, 0, SEEK_SET) < 0) {
    int err = errno;
    close(own);
    return err;
  }
  DIR *dir = fdopendir(own);
  if (dir == NULL) {
    int err = errno;
    close(own);
    return err;
  }
  int err = read_names(dir, l);
  if (err == 0) err = stat_names(own, l);
  closedir(dir);
  return err;
}
#endif

static napi_value typed_copy(napi_env env, napi_typedarray_type type, const void *data, size_t count, size_t bytes_each) {
  void *dest = NULL;
  napi_value buffer, array;
  if (napi_create_arraybuffer(env, count * bytes_each, &dest, &buffer) != napi_ok) return NULL;
  if (count > 0) memcpy(dest, data, count * bytes_each);
  if (napi_create_typedarray(env, type, count, buffer, 0, &array) != napi_ok) return NULL;
  return array;
}

/* A call's first `count` arguments into argv, the first read as a descriptor; false after throwing `usage` as a TypeError. */
static bool fd_args(napi_env env, napi_callback_info info, size_t count, napi_value *argv, int32_t *fd, const char *usage) {
  if (tsync_args(env, info, argv, count, usage) != 0) return false;
  if (napi_get_value_int32(env, argv[0], fd) == napi_ok) return true;
  napi_throw_type_error(env, NULL, usage);
  return false;
}

/*
 * A binary string's bytes (one char per byte), NUL-terminated, into `small` when they fit, else into memory the caller
 * frees (when *text != small); their length in *len. 0, -ENOMEM, or -EINVAL when `value` is not a string.
 */
static int latin1_of(napi_env env, napi_value value, char *small, size_t small_size, char **text, size_t *len) {
  if (napi_get_value_string_latin1(env, value, NULL, 0, len) != napi_ok) return -EINVAL;
  *text = *len < small_size ? small : malloc(*len + 1);
  if (*text == NULL) return -ENOMEM;
  napi_get_value_string_latin1(env, value, *text, *len + 1, len);
  return 0;
}

static napi_value int_result(napi_env env, int value) {
  napi_value result;
  napi_create_int32(env, value, &result);
  return result;
}

/* name_of's answer when it has thrown a TypeError (the caller returns NULL) */
#define THROWN 1

/*
 * A name argument: one name in a directory (a binary string, one char per byte), as latin1_of gives it. 0; THROWN when
 * `value` is not a string (a TypeError saying `usage` was thrown); -EINVAL when it is empty or holds a NUL or a slash,
 * so that it names exactly one entry below the directory, never the directory itself nor anything deeper (nothing to
 * free then); or -ENOMEM.
 */
static int name_of(napi_env env, napi_value value, char *small, size_t small_size, char **name, size_t *len, const char *usage) {
  int err = latin1_of(env, value, small, small_size, name, len);
  if (err == -EINVAL) {
    napi_throw_type_error(env, NULL, usage);
    return THROWN;
  }
  if (err != 0) return err;
  if (*len == 0 || memchr(*name, 0, *len) != NULL || memchr(*name, '/', *len) != NULL) {
    if (*name != small) free(*name);
    return -EINVAL;
  }
  return 0;
}

napi_value tsync_listing_result(napi_env env, listing *l, int err) {
  if (err != 0) {
    tsync_listing_free(l);
    return int_result(env, -err);
  }
  napi_value result, names, times, numbers;
  if (napi_create_string_latin1(env, l->names == NULL ? "" : l->names, l->names_len, &names) != napi_ok ||
      (times = typed_copy(env, napi_bigint64_array, l->times, l->count * TIMES_PER_NAME, sizeof(int64_t))) == NULL ||
      (numbers = typed_copy(env, napi_float64_array, l->numbers, l->count * NUMBERS_PER_NAME, sizeof(double))) == NULL ||
      napi_create_array_with_length(env, 3, &result) != napi_ok) {
    tsync_listing_free(l);
    napi_throw_error(env, NULL, "listDir: out of memory");
    return NULL;
  }
  tsync_listing_free(l);
  napi_set_element(env, result, 0, names);
  napi_set_element(env, result, 1, times);
  napi_set_element(env, result, 2, numbers);
  return result;
}

static napi_value list_dir(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd = -1;
  if (!fd_args(env, info, 1, argv, &fd, "listDir(fd[, probeXattrs]): fd must be a number")) return NULL;
  listing l = {0};
  l.probe_xattrs = tsync_true_arg(env, info, 1);
  int err = tsync_list_into(fd, &l);
  return tsync_listing_result(env, &l, err);
}

/*
 * openDirAt(fd, name): the directory `name` (a binary string: one char per byte) in the directory `fd` holds, opened
 * read-only with openat(2), never through a symlink (O_NOFOLLOW, O_DIRECTORY); its descriptor, or a negative errno.
 * The same file a path through /proc/self/fd/N/name opens (engine/dir-anchors.ts), without the kernel resolving the
 * /proc part of that path for each directory a walk enters.
 */
static napi_value open_dir_at(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd = -1;
  if (!fd_args(env, info, 2, argv, &fd, "openDirAt(fd, name): fd must be a number")) return NULL;
  char small[256];
  char *name = NULL;
  size_t len = 0;
  int err = name_of(env, argv[1], small, sizeof small, &name, &len, "openDirAt(fd, name): name must be a string");
  if (err == THROWN) return NULL;
  if (err != 0) return int_result(env, err);
  int out = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (out < 0) out = -errno;
  if (name != small) free(name);
  return int_result(env, out);
}

/*
 * closeFd(fd): closes a descriptor openDirAt opened; 0 or a negative errno. Not Node's closeSync: a worker thread warns
 * when that closes a descriptor it did not see opened (and would close on exit those it did).
 */
static napi_value close_fd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd = -1;
  if (!fd_args(env, info, 1, argv, &fd, "closeFd(fd): fd must be a number")) return NULL;
  return int_result(env, close(fd) == 0 ? 0 : -errno);
}

/*
 * The directory descriptor and the name to hand an *at(2) call for `path`. engine/dir-anchors.ts names an entry
 * `/proc/self/fd/N/name` where it cannot enter the directory first (a worker thread may not chdir: fs/work-dir.ts),
 * and each call by such a path makes the kernel walk /proc, resolve procfs's magic links and check the process
 * again before it looks the name up; openat(N, "name") looks the same name up in the same directory at once (the
 * magic link names the very directory descriptor N holds, and this process's descriptors are every thread's). The
 * prefix must be exactly that, N plain decimal (procfs refuses leading zeros: such a path is left to the kernel,
 * which answers as before), and something must follow it: slashes after N are skipped, so that the name is never
 * taken for an absolute path. Any other path comes back as it is, with AT_FDCWD.
 */
int tsync_at(const char *path, const char **name) {
  static const char prefix[] = "/proc/self/fd/";
  *name = path;
  if (strncmp(path, prefix, sizeof prefix - 1) != 0) return AT_FDCWD;
  const char *p = path + sizeof prefix - 1;
  if (*p < '0' || *p > '9' || (*p == '0' && p[1] != '/')) return AT_FDCWD;
  int fd = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    int digit = *p - '0';
    /* checked before it is computed: no overflow where long is 32 bits */
    if (fd > (INT32_MAX - digit) / 10) return AT_FDCWD;
    fd = fd * 10 + digit;
  }
  if (*p != '/') return AT_FDCWD;
  while (*p == '/') p++;
  if (*p == 0) return AT_FDCWD;
  *name = p;
  return fd;
}

/* lstat(2) of `path`, by its directory's descriptor where it names one (tsync_at). */
static int lstat_at(const char *path, struct stat *st) {
  const char *name;
  int dir = tsync_at(path, &name);
  return fstatat(dir, name, st, AT_SYMLINK_NOFOLLOW);
}

/*
 * lstatErrno(path): 0 when lstat(2) of `path` (a binary string: one char per byte) succeeds, else the negative errno.
 * For the scan's ignore-file probes (ignore/path-filter.ts), which mostly find nothing: Node's lstatSync spends about
 * 10 us on each of those, most of it not in the kernel, and a 100k-file tree has a couple of thousand per side.
 */
static napi_value lstat_errno(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char small[1024];
  char *path = NULL;
  size_t len = 0;
  int err = napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ? -EINVAL : latin1_of(env, argv[0], small, sizeof small, &path, &len);
  if (err == -EINVAL) {
    napi_throw_type_error(env, NULL, "lstatErrno(path): path must be a string");
    return NULL;
  }
  if (err != 0) return int_result(env, err);
  struct stat st;
  int out = memchr(path, 0, len) != NULL ? -EINVAL : lstat_at(path, &st) == 0 ? 0 : -errno;
  if (path != small) free(path);
  return int_result(env, out);
}

/*
 * A path argument's bytes, NUL-terminated: a Uint8Array (a Buffer) as it is, a string as a binary string (one char per
 * byte), into `small` when they fit, else into memory the caller frees (when *text != small). 0, -ENOMEM, or -EINVAL
 * when `value` is neither or holds a NUL byte (the kernel would read a shorter path than the one asked for).
 */
static int path_of(napi_env env, napi_value value, char *small, size_t small_size, char **text, size_t *len) {
  bool is_array = false;
  if (napi_is_typedarray(env, value, &is_array) == napi_ok && is_array) {
    napi_typedarray_type type;
    void *data = NULL;
    if (napi_get_typedarray_info(env, value, &type, len, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) return -EINVAL;
    *text = *len < small_size ? small : malloc(*len + 1);
    if (*text == NULL) return -ENOMEM;
    if (*len > 0) memcpy(*text, data, *len);
    (*text)[*len] = 0;
  } else {
    int err = latin1_of(env, value, small, small_size, text, len);
    if (err != 0) return err;
  }
  if (memchr(*text, 0, *len) != NULL) {
    if (*text != small) free(*text);
    return -EINVAL;
  }
  return 0;
}

/* renameat2(2) of the call's two path arguments with `flags`: 0 or a negative errno; NULL after throwing `usage`. */
static napi_value rename_with(napi_env env, napi_callback_info info, unsigned flags, const char *usage) {
  napi_value argv[2];
  if (tsync_args(env, info, argv, 2, usage) != 0) return NULL;
  char small_from[1024], small_to[1024];
  char *from = small_from, *to = small_to;
  size_t from_len = 0, to_len = 0;
  /* a path that is neither a Buffer nor a string, or holds a NUL, is -EINVAL, as from the kernel */
  int err = path_of(env, argv[0], small_from, sizeof small_from, &from, &from_len);
  if (err != 0) return int_result(env, err);
  err = path_of(env, argv[1], small_to, sizeof small_to, &to, &to_len);
  if (err != 0) {
    if (from != small_from) free(from);
    return int_result(env, err);
  }
#if defined(__linux__) && defined(SYS_renameat2)
  const char *from_name, *to_name;
  int from_dir = tsync_at(from, &from_name), to_dir = tsync_at(to, &to_name);
  int out = syscall(SYS_renameat2, from_dir, from_name, to_dir, to_name, flags) == 0 ? 0 : -errno;
#else
  (void)flags;
  int out = -ENOSYS;
#endif
  if (from != small_from) free(from);
  if (to != small_to) free(to);
  return int_result(env, out);
}

/*
 * renameNoReplace(from, to): renames `from` to `to` unless `to` exists (renameat2(2) with RENAME_NOREPLACE): 0, or a
 * negative errno (-EEXIST: something stands at `to`, left as it was). Paths are Buffers or binary strings, relative to
 * the working directory when not absolute. For a copy's new file (engine/copy-file.ts placeNew): one atomic call where
 * link(2) and unlink(2) took two, with a crash between them leaving the file under two names. A file system or kernel
 * without the flag answers -EINVAL, -ENOSYS or -EOPNOTSUPP (the caller then goes the link(2) way); so does every
 * system but Linux here.
 */
static napi_value rename_no_replace(napi_env env, napi_callback_info info) {
  return rename_with(env, info, 1 /* RENAME_NOREPLACE */, "renameNoReplace(from, to): two paths");
}

/*
 * renameExchange(a, b): swaps the names `a` and `b` in one atomic call (renameat2(2) with RENAME_EXCHANGE): 0, or a
 * negative errno (-ENOENT: one of them is missing, nothing changed). Paths as renameNoReplace takes them. For a copy
 * that replaces a file (engine/copy-file.ts exchangeIntoPlace): rename(2) over the target would destroy whatever
 * stood there at that instant, which may be a file put there after the last check; swapped, it stays, under the
 * temp name, where the caller can look at it before anything is removed. A file system or kernel without the flag
 * answers -EINVAL, -ENOSYS or -EOPNOTSUPP (the caller then renames as before); so does every system but Linux here.
 */
static napi_value rename_exchange(napi_env env, napi_callback_info info) {
  return rename_with(env, info, 2 /* RENAME_EXCHANGE */, "renameExchange(a, b): two paths");
}


/*
 * xattrSizeAt(fd, name[, throughProc]): the size in bytes of the list of extended attribute names of the entry `name`
 * (a binary string: one char per byte, one name, no slash) in the directory `fd` holds, never through a symlink: 0 when
 * it has none, which is the usual case; or a negative errno. For the scan (scan/read-meta.ts): Node has no listxattr, and the
 * library tsync uses for xattrs (@napi-rs/xattr) takes a path, which is `/proc/self/fd/N/name` for an entry the walk
 * reached through a descriptor, resolved by the kernel for each entry, and lists twice (the size, then the names);
 * reading an entry without any was most of what xattrs cost a first copy. listxattrat(2) (Linux 6.13) looks the name
 * up in the descriptor; an older kernel gets the same answer from llistxattr(2) on the /proc path, built here. Every
 * system but Linux answers -ENOSYS (the scan then asks the library, as before).
 */
static napi_value xattr_size_at(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "xattrSizeAt(fd, name): fd must be a number");
    return NULL;
  }
  /* a third argument true takes the way of kernels without listxattrat (for the tests: this kernel may have it) */
  bool through_proc = false;
  if (argc >= 3) napi_get_value_bool(env, argv[2], &through_proc);
  char small[256];
  char *name = NULL;
  size_t len = 0;
  int err = name_of(env, argv[1], small, sizeof small, &name, &len, "xattrSizeAt(fd, name): name must be a string");
  if (err == THROWN) return NULL;
  if (err != 0) return int_result(env, err);
  long got = xattr_list_size(fd, name, len, through_proc);
  int out = got >= 0 ? (got > INT32_MAX ? INT32_MAX : (int)got) : -errno;
  if (name != small) free(name);
  return int_result(env, out);
}

int tsync_path_of(napi_env env, napi_value value, char *small, size_t small_size, char **text, size_t *len) {
  return path_of(env, value, small, small_size, text, len);
}

napi_value tsync_int_result(napi_env env, int value) { return int_result(env, value); }

int tsync_true_arg(napi_env env, napi_callback_info info, size_t index) {
  napi_value argv[4];
  size_t argc = 4;
  bool value = false;
  if (index >= 4 || napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc <= index) return 0;
  return napi_get_value_bool(env, argv[index], &value) == napi_ok && value ? 1 : 0;
}

int tsync_args(napi_env env, napi_callback_info info, napi_value *argv, size_t want, const char *usage) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= want) return 0;
  napi_throw_type_error(env, NULL, usage);
  return -1;
}

NAPI_MODULE_INIT() {
  napi_value fn, open_fn, close_fn, lstat_fn, rename_fn, exchange_fn, xattr_fn, copy_fn, batch_fn, hash_fn, syncfs_fn, fsync_fds_fn, dirs_ahead_fn, spread_fn;
  if (napi_create_function(env, "listDir", NAPI_AUTO_LENGTH, list_dir, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "listDir", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "openDirAt", NAPI_AUTO_LENGTH, open_dir_at, NULL, &open_fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "openDirAt", open_fn) != napi_ok) return NULL;
  if (napi_create_function(env, "closeFd", NAPI_AUTO_LENGTH, close_fd, NULL, &close_fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "closeFd", close_fn) != napi_ok) return NULL;
  if (napi_create_function(env, "lstatErrno", NAPI_AUTO_LENGTH, lstat_errno, NULL, &lstat_fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "lstatErrno", lstat_fn) != napi_ok) return NULL;
  if (napi_create_function(env, "renameNoReplace", NAPI_AUTO_LENGTH, rename_no_replace, NULL, &rename_fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "renameNoReplace", rename_fn) != napi_ok) return NULL;
  if (napi_create_function(env, "renameExchange", NAPI_AUTO_LENGTH, rename_exchange, NULL, &exchange_fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "renameExchange", exchange_fn) != napi_ok) return NULL;
  if (napi_create_function(env, "xattrSizeAt", NAPI_AUTO_LENGTH, xattr_size_at, NULL, &xattr_fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "xattrSizeAt", xattr_fn) != napi_ok) return NULL;
  if (napi_create_function(env, "copySmall", NAPI_AUTO_LENGTH, tsync_copy_small, NULL, &copy_fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "copySmall", copy_fn) != napi_ok) return NULL;
  if (napi_create_function(env, "copySmallBatch", NAPI_AUTO_LENGTH, tsync_copy_small_batch, NULL, &batch_fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "copySmallBatch", batch_fn) != napi_ok) return NULL;
  if (napi_create_function(env, "xxh64", NAPI_AUTO_LENGTH, tsync_xxh64_of, NULL, &hash_fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "xxh64", hash_fn) != napi_ok) return NULL;
  if (napi_create_function(env, "syncfs", NAPI_AUTO_LENGTH, tsync_syncfs, NULL, &syncfs_fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "syncfs", syncfs_fn) != napi_ok) return NULL;
  if (napi_create_function(env, "fsyncFds", NAPI_AUTO_LENGTH, tsync_fsync_fds, NULL, &fsync_fds_fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "fsyncFds", fsync_fds_fn) != napi_ok) return NULL;
  if (napi_create_function(env, "makeDirsAhead", NAPI_AUTO_LENGTH, tsync_make_dirs_ahead, NULL, &dirs_ahead_fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "makeDirsAhead", dirs_ahead_fn) != napi_ok) return NULL;
  if (napi_create_function(env, "spreadSubdirs", NAPI_AUTO_LENGTH, tsync_spread_subdirs, NULL, &spread_fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "spreadSubdirs", spread_fn) != napi_ok) return NULL;
  if (tsync_define_list_ahead(env, exports) != 0) return NULL;
  return exports;
}
