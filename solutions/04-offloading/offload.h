/* offload.h — lab 04: run a blocking function on libuv's thread pool and get
 * its result back on the loop thread; cancel a call that has not started;
 * bound how many heavy calls occupy the pool at once.
 *
 * The asyncio version:
 *     text = await asyncio.to_thread(blocking_fn, arg)
 *
 * Usage rules:
 *  - fn runs on a worker thread. It must not touch the loop, any handle or
 *    anything else the loop thread uses without its own locking. It returns
 *    0 or a negative libuv error code; on success it may store a result.
 *  - done runs exactly once, on the loop thread, on a later loop turn, with
 *    fn's status (or UV_ECANCELED) and fn's result.
 *  - Ownership of the result: whatever fn stores in *result belongs to done
 *    from then on (done frees it, with the allocator fn used). When status
 *    is not 0, result is NULL: a failing fn frees what it allocated before
 *    returning, and a cancelled fn never ran.
 *  - The off_call_t must stay valid until done has run; done may free it.
 *  - If off_to_thread() or off_limiter_submit() returns an error, done is
 *    never called.
 *  - The loop must belong to an ap_rt_t: a call cancelled while it waits in
 *    a limiter reports through ap_soon.
 */
#ifndef OFFLOAD_H
#define OFFLOAD_H

#include "ap.h"

typedef struct off_call off_call_t;
typedef struct off_limiter off_limiter_t;
/* $begin off-types */
/* Runs on a worker thread. Returns 0 or a negative libuv error code. */
typedef int (*off_fn)(void *arg, void **result);
/* Runs on the loop thread; owns result (NULL unless status is 0). */
typedef void (*off_done_cb)(off_call_t *call, int status, void *result);
/* $end off-types */

/* One call of fn(arg) on the pool. The call owns its uv_work_t until done
 * has run. */
struct off_call {
  void *data; /* yours */
  /* private */
  uv_work_t work;
  off_fn fn;
  void *arg;
  void *result; /* written by the worker, read after it finished */
  int status;   /* fn's return value */
  off_done_cb done;
  /* used only by a limiter */
  off_limiter_t *limiter;
  off_done_cb user_done; /* the caller's done while the limiter's runs */
  off_call_t *next;      /* the limiter's FIFO */
  int waiting;           /* 1 while in that FIFO, not yet in the pool */
  ap_soon_t soon;        /* delivers UV_ECANCELED to a call taken off it */
};

/* Queues fn(arg) on the thread pool. Returns 0, or UV_EINVAL (fn or done is
 * NULL). */
int off_to_thread(uv_loop_t *loop, off_call_t *call, off_fn fn, void *arg, off_done_cb done);

/* Asks that call not run. Call it at most once, and only before done has run.
 * Returns 0 when fn had not started: it never will, and done gets
 * UV_ECANCELED on a later turn. Returns UV_EBUSY when fn is running or has
 * finished: nothing can stop it, and done gets fn's own outcome. */
int off_cancel(off_call_t *call);

/* ---- Bounded offloader ----------------------------------------------------
 * Lets at most limit calls into the pool at once; the others wait in FIFO
 * order. With limit below the pool size, some workers always stay free for
 * libuv's own file I/O (uv_fs_*), which shares the same pool. A limiter
 * holds no handle: it may be dropped once running and waiting are 0. */
struct off_limiter {
  uv_loop_t *loop;  /* read-only */
  unsigned limit;   /* read-only */
  unsigned running; /* read-only: calls handed to the pool */
  size_t waiting;   /* read-only: calls in the FIFO */
  /* private */
  off_call_t *head;
  off_call_t *tail;
};

/* Returns 0, or UV_EINVAL when limit is 0. */
int off_limiter_init(off_limiter_t *lim, uv_loop_t *loop, unsigned limit);
/* Like off_to_thread, through the limiter. off_cancel() works on the call
 * while it waits too. Returns 0, or UV_EINVAL (fn or done is NULL). */
int off_limiter_submit(off_limiter_t *lim, off_call_t *call, off_fn fn, void *arg,
                       off_done_cb done);

#endif /* OFFLOAD_H */
