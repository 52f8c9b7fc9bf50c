/* One directory's listing as list_dir.c reads it, shared with list_ahead.c (which reads listings on a thread of its own). */
#ifndef TSYNC_LISTING_H
#define TSYNC_LISTING_H
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#define TIMES_PER_NAME 4
#define NUMBERS_PER_NAME 8

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
  /* set by the caller: the size of each file's and directory's list of xattr names is read too (list_dir.c) */
  int probe_xattrs;
} listing;

/* Lists the directory `fd` holds into `l` (zeroed by the caller); 0 or an errno. Touches no JS: any thread may call it. */
int tsync_list_into(int fd, listing *l);
/* Frees what a listing holds. */
void tsync_listing_free(listing *l);
/* listDir's result for a listing `tsync_list_into` returned `err` for (a negative errno, or [names, times, numbers]); frees `l`. */
napi_value tsync_listing_result(napi_env env, listing *l, int err);

#endif
