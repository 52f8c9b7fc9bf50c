/*
 * The trash's folders (src/engine/trash.ts): made ahead on a pool thread (makeDirsAhead), and placed by the file system
 * as trees of their own (spreadSubdirs, at the end).
 *
 * makeDirsAhead(dirFd, paths, cancel): makes the directories `paths` names below the directory `dirFd` holds (mode
 * 0700, with whatever is missing above each), one after another on a thread of libuv's pool, and returns a promise of
 * how many paths it went through, or of a negative errno where it stopped. `paths` is a Uint8Array of relative paths, each ended by
 * a NUL; `cancel` an Int32Array over a SharedArrayBuffer: once its first element is not 0 the job stops before its
 * next path.
 *
 * Why (issue 11): a run keeps every version it deletes or replaces in a trash folder that mirrors the tree
 * (src/engine/trash.ts), one directory per parent of a kept version. On ext4 without a journal, a directory made
 * soon after many inodes were freed costs the allocator's check of each recently deleted inode (recently_deleted in
 * find_inode_bit): in the benchmark's 100k-file incremental run (`strace -c`), 1,325 mkdirs took 499 us each against
 * 22 us an openat, and perf put a quarter of the run's samples in them, all on the main thread. This job makes them on another core while the main thread works through its plan;
 * the main thread still makes any it reaches first (makeDirs tolerates EEXIST, and so does this job).
 *
 * Each name is reached through a descriptor opened with O_NOFOLLOW from the one above, as src/engine/dir-anchors.ts
 * does: a symlink on the way stops the job (ELOOP or ENOTDIR) and makes nothing outside the folder. Every failure is
 * only reported: the main thread makes what is still missing and reports its own errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/fs.h>
#include <sys/ioctl.h>
#endif

#include "napi_args.h"

typedef struct {
  tsync_promised_job head;
  int dir_fd;
  char *paths;
  size_t length;
  const int32_t *cancel;
  napi_ref cancel_ref;
  int result;
} dirs_ahead_job;

/* Makes `name` below `parent` unless it is there; 0 or a negative errno. */
static int make_one(int parent, const char *name) {
  if (mkdirat(parent, name, 0700) == 0 || errno == EEXIST) return 0;
  return -errno;
}

/* The descriptor of directory `name` below `parent`, made first where missing; or a negative errno. */
static int open_made(int parent, const char *name) {
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 || errno != ENOENT) return fd >= 0 ? fd : -errno;
  int made = make_one(parent, name);
  if (made != 0) return made;
  fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return fd >= 0 ? fd : -errno;
}

/* Makes one path (NUL-ended, its '/' overwritten and put back); 1 when its last name was made or there, or a negative errno. */
static int make_path(int top, char *path) {
  int parent = top;
  char *name = path;
  int result = 1;
  for (char *slash = strchr(name, '/'); slash != NULL; slash = strchr(name, '/')) {
    *slash = '\0';
    int fd = open_made(parent, name);
    *slash = '/';
    if (parent != top) close(parent);
    if (fd < 0) return fd;
    parent = fd;
    name = slash + 1;
  }
  int made = make_one(parent, name);
  if (made != 0) result = made;
  if (parent != top) close(parent);
  return result;
}

/* On a pool thread: nothing here touches JavaScript. */
static void dirs_ahead_execute(napi_env env, void *data) {
  (void)env;
  dirs_ahead_job *job = data;
  int count = 0;
  for (size_t at = 0; at < job->length;) {
    char *path = job->paths + at;
    size_t len = strnlen(path, job->length - at);
    if (at + len >= job->length) break; /* the last path was not ended by a NUL: not made */
    at += len + 1;
    if (__atomic_load_n(job->cancel, __ATOMIC_RELAXED) != 0) break;
    if (len == 0) continue;
    int r = make_path(job->dir_fd, path);
    if (r < 0) {
      job->result = r;
      return;
    }
    count++;
  }
  job->result = count;
}

static void dirs_ahead_free(void *data) {
  dirs_ahead_job *job = data;
  if (job->dir_fd >= 0) close(job->dir_fd);
  free(job->paths);
  free(job);
}

/* Back on the main thread: lets the cancel flag go, settles the promise and frees the job (its descriptor too). */
static void dirs_ahead_complete(napi_env env, napi_status status, void *data) {
  dirs_ahead_job *job = data;
  if (job->cancel_ref != NULL) napi_delete_reference(env, job->cancel_ref);
  napi_value value;
  if (napi_create_int32(env, status == napi_ok ? job->result : -ECANCELED, &value) != napi_ok) value = NULL;
  tsync_settle_promised(env, job, value, "makeDirsAhead: cannot make the answer", dirs_ahead_free);
}

static const char USAGE[] = "makeDirsAhead(dirFd, paths, cancel): a descriptor, a Uint8Array of NUL-ended paths, an Int32Array over a SharedArrayBuffer";

napi_value tsync_make_dirs_ahead(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (tsync_args(env, info, argv, 3, USAGE) != 0) return NULL;
  int32_t dir_fd = -1;
  bool is_typed = false, is_shared = false;
  napi_typedarray_type type;
  size_t length = 0, flags = 0;
  void *bytes = NULL, *flag = NULL;
  napi_value flag_buffer;
  if (napi_get_value_int32(env, argv[0], &dir_fd) != napi_ok || dir_fd < 0 || napi_is_typedarray(env, argv[1], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[1], &type, &length, &bytes, NULL, NULL) != napi_ok || type != napi_uint8_array ||
      napi_is_typedarray(env, argv[2], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[2], &type, &flags, &flag, &flag_buffer, NULL) != napi_ok || type != napi_int32_array || flags < 1) {
    napi_throw_type_error(env, NULL, USAGE);
    return NULL;
  }
  /* a SharedArrayBuffer's memory never moves, so the pool thread may read the flag while JavaScript sets it */
  napi_value global, sab_ctor;
  if (napi_get_global(env, &global) != napi_ok || napi_get_named_property(env, global, "SharedArrayBuffer", &sab_ctor) != napi_ok ||
      napi_instanceof(env, flag_buffer, sab_ctor, &is_shared) != napi_ok || !is_shared) {
    napi_throw_type_error(env, NULL, USAGE);
    return NULL;
  }
  dirs_ahead_job *job = calloc(1, sizeof *job);
  if (job != NULL) {
    job->dir_fd = -1;
    job->paths = malloc(length == 0 ? 1 : length);
  }
  if (job == NULL || job->paths == NULL) {
    if (job != NULL) dirs_ahead_free(job);
    napi_throw_error(env, NULL, "makeDirsAhead: out of memory");
    return NULL;
  }
  /* copies: the caller may close its descriptor and drop its buffer as soon as this returns */
  memcpy(job->paths, bytes, length);
  job->length = length;
  job->dir_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (job->dir_fd < 0) {
    dirs_ahead_free(job);
    napi_throw_error(env, NULL, "makeDirsAhead: cannot duplicate the descriptor");
    return NULL;
  }
  job->cancel = flag;
  if (napi_create_reference(env, argv[2], 1, &job->cancel_ref) != napi_ok) {
    dirs_ahead_free(job);
    napi_throw_error(env, NULL, "makeDirsAhead: cannot hold the cancel flag");
    return NULL;
  }
  return tsync_queue_promised(env, job, "tsync:makeDirsAhead", dirs_ahead_execute, dirs_ahead_complete, dirs_ahead_free, "makeDirsAhead: cannot queue the job");
}

/*
 * spreadSubdirs(dirFd): sets FS_TOPDIR_FL (`chattr +T`) on the directory `dirFd` holds; 0, or a negative errno (ENOTTY,
 * EOPNOTSUPP or EINVAL on file systems without the flag, ENOSYS off Linux). The flag tells ext4's inode allocator
 * (Orlov) that each subdirectory is the top of a hierarchy of its own, as /home is: a new subdirectory goes to a block
 * group of its own, and its own subdirectories after it. The trash folder's subdirectories are one run each, and on
 * ext4 without a journal a directory made among inodes freed a moment ago pays a check of each of them (see above):
 * with the flag on the trash folder, the benchmark's 100k incremental run's trash mkdirs took 27-37 us each under
 * strace -c, against 301-753 us without it.
 */
napi_value tsync_spread_subdirs(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (tsync_args(env, info, argv, 1, "spreadSubdirs(dirFd): a descriptor") != 0) return NULL;
  int32_t fd = -1;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "spreadSubdirs(dirFd): a descriptor");
    return NULL;
  }
#if defined(__linux__) && defined(FS_IOC_GETFLAGS) && defined(FS_TOPDIR_FL)
  int flags = 0;
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) return tsync_int_result(env, -errno);
  if ((flags & FS_TOPDIR_FL) != 0) return tsync_int_result(env, 0);
  flags |= FS_TOPDIR_FL;
  return tsync_int_result(env, ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0 ? 0 : -errno);
#else
  return tsync_int_result(env, -ENOSYS);
#endif
}
