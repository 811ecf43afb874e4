/* soon.c — the call-soon queue.
 *
 * An unreferenced check handle drains the queue after each poll; an idle
 * handle is active only while the queue is non-empty, which both keeps the
 * loop alive and makes the poll return at once. Each drain runs only the
 * callbacks queued before it started: a callback that queues another one
 * defers it to the next turn, so chains never deepen the stack.
 */
#include "ap.h"
#include "internal.h"

void ap_soon(uv_loop_t *loop, ap_soon_t *req, ap_soon_cb cb)
{
  ap_rt_t *rt = ap_rt_of(loop);

  req->cb = cb;
  req->next = NULL;
  if (rt->soon_tail != NULL)
    rt->soon_tail->next = req;
  else
    rt->soon_head = req;
  rt->soon_tail = req;
  rt->soon_count++;
  if (!uv_is_active((uv_handle_t *) &rt->soon_idle))
    uv_idle_start(&rt->soon_idle, ap__soon_idle_cb);
}

size_t ap_soon_pending(uv_loop_t *loop)
{
  return ap_rt_of(loop)->soon_count;
}

void ap__soon_idle_cb(uv_idle_t *idle)
{
  (void) idle; /* only here so that the poll does not block */
}

void ap__soon_check_cb(uv_check_t *check)
{
  ap_rt_t *rt = AP_CONTAINER_OF(check, ap_rt_t, soon_check);
  size_t batch = rt->soon_count;

  while (batch-- > 0) {
    ap_soon_t *req = rt->soon_head;
    rt->soon_head = req->next;
    if (rt->soon_head == NULL)
      rt->soon_tail = NULL;
    rt->soon_count--;
    req->cb(req);
  }
  if (rt->soon_count == 0)
    uv_idle_stop(&rt->soon_idle);
}
