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
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "napi_args.h"

/*
 * Queues `job` (which starts with a tsync_promised_job) to run `execute` on a pool thread and then `complete` on the main
 * thread, and returns the promise `complete` settles. If it cannot be queued, the job is freed with `free_job` and
 * either an error is thrown (nothing was made: returns NULL) or the promise made is rejected, so that no caller
 * waits for ever; `what` names the call in either message.
 */
napi_value tsync_queue_promised(napi_env env, void *job, const char *name, napi_async_execute_callback execute, napi_async_complete_callback complete,
                                 void (*free_job)(void *), const char *what) {
  tsync_promised_job *head = job;
  napi_value promise, resource_name;
  if (napi_create_promise(env, &head->deferred, &promise) != napi_ok || napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_create_async_work(env, NULL, resource_name, execute, complete, job, &head->work) != napi_ok) {
    free_job(job);
    napi_throw_error(env, NULL, what);
    return NULL;
  }
  if (napi_queue_async_work(env, head->work) != napi_ok) {
    napi_value why;
    napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &why);
    napi_reject_deferred(env, head->deferred, why);
    napi_delete_async_work(env, head->work);
    free_job(job);
  }
  return promise;
}

/*
 * Back on the main thread, a job's end: resolves its promise with `value`, or rejects it with `failure` where no
 * value could be made (NULL), then deletes the work item and frees the job with `free_job`.
 */
void tsync_settle_promised(napi_env env, void *job, napi_value value, const char *failure, void (*free_job)(void *)) {
  tsync_promised_job *head = job;
  if (value != NULL) napi_resolve_deferred(env, head->deferred, value);
  else {
    napi_value why;
    napi_create_string_utf8(env, failure, NAPI_AUTO_LENGTH, &why);
    napi_reject_deferred(env, head->deferred, why);
  }
  napi_delete_async_work(env, head->work);
  free_job(job);
}

typedef struct {
  tsync_promised_job head;
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

static void syncfs_free(void *data) {
  syncfs_job *job = data;
  free(job->path);
  free(job);
}

/* Back on the main thread: settles the promise and frees the job. */
static void syncfs_complete(napi_env env, napi_status status, void *data) {
  syncfs_job *job = data;
  napi_value value;
  if (napi_create_int32(env, status == napi_ok ? job->result : -ECANCELED, &value) != napi_ok) value = NULL;
  tsync_settle_promised(env, job, value, "syncfs(path): cannot make the answer", syncfs_free);
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
  return tsync_queue_promised(env, job, "tsync:syncfs", syncfs_execute, syncfs_complete, syncfs_free, "syncfs(path): cannot queue the flush");
}

/*
 * fsyncFds(fds): fsyncs every descriptor of `fds` (an Int32Array), one after another on one thread of libuv's pool,
 * and returns a promise of an array with 0 or a negative errno per descriptor. The caller opened them and closes
 * them. One job for a watch batch's handful of fsyncs where fs.fsync made one each: each of those was a wake-up of
 * a pool thread and a completion on the main thread, 40-45 us of the main thread apiece (issue 11, a watch cycle's
 * CPU); the caller splits a long list into a few jobs that run side by side (src/engine/targeted-flush.ts).
 */
typedef struct {
  tsync_promised_job head;
  size_t count;
  int *fds;
  int *results;
} fsync_fds_job;

static void fsync_fds_execute(napi_env env, void *data) {
  (void)env;
  fsync_fds_job *job = data;
  for (size_t i = 0; i < job->count; i++) job->results[i] = fsync(job->fds[i]) == 0 ? 0 : -errno;
}

static void fsync_fds_free(void *data) {
  fsync_fds_job *job = data;
  free(job->fds);
  free(job->results);
  free(job);
}

static void fsync_fds_complete(napi_env env, napi_status status, void *data) {
  fsync_fds_job *job = data;
  napi_value array;
  if (napi_create_array_with_length(env, job->count, &array) == napi_ok) {
    for (size_t i = 0; i < job->count; i++) {
      napi_value value;
      napi_create_int32(env, status == napi_ok ? job->results[i] : -ECANCELED, &value);
      napi_set_element(env, array, (uint32_t)i, value);
    }
  } else array = NULL;
  tsync_settle_promised(env, job, array, "fsyncFds(fds): cannot make the answer", fsync_fds_free);
}

napi_value tsync_fsync_fds(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (tsync_args(env, info, argv, 1, "fsyncFds(fds): an Int32Array of descriptors") != 0) return NULL;
  bool is_typed = false;
  napi_typedarray_type type;
  size_t count = 0;
  void *data = NULL;
  if (napi_is_typedarray(env, argv[0], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[0], &type, &count, &data, NULL, NULL) != napi_ok || type != napi_int32_array) {
    napi_throw_type_error(env, NULL, "fsyncFds(fds): an Int32Array of descriptors");
    return NULL;
  }
  fsync_fds_job *job = calloc(1, sizeof *job);
  if (job != NULL) {
    job->count = count;
    /* copies: the typed array may be collected or changed before the pool thread reads it */
    job->fds = malloc((count == 0 ? 1 : count) * sizeof *job->fds);
    job->results = malloc((count == 0 ? 1 : count) * sizeof *job->results);
  }
  if (job == NULL || job->fds == NULL || job->results == NULL) {
    if (job != NULL) fsync_fds_free(job);
    napi_throw_error(env, NULL, "fsyncFds(fds): out of memory");
    return NULL;
  }
  for (size_t i = 0; i < count; i++) job->fds[i] = ((const int32_t *)data)[i];
  return tsync_queue_promised(env, job, "tsync:fsyncFds", fsync_fds_execute, fsync_fds_complete, fsync_fds_free, "fsyncFds(fds): cannot queue the flush");
}
