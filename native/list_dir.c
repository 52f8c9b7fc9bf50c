/*
 * listDir(fd): one directory's names and the lstat of each, read relative to the directory's descriptor
 * (issue 11). Node has no fstatat(2): its scan looked each name up by a path (`/proc/self/fd/N/name`, a bare name
 * after chdir, or a checked absolute path, src/scan/scan.ts), and built a BigIntStats object per entry, with 14
 * BigInts and 4 Dates, for the 8 numbers the scan keeps. Here each name is looked up with fstatat(2) on the
 * directory's own descriptor: one name resolved per call, no symlink on the way ever followed (the same guarantee
 * as the descriptor paths, engine/dir-anchors.ts), and the numbers are handed back in two typed arrays.
 *
 * Returns a negative errno when the directory cannot be listed, else [names, times, numbers]:
 * - names: every name but "." and "..", in byte order (as Node's readdir gives them), as one latin1 string, each name
 *   followed by a NUL byte (a name holds no NUL; latin1 keeps each byte as one char, as the scan's binary strings do);
 * - times: BigInt64Array, 4 per name: st_ino, st_dev, mtime and ctime in ns (signed, as Node's bigint stats have them);
 * - numbers: Float64Array, 7 per name: st_mode, st_nlink, st_uid, st_gid, st_size, st_blocks, and the errno of
 *   the name's fstatat (0: the other fields hold its stat).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __APPLE__
/* macOS names the timespec fields of struct stat differently (tsync does not use this listing there, see the README's
   "Platforms", but it builds, so that an install is the same everywhere) */
#define st_mtim st_mtimespec
#define st_ctim st_ctimespec
#endif

#define TIMES_PER_NAME 4
#define NUMBERS_PER_NAME 7

typedef struct {
  /* the names as read, each followed by NUL, and where each starts */
  char *read;
  size_t read_len, read_cap;
  size_t *starts;
  /* the names in byte order (the output), and their lstats in that order */
  char *names;
  size_t names_len;
  int64_t *times;
  double *numbers;
  size_t count, cap;
} listing;

static void listing_free(listing *l) {
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

/* Reads the names of the directory `dir` into `l`; 0 or an errno. */
static int read_names(DIR *dir, listing *l) {
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(dir);
    if (e == NULL) return errno;
    const char *name = e->d_name;
    if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
    size_t len = strlen(name);
    int err;
    if ((err = grow_read(l, len + 1)) != 0 || (err = grow_starts(l)) != 0) return err;
    memcpy(l->read + l->read_len, name, len + 1);
    l->starts[l->count++] = l->read_len;
    l->read_len += len + 1;
  }
}

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
    } else {
      memset(t, 0, TIMES_PER_NAME * sizeof(int64_t));
      memset(n, 0, NUMBERS_PER_NAME * sizeof(double));
      n[6] = (double)errno;
    }
  }
  return 0;
}

/* Lists the directory `fd` holds into `l`; 0 or an errno. */
static int list_into(int fd, listing *l) {
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

static napi_value typed_copy(napi_env env, napi_typedarray_type type, const void *data, size_t count, size_t bytes_each) {
  void *dest = NULL;
  napi_value buffer, array;
  if (napi_create_arraybuffer(env, count * bytes_each, &dest, &buffer) != napi_ok) return NULL;
  if (count > 0) memcpy(dest, data, count * bytes_each);
  if (napi_create_typedarray(env, type, count, buffer, 0, &array) != napi_ok) return NULL;
  return array;
}

static napi_value list_dir(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "listDir(fd): fd must be a number");
    return NULL;
  }
  listing l = {0};
  int err = list_into(fd, &l);
  napi_value result;
  if (err != 0) {
    listing_free(&l);
    napi_create_int32(env, -err, &result);
    return result;
  }
  napi_value names, times, numbers;
  if (napi_create_string_latin1(env, l.names == NULL ? "" : l.names, l.names_len, &names) != napi_ok ||
      (times = typed_copy(env, napi_bigint64_array, l.times, l.count * TIMES_PER_NAME, sizeof(int64_t))) == NULL ||
      (numbers = typed_copy(env, napi_float64_array, l.numbers, l.count * NUMBERS_PER_NAME, sizeof(double))) == NULL ||
      napi_create_array_with_length(env, 3, &result) != napi_ok) {
    listing_free(&l);
    napi_throw_error(env, NULL, "listDir: out of memory");
    return NULL;
  }
  listing_free(&l);
  napi_set_element(env, result, 0, names);
  napi_set_element(env, result, 1, times);
  napi_set_element(env, result, 2, numbers);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "listDir", NAPI_AUTO_LENGTH, list_dir, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "listDir", fn) != napi_ok) return NULL;
  return exports;
}
