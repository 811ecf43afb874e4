/* offload.c — lab 04: to_thread on uv_queue_work, cancel, a bounded offloader.
 *
 * Two threads touch an off_call_t. The worker writes status and result in
 * on_work; the loop thread reads them in on_after_work. libuv's pool hands
 * the request from one thread to the other under its own mutex, so the loop
 * thread sees what the worker wrote without more locking. Everything else
 * (done, the limiter and its FIFO) belongs to the loop thread alone.
 */
#include "offload.h"

/* $begin off-work */
/* Worker thread: the only place fn runs. */
static void on_work(uv_work_t *work)
{
  off_call_t *call = AP_CONTAINER_OF(work, off_call_t, work);

  // TODO: offload.h [off.1], [off.3]: fn runs here, on a worker, and nowhere
  // else; its outcome is for done (#to-thread).
  AP_TODO();
}

/* Loop thread. status is UV_ECANCELED when uv_cancel() took the request off
 * the pool's queue: then on_work never ran and fn's fields mean nothing. */
static void on_after_work(uv_work_t *work, int status)
{
  off_call_t *call = AP_CONTAINER_OF(work, off_call_t, work);

  // TODO: offload.h [off.2], [off.3], [off.5]: done's status and result, also
  // for a call cancelled in the pool (#to-thread, #cancelling).
  AP_TODO();
}
/* $end off-work */

/* $begin off-to-thread */
int off_to_thread(uv_loop_t *loop, off_call_t *call, off_fn fn, void *arg, off_done_cb done)
{
  // TODO: offload.h [off.1], [off.4], [off.7]: a fresh call, whatever its
  // private fields held (#to-thread).
  return AP_TODO();
}
/* $end off-to-thread */

/* ---- Bounded offloader ----------------------------------------------------- */

static void on_limited_done(off_call_t *call, int status, void *result);

/* Hands waiting calls to the pool, oldest first, while there is room. */
static void pump(off_limiter_t *lim)
{
  // TODO: offload.h [off.9], [off.10], [off.11]: at most limit calls in the pool,
  // oldest first; mind what [off.7] resets (#bounded-offloader).
  AP_TODO();
}

/* Loop thread: a limited call finished, or was cancelled inside the pool. */
static void on_limited_done(off_call_t *call, int status, void *result)
{
  off_limiter_t *lim = call->limiter;

  lim->running--;
  pump(lim); /* before done, which may free call */
  call->user_done(call, status, result);
}

/* $begin off-limiter-submit */
int off_limiter_submit(off_limiter_t *lim, off_call_t *call, off_fn fn, void *arg, off_done_cb done)
{
  if (fn == NULL || done == NULL)
    return UV_EINVAL;
  call->fn = fn;
  call->arg = arg;
  call->user_done = done;
  call->limiter = lim;
  // TODO: offload.h [off.7], [off.9]: into the pool now, or into the FIFO
  // (#bounded-offloader).
  return AP_TODO();
}
/* $end off-limiter-submit */

int off_limiter_init(off_limiter_t *lim, uv_loop_t *loop, unsigned limit)
{
  if (limit == 0)
    return UV_EINVAL;
  lim->loop = loop;
  lim->limit = limit;
  lim->running = 0;
  lim->waiting = 0;
  lim->head = lim->tail = NULL;
  return 0;
}

/* ---- Cancel ---------------------------------------------------------------- */

static void deliver_cancelled(ap_soon_t *soon)
{
  off_call_t *call = AP_CONTAINER_OF(soon, off_call_t, soon);

  call->user_done(call, UV_ECANCELED, NULL);
}

/* $begin off-cancel */
/* The call is still in the limiter's FIFO: libuv has never seen it, so
 * uv_cancel() cannot help. Unlink it and report on a later turn. */
static int cancel_waiting(off_call_t *call)
{
  off_limiter_t *lim = call->limiter;
  off_call_t **link = &lim->head, *prev = NULL;

  while (*link != call) {
    prev = *link;
    link = &prev->next;
  }
  *link = call->next;
  if (lim->tail == call)
    lim->tail = prev;
  lim->waiting--;
  call->waiting = 0;
  ap_soon(lim->loop, &call->soon, deliver_cancelled);
  return 0;
}

int off_cancel(off_call_t *call)
{
  // TODO: offload.h [off.5], [off.6]: the call may be in a limiter's FIFO, in
  // the pool's queue, running or finished (#cancelling).
  return AP_TODO();
}
/* $end off-cancel */
