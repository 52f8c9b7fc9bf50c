/*
 * syncfs(path): flushes the file system that holds `path` to disk with syncfs(2), on a thread of libuv's pool, and
 * returns a promise of 0 or a negative errno. What `sync -f PATH` does (open the path, syncfs its descriptor), which
 * tsync used to run as a child process for a flush it owed (src/fs/flush.ts): loading node:child_process and starting
 * the process cost the main thread about 17 ms of every run that settled such a flush (issue 11), for a call that
 * takes a descriptor. Every system but Linux answers -ENOSYS (the caller then runs `sync`, as before).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdlib.h>
#include <unistd.h>

#include "napi_args.h"

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *path;
  int result;
} syncfs_job;

/* On a pool thread: nothing here touches JavaScript. */
static void syncfs_execute(napi_env env, void *data) {
  (void)env;
  syncfs_job *job = data;
#ifdef __linux__
  /* as coreutils' sync opens it: a directory or a file, read-only, without waiting on a FIFO */
  int fd = open(job->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    job->result = -errno;
    return;
  }
  job->result = syncfs(fd) == 0 ? 0 : -errno;
  close(fd);
#else
  job->result = -ENOSYS;
#endif
}

/* Back on the main thread: settles the promise and frees the job. */
static void syncfs_complete(napi_env env, napi_status status, void *data) {
  syncfs_job *job = data;
  napi_value value;
  napi_create_int32(env, status == napi_ok ? job->result : -ECANCELED, &value);
  napi_resolve_deferred(env, job->deferred, value);
  napi_delete_async_work(env, job->work);
  free(job->path);
  free(job);
}

napi_value tsync_syncfs(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (tsync_args(env, info, argv, 1, "syncfs(path): a path") != 0) return NULL;
  syncfs_job *job = calloc(1, sizeof *job);
  if (job == NULL) {
    napi_throw_error(env, NULL, "syncfs(path): out of memory");
    return NULL;
  }
  size_t len = 0;
  /* no room on the stack: the path outlives this call (a small buffer of 0 bytes makes tsync_path_of allocate) */
  /* on failure it has freed what it allocated (a path holding a NUL is -EINVAL) */
  if (tsync_path_of(env, argv[0], NULL, 0, &job->path, &len) != 0) {
    free(job);
    napi_throw_type_error(env, NULL, "syncfs(path): the path must be a string or a Uint8Array without NUL");
    return NULL;
  }
  napi_value promise, name;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok || napi_create_string_utf8(env, "tsync:syncfs", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, syncfs_execute, syncfs_complete, job, &job->work) != napi_ok) {
    free(job->path);
    free(job);
    napi_throw_error(env, NULL, "syncfs(path): cannot queue the flush");
    return NULL;
  }
  if (napi_queue_async_work(env, job->work) != napi_ok) {
    /* the promise is never settled: reject it here so that no caller waits for ever */
    napi_value why;
    napi_create_string_utf8(env, "syncfs(path): cannot queue the flush", NAPI_AUTO_LENGTH, &why);
    napi_reject_deferred(env, job->deferred, why);
    napi_delete_async_work(env, job->work);
    free(job->path);
    free(job);
  }
  return promise;
}
