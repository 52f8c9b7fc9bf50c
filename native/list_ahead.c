/*
 * listAhead(fd), listTaken(job), listDropped(job): listDir's work done ahead of time, on a thread of the addon's own
 * (issue 11). A scan's walk spends about half its time in the kernel (getdents64 and one fstatat per name) and the
 * other half in JavaScript turning the listings into its table; the two alternate on one core while the machine has
 * another. The walk asks for the listings of the next few directories on its stack (src/scan/list-ahead.ts) and
 * takes each when its turn comes: one thread reads while the JavaScript thread works.
 *
 * - listAhead(fd): queues the listing of the directory `fd` holds; a job (an external), or a negative errno when no
 *   thread could be started (the caller then lists with listDir).
 * - listTaken(job): the job's listing, as listDir gives it (a negative errno, or [names, times, numbers]); a job still
 *   queued is listed at once on the calling thread, one being listed is waited for, the calling thread listing the
 *   queued ones meanwhile.
 * - listDropped(job): the job's listing is not wanted; it is taken off the queue, or waited for if being listed.
 *
 * The caller keeps `fd` open until the job is taken or dropped: the thread reads the descriptor (and moves its offset,
 * list_dir.c's tsync_list_into), so a descriptor closed and reused for another file meanwhile would be read instead.
 * A job that JavaScript lets go of without either (a worker thread stopped in mid-walk) is freed by the external's
 * finalizer, or by the thread once it is done with it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "listing.h"
#include "napi_args.h"

enum job_state { QUEUED, RUNNING, DONE, TAKEN };

typedef struct job {
  int fd;
  /* an enum job_state; read without the lock only by spin_while */
  int state;
  int err;
  /* listAhead's second argument: the listing reads each name's xattr list size too (list_dir.c) */
  int probe_xattrs;
  listing l;
  /* the external's reference, and the queue's (from listAhead until the thread or a taker is done with it) */
  int refs;
  /* what the listing holds while it is read and not taken (counted in `held`) */
  size_t bytes;
  struct job *next;
} job;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static job *head = NULL, *tail = NULL;
static bool started = false;
/* Whether the reader waits on `work`, and how many takers wait on `done`: a signal only where someone sleeps. */
static bool reader_sleeps = false;
/* Jobs on the queue: the reader spins on it without the lock. */
static int queued = 0;
static int takers_waiting = 0;

/*
 * Listings read and not taken yet hold this many bytes at most before the reader waits: a walk takes them in turn, but
 * a few dozen sibling directories of a million names each must not all be held at once (the walk alone holds one). A
 * job the reader leaves on the queue meanwhile is listed by the walk itself at its turn. listAheadLimit sets it (tests).
 */
static size_t held = 0;
static size_t held_max = (size_t)64 << 20;

/*
 * How long a thread spins for what it waits for before it sleeps on a condition variable. On a virtual machine, waking
 * a thread whose CPU went idle costs tens of microseconds on both sides (the host must run that CPU again): measured
 * at 10k entries, a reader that slept at once when the queue ran dry made listAhead take 47 us a call. The walk queues
 * a directory every 100 us or so, so the reader spins a little for the next; a taker waits for a listing that is being
 * read, which ends within a directory's lstats, so it spins longer. Spinning longer in the reader bought little at 100k
 * entries (808 against 825 ms) for 150 ms more CPU, which the JIT's compiler threads want at 10k.
 */
#define READER_SPIN_NS 50000LL
#define TAKER_SPIN_NS 1000000LL

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* Spins until *flag is no longer `value` or `ns` passed; called without the lock. */
static void spin_while(const int *flag, int value, int64_t ns) {
  int64_t until = 0;
  for (unsigned i = 0; __atomic_load_n(flag, __ATOMIC_ACQUIRE) == value; i++) {
    cpu_relax();
    if ((i & 255) != 0) continue;
    int64_t t = now_ns();
    if (until == 0) until = t + ns;
    else if (t > until) return;
  }
}

/* Called with the lock held: whether the reader may start on the next job. */
static bool reader_may_go_locked(void) { return head != NULL && held <= held_max; }

/* Called with the lock held: a read listing leaves the count of those held (taken, dropped or freed); wakes the reader if that lets it go on. */
static void unhold_locked(job *j) {
  held -= j->bytes;
  j->bytes = 0;
  if (reader_sleeps && reader_may_go_locked()) pthread_cond_signal(&work);
}

/* Called with the lock held: frees a job no one refers to any more. */
static void release_locked(job *j) {
  if (--j->refs > 0) return;
  if (j->state == DONE) {
    unhold_locked(j);
    tsync_listing_free(&j->l);
  }
  free(j);
}

/* Called with the lock held: takes a queued job off the queue. */
static void unqueue_locked(job *j) {
  job **at = &head;
  job *before = NULL;
  while (*at != j) {
    before = *at;
    at = &(*at)->next;
  }
  *at = j->next;
  if (tail == j) tail = before;
  j->next = NULL;
  __atomic_store_n(&queued, queued - 1, __ATOMIC_RELEASE);
}

/* Called with the lock held: sets a job's state where a spinning taker sees it. */
static void set_state_locked(job *j, int state) { __atomic_store_n(&j->state, state, __ATOMIC_RELEASE); }

/* Called with the lock held, on a queued job: takes it off the queue and lists it (without the lock meanwhile). */
static void run_locked(job *j) {
  unqueue_locked(j);
  set_state_locked(j, RUNNING);
  pthread_mutex_unlock(&lock);
  listing l = {0};
  l.probe_xattrs = j->probe_xattrs;
  int err = tsync_list_into(j->fd, &l);
  pthread_mutex_lock(&lock);
  j->l = l;
  j->err = err;
  j->bytes = sizeof(job) + l.names_len + l.count * (TIMES_PER_NAME * sizeof(int64_t) + NUMBERS_PER_NAME * sizeof(double));
  held += j->bytes;
  set_state_locked(j, DONE);
}

static void *reader(void *unused) {
  (void)unused;
  pthread_mutex_lock(&lock);
  for (;;) {
    if (!reader_may_go_locked()) {
      if (held <= held_max) {
        pthread_mutex_unlock(&lock);
        spin_while(&queued, 0, READER_SPIN_NS);
        pthread_mutex_lock(&lock);
      }
      while (!reader_may_go_locked()) {
        reader_sleeps = true;
        pthread_cond_wait(&work, &lock);
        reader_sleeps = false;
      }
    }
    job *j = head;
    run_locked(j);
    if (takers_waiting > 0) pthread_cond_broadcast(&done);
    release_locked(j);
  }
  return NULL;
}

/* Called with the lock held: 0, or the errno of starting the reader thread. */
static int start_locked(void) {
  if (started) return 0;
  pthread_attr_t attr;
  pthread_t thread;
  int err = pthread_attr_init(&attr);
  if (err != 0) return err;
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  err = pthread_create(&thread, &attr, reader, NULL);
  pthread_attr_destroy(&attr);
  if (err == 0) started = true;
  return err;
}

static void finalize_job(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  job *j = data;
  pthread_mutex_lock(&lock);
  if (j->state == QUEUED) {
    unqueue_locked(j);
    set_state_locked(j, TAKEN);
    j->refs--; /* the queue's; the external's is let go below */
  }
  release_locked(j);
  pthread_mutex_unlock(&lock);
}

static napi_value list_ahead(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  int32_t fd = -1;
  if (tsync_args(env, info, argv, 1, "listAhead(fd): fd must be a number") != 0) return NULL;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "listAhead(fd): fd must be a number");
    return NULL;
  }
  job *j = calloc(1, sizeof(job));
  if (j == NULL) return tsync_int_result(env, -ENOMEM);
  j->fd = fd;
  j->probe_xattrs = tsync_true_arg(env, info, 1);
  j->state = QUEUED;
  j->refs = 2;
  if (napi_create_external(env, j, finalize_job, NULL, &result) != napi_ok) {
    free(j);
    return tsync_int_result(env, -ENOMEM);
  }
  pthread_mutex_lock(&lock);
  int err = start_locked();
  if (err != 0) {
    /* never queued: the external's finalizer frees it */
    j->state = TAKEN;
    j->refs = 1;
    pthread_mutex_unlock(&lock);
    return tsync_int_result(env, -err);
  }
  if (tail == NULL) head = j;
  else tail->next = j;
  tail = j;
  __atomic_store_n(&queued, queued + 1, __ATOMIC_RELEASE);
  if (reader_sleeps) pthread_cond_signal(&work);
  pthread_mutex_unlock(&lock);
  return result;
}

/* The job an external argument holds, or NULL after throwing `usage` as a TypeError. */
static job *job_arg(napi_env env, napi_callback_info info, const char *usage) {
  napi_value argv[1];
  napi_valuetype type;
  void *data = NULL;
  if (tsync_args(env, info, argv, 1, usage) != 0) return NULL;
  if (napi_typeof(env, argv[0], &type) != napi_ok || type != napi_external || napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  return data;
}

/*
 * Called with the lock held: brings a job to DONE (listing it here if it is still queued, waiting if the thread is
 * at it, and meanwhile listing the queued ones when `steal`); false if it was taken or dropped already.
 */
static bool settle_locked(job *j, bool steal) {
  if (j->state == QUEUED) {
    j->refs--; /* the queue's: the job is ours now */
    run_locked(j);
  }
  /*
   * The reader is at this one: rather than wait for it, list the next queued ones here meanwhile, as the reader
   * would (the walk takes them soon after). Measured on a 100k-entry no-op, the walk found the reader still at the
   * directory it wanted in more than half of its turns and waited 125-165 ms in all: the reader alone lists more
   * slowly than the walk consumes, while the V8 compiler's threads take their share of the second core.
   */
  while (steal && j->state == RUNNING && reader_may_go_locked()) {
    job *next = head;
    run_locked(next);
    release_locked(next);
  }
  if (j->state == RUNNING) {
    pthread_mutex_unlock(&lock);
    spin_while(&j->state, RUNNING, TAKER_SPIN_NS);
    pthread_mutex_lock(&lock);
    takers_waiting++;
    while (j->state == RUNNING) pthread_cond_wait(&done, &lock);
    takers_waiting--;
  }
  return j->state == DONE;
}

static napi_value list_taken(napi_env env, napi_callback_info info) {
  job *j = job_arg(env, info, "listTaken(job): job must come from listAhead");
  if (j == NULL) return NULL;
  pthread_mutex_lock(&lock);
  bool ready = settle_locked(j, true);
  if (ready) {
    unhold_locked(j);
    set_state_locked(j, TAKEN);
  }
  listing l = j->l;
  int err = j->err;
  memset(&j->l, 0, sizeof j->l);
  pthread_mutex_unlock(&lock);
  if (!ready) {
    napi_throw_error(env, NULL, "listTaken: this listing was taken or dropped already");
    return NULL;
  }
  return tsync_listing_result(env, &l, err);
}

static napi_value list_dropped(napi_env env, napi_callback_info info) {
  job *j = job_arg(env, info, "listDropped(job): job must come from listAhead");
  if (j == NULL) return NULL;
  pthread_mutex_lock(&lock);
  if (j->state == QUEUED) {
    unqueue_locked(j);
    j->refs--;
  } else if (settle_locked(j, false)) { /* a listing no one wants: nothing more listed meanwhile */
    unhold_locked(j);
    tsync_listing_free(&j->l);
    memset(&j->l, 0, sizeof j->l);
  }
  set_state_locked(j, TAKEN);
  pthread_mutex_unlock(&lock);
  return NULL;
}

/* listAheadLimit(bytes): sets how many bytes read listings may hold before the reader waits; the bytes held now (tests). */
static napi_value list_ahead_limit(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  double bytes = 0;
  if (tsync_args(env, info, argv, 1, "listAheadLimit(bytes): bytes must be a number") != 0) return NULL;
  if (napi_get_value_double(env, argv[0], &bytes) != napi_ok || !(bytes >= 0)) {
    napi_throw_type_error(env, NULL, "listAheadLimit(bytes): bytes must be a number");
    return NULL;
  }
  pthread_mutex_lock(&lock);
  held_max = (size_t)bytes;
  double now = (double)held;
  if (reader_sleeps && reader_may_go_locked()) pthread_cond_signal(&work);
  pthread_mutex_unlock(&lock);
  napi_create_double(env, now, &result);
  return result;
}

int tsync_define_list_ahead(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } calls[] = {{"listAhead", list_ahead}, {"listTaken", list_taken}, {"listDropped", list_dropped}, {"listAheadLimit", list_ahead_limit}};
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    napi_value fn;
    if (napi_create_function(env, calls[i].name, NAPI_AUTO_LENGTH, calls[i].fn, NULL, &fn) != napi_ok) return -1;
    if (napi_set_named_property(env, exports, calls[i].name, fn) != napi_ok) return -1;
  }
  return 0;
}
