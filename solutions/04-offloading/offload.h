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
 *  - Ownership of the result: whatever fn stores in *result belongs to done
 *    from then on (done frees it, with the allocator fn used). A failing fn
 *    frees what it allocated before returning.
 *  - The off_call_t must stay valid until done has run. off_cancel() is
 *    called at most once per call, and only before its done has run.
 *  - The loop must belong to an ap_rt_t: a call cancelled while it waits in
 *    a limiter reports through ap_soon.
 *
 * Contract (each clause has a graded test that names it: tools/clauses.sh):
 *  [off.1] off_to_thread() queues fn(arg) on libuv's thread pool and returns:
 *          fn runs at most once (exactly once unless cancelled), on a worker
 *          thread, never on the loop thread and never inside the call.
 *  [off.2] done runs exactly once per accepted call, on the loop thread, on
 *          a later loop turn: never inside off_to_thread(),
 *          off_limiter_submit() or off_cancel().
 *  [off.3] done's status is fn's return value. When it is 0, result is what
 *          fn stored in *result (NULL if fn stored nothing); otherwise result
 *          is NULL, even when fn stored something before it failed.
 *  [off.4] off_to_thread() and off_limiter_submit() return UV_EINVAL when fn
 *          or done is NULL: then nothing is queued, a limiter's running and
 *          waiting are unchanged, and done is never called.
 *  [off.5] off_cancel() before fn started (the call waits in the pool's queue,
 *          or in a limiter's FIFO, first in line or not) returns 0: fn never
 *          runs, and done gets UV_ECANCELED and a NULL result.
 *  [off.6] off_cancel() once fn runs or has returned (done not yet run)
 *          returns UV_EBUSY and changes nothing: done gets fn's own status
 *          and result. A limiter's call that was handed to the pool is
 *          cancelled as any call there: 0 while queued, UV_EBUSY after.
 *  [off.7] The caller owns data, which the lab never touches. A call runs
 *          as a fresh one whatever its private fields held when it was
 *          passed to off_to_thread() or off_limiter_submit() (memory nobody
 *          zeroed, an earlier use): once its done has run (from inside done
 *          too) a call may be submitted again, to either. done may free call.
 *  [off.8] off_limiter_init() returns UV_EINVAL when limit is 0; otherwise it
 *          sets every field of lim, whatever they held (running, waiting 0).
 *  [off.9] A limiter has at most limit calls in the pool at once: a call
 *          submitted while fewer than limit run goes to the pool inside
 *          off_limiter_submit() (running counts it), any other waits in the
 *          FIFO (waiting counts it).
 *  [off.10] Waiting calls go to the pool oldest first, one each time a call
 *          of the limiter ends, whatever its status (cancelled in the pool
 *          too). A call cancelled in the FIFO leaves it inside off_cancel().
 *  [off.11] When a limited call's done runs, running and waiting no longer
 *          count it: a done may free the limiter when both are 0.
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
