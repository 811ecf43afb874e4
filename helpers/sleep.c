/* sleep.c — async sleep on a uv_timer_t.
 *
 * The timer is closed before the callback runs, so the callback owns the
 * request again and may free it. Cancelling stops the timer and reports
 * UV_ECANCELED through the same close path: exactly one callback either way.
 */
#include "ap.h"

static void on_closed(uv_handle_t *handle)
{
  ap_sleep_t *req = AP_CONTAINER_OF(handle, ap_sleep_t, timer);

  req->cb(req, req->status);
}

static void finish(ap_sleep_t *req, int status)
{
  req->status = status;
  uv_close((uv_handle_t *) &req->timer, on_closed);
}

static void on_timer(uv_timer_t *timer)
{
  finish(AP_CONTAINER_OF(timer, ap_sleep_t, timer), 0);
}

int ap_sleep_start(uv_loop_t *loop, ap_sleep_t *req, uint64_t ms, ap_sleep_cb cb)
{
  int err;

  if (cb == NULL)
    return UV_EINVAL;
  err = uv_timer_init(loop, &req->timer);
  if (err != 0)
    return err;
  req->cb = cb;
  req->status = 0;
  err = uv_timer_start(&req->timer, on_timer, ms, 0);
  if (err != 0)
    uv_close((uv_handle_t *) &req->timer, NULL); /* cb is never called */
  return err;
}

int ap_sleep_cancel(ap_sleep_t *req)
{
  if (uv_is_closing((uv_handle_t *) &req->timer))
    return UV_EALREADY;
  uv_timer_stop(&req->timer);
  finish(req, UV_ECANCELED);
  return 0;
}
