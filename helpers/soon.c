/* soon.c — the call-soon queue (ap_soon) and hand-offs (ap_defer).
 *
 * An unreferenced check handle drains the queue after each poll; an idle
 * handle is active only while the queue is non-empty, which both keeps the
 * loop alive and makes the poll return at once. Each drain runs only the
 * callbacks queued before it started: a callback that queues another one
 * defers it to the next turn, so chains never deepen the stack.
 *
 * Hand-offs: while a call-soon callback runs, the check handle's data points
 * to the drain's hand-off list (on the drain's stack), where ap_defer
 * appends. The drain runs that list as soon as the callback returns, with
 * data reset, so that what a deferred callback hands off goes to the next
 * turn. One level deep: a drain runs its batch and what each of those
 * callbacks handed off, never an unbounded chain, so I/O still gets its turn.
 */
#include "ap.h"
#include "internal.h"

typedef struct handoffs {
  ap_soon_t *head;
  ap_soon_t **tail; /* &head, or &next of the last one */
} handoffs_t;

void ap_soon(uv_loop_t *loop, ap_soon_t *req, ap_soon_cb cb)
{
  ap_rt_t *rt = loop->data; /* ap_rt_of(loop), without a call per callback */

  req->cb = cb;
  req->next = NULL;
  if (rt->soon_tail != NULL)
    rt->soon_tail->next = req;
  else
    rt->soon_head = req;
  rt->soon_tail = req;
  /* A drain stops the idle handle when it leaves the queue empty, so the
   * handle is active exactly when the queue was not empty before. */
  if (rt->soon_count++ == 0)
    uv_idle_start(&rt->soon_idle, ap__soon_idle_cb);
}

void ap_defer(uv_loop_t *loop, ap_soon_t *req, ap_soon_cb cb)
{
  ap_rt_t *rt = loop->data;
  handoffs_t *h = rt->soon_check.data;

  if (h == NULL) {
    ap_soon(loop, req, cb); /* not inside a call-soon callback */
    return;
  }
  req->cb = cb;
  req->next = NULL;
  *h->tail = req;
  h->tail = &req->next;
}

size_t ap_soon_pending(uv_loop_t *loop)
{
  return ap_rt_of(loop)->soon_count;
}

void ap__soon_idle_cb(uv_idle_t *idle)
{
  (void) idle; /* only here so that the poll does not block */
}

static ap_soon_t *pop(ap_rt_t *rt)
{
  ap_soon_t *req = rt->soon_head;

  rt->soon_head = req->next;
  if (rt->soon_head == NULL)
    rt->soon_tail = NULL;
  rt->soon_count--;
  return req;
}

/* What the last callback handed off. They run with check->data set back to
 * outer, so that their own hand-offs go to the next turn. */
static void run_handoffs(uv_check_t *check, handoffs_t *h, void *outer)
{
  ap_soon_t *req = h->head;

  h->head = NULL;
  h->tail = &h->head;
  check->data = outer;
  while (req != NULL) {
    ap_soon_t *next = req->next; /* req may be reused by its callback */
    req->cb(req);
    req = next;
  }
  check->data = h;
}

void ap__soon_check_cb(uv_check_t *check)
{
  ap_rt_t *rt = AP_CONTAINER_OF(check, ap_rt_t, soon_check);
  size_t batch = rt->soon_count;
  handoffs_t h = {NULL, &h.head};
  void *outer = check->data; /* a uv_run nested in a callback drains too */

  /* Most callbacks hand nothing off: the list is looked at, not run. */
  check->data = &h;
  while (batch-- > 0) {
    ap_soon_t *req = pop(rt);
    req->cb(req);
    if (h.head != NULL)
      run_handoffs(check, &h, outer);
  }
  check->data = outer;
  if (rt->soon_count == 0)
    uv_idle_stop(&rt->soon_idle);
}
