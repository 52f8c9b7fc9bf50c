/* Argument and result helpers shared by the addon's files (defined in list_dir.c). */
#ifndef TSYNC_NAPI_ARGS_H
#define TSYNC_NAPI_ARGS_H
#include <node_api.h>
#include <stddef.h>

/* A path argument's bytes, NUL-terminated (see list_dir.c): 0, -ENOMEM, or -EINVAL. */
int tsync_path_of(napi_env env, napi_value value, char *small, size_t small_size, char **text, size_t *len);
/* The descriptor (or AT_FDCWD) and name an *at(2) call takes for `path`: `/proc/self/fd/N/name` becomes N and name (see list_dir.c). */
int tsync_at(const char *path, const char **name);
/* 1 where the call's argument `index` (below 4) is the boolean true, else 0 (absent, or anything else). */
int tsync_true_arg(napi_env env, napi_callback_info info, size_t index);
/* An int32 as a JS number. */
napi_value tsync_int_result(napi_env env, int value);
/* The call's first `want` arguments into argv: 0, or -1 after throwing a TypeError that says `usage`. */
int tsync_args(napi_env env, napi_callback_info info, napi_value *argv, size_t want, const char *usage);

/* copy_small.c */
napi_value tsync_copy_small(napi_env env, napi_callback_info info);
napi_value tsync_copy_small_batch(napi_env env, napi_callback_info info);
napi_value tsync_xxh64_of(napi_env env, napi_callback_info info);

/* What every job on libuv's pool starts with (sync_fs.c, dirs_ahead.c): its work item and the promise its completion settles. */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
} tsync_promised_job;

/* sync_fs.c */
/* Queues a job (which starts with a tsync_promised_job) and returns its promise; see sync_fs.c. */
napi_value tsync_queue_promised(napi_env env, void *job, const char *name, napi_async_execute_callback execute, napi_async_complete_callback complete,
                                void (*free_job)(void *), const char *what);
/* Settles a job's promise with `value` (or rejects it with `failure` where value is NULL), then frees the job; see sync_fs.c. */
void tsync_settle_promised(napi_env env, void *job, napi_value value, const char *failure, void (*free_job)(void *));
napi_value tsync_syncfs(napi_env env, napi_callback_info info);
napi_value tsync_fsync_fds(napi_env env, napi_callback_info info);

/* dirs_ahead.c */
napi_value tsync_make_dirs_ahead(napi_env env, napi_callback_info info);
napi_value tsync_spread_subdirs(napi_env env, napi_callback_info info);

/* list_ahead.c: defines listAhead, listTaken and listDropped on `exports`; 0 or -1. */
int tsync_define_list_ahead(napi_env env, napi_value exports);

#endif
