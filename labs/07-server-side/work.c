/* work.c — lab 07: a handler whose blocking part runs on the thread pool
 * (lab 04's off_to_thread), so the loop never waits for it ([srv.10]).
 *
 * The worker reads req->line and writes req->work_out; the loop thread
 * touches neither until the call's done has run.
 */
#include "srv.h"

/* Worker thread. */
static int work_run(void *arg, void **result)
{
  srv_req_t *req = arg;
  size_t n = SRV_WORK_OUT;
  int err = req->srv->cfg.handler.work(req->line, req->len, req->work_out, &n);

  (void) result;
  req->work_len = n < SRV_WORK_OUT ? n : SRV_WORK_OUT;
  return err;
}

/* $begin work-handler */
/* Loop thread: the call ended, ran or cancelled. */
static void work_done(off_call_t *call, int status, void *result)
{
  srv_req_t *req = AP_CONTAINER_OF(call, srv_req_t, call);

  (void) result;
  // TODO: srv.h [srv.10]: every call answers once, cancelled or not (#offloading).
  AP_TODO();
}

static void work_start(srv_req_t *req)
{
  // TODO: srv.h [srv.10]: the blocking part goes to the pool (#offloading).
  AP_TODO();
}

static void work_cancel(srv_req_t *req)
{
  // TODO: srv.h [srv.10]: a call not started never runs (#offloading).
  AP_TODO();
}
/* $end work-handler */

srv_handler_t srv_work_handler(srv_work_fn fn)
{
  srv_handler_t h = {.start = work_start, .cancel = work_cancel, .work = fn};

  return h;
}
