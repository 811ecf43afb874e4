/* queue.c — lab 02: as_completed, a completion queue with progress and a
 * timeout.
 *
 * Producers and the consumer never meet: co_complete only puts the
 * operation's report at the tail of a FIFO and queues a drain with ap_soon;
 * the drain, on a later turn, hands the reports to consume in the order they
 * were queued, which is the order the operations ended. So consume never runs
 * inside an operation's callback, and a burst of completions in one turn is
 * handed over in one drain.
 *
 * Every operation gets exactly one report: its result, or UV_ETIMEDOUT if
 * the timeout came first. The progress count k is the number of reports
 * handed over, so it goes 1, 2, ..., n whatever happens.
 *
 * Ownership: the queue owns its timeout timer from co_as_completed until the
 * timer's close callback, and the batch's completions until done. done waits
 * for three things: every operation ended, every report consumed, the timer
 * closed. A late operation (after the timeout) still holds its completion,
 * which is why done waits for it even though nobody wants its result.
 */
#include "co.h"

static void push(co_queue_t *q, co_completion_t *c)
{
  c->next = NULL;
  if (q->tail != NULL)
    q->tail->next = c;
  else
    q->head = c;
  q->tail = c;
}

static co_completion_t *pop(co_queue_t *q)
{
  co_completion_t *c = q->head;

  if (c != NULL) {
    q->head = c->next;
    if (q->head == NULL)
      q->tail = NULL;
  }
  return c;
}

/* Queues the one report of c; its status and value are already set. */
static void report(co_queue_t *q, co_completion_t *c)
{
  c->reported = 1;
  q->queued++;
  push(q, c);
}

static void drain(ap_soon_t *soon);

static void schedule_drain(co_queue_t *q)
{
  if (q->drain_pending)
    return;
  q->drain_pending = 1;
  ap_soon(q->batch.loop, &q->drain, drain);
}

static void maybe_finish(co_queue_t *q);

static void on_timer_closed(uv_handle_t *handle)
{
  co_queue_t *q = AP_CONTAINER_OF(handle, co_queue_t, timer);

  q->timer_live = 0;
  maybe_finish(q);
}

/* Safe to call more than once, and when there is no timer. */
static void close_timer(co_queue_t *q)
{
  if (q->timer_live && !uv_is_closing((uv_handle_t *) &q->timer))
    uv_close((uv_handle_t *) &q->timer, on_timer_closed);
}

/* $begin queue-on-end */
static void queue_on_end(co_batch_t *b, co_completion_t *c, int status, long value)
{
  co_queue_t *q = AP_CONTAINER_OF(b, co_queue_t, batch);

  // TODO: co.h, co_as_completed: one report per operation, never overwritten by a
  // late result; consume never runs inside co_complete (#completion-queue,
  // #timeouts).
  AP_TODO();
}
/* $end queue-on-end */

/* $begin queue-drain */
static void drain(ap_soon_t *soon)
{
  co_queue_t *q = AP_CONTAINER_OF(soon, co_queue_t, drain);
  co_completion_t *c;

  q->drain_pending = 0;
  // TODO: co.h, co_item_t: reports in completion order, k counting 1 to n
  // (#progress).
  AP_TODO();
}
/* $end queue-drain */

/* $begin queue-finish */
static void maybe_finish(co_queue_t *q)
{
  // TODO: co.h, co_as_completed: done comes once, after everything that points into
  // the queue is finished (#all-done).
  AP_TODO();
}
/* $end queue-finish */

/* $begin queue-on-timeout */
static void cancel_pending(co_queue_t *q)
{
  co_batch_t *b = &q->batch;

  for (size_t i = 0; i < b->n; i++)
    if (!b->ops[i].ended)
      (void) b->kind.cancel(b->loop, i, b->kind.ctx, &b->ops[i]);
}

static void on_timeout(uv_timer_t *timer)
{
  co_queue_t *q = AP_CONTAINER_OF(timer, co_queue_t, timer);

  // TODO: co.h, the timeout: every pending operation's report, in input order, and
  // the policy (#timeouts).
  AP_TODO();
}
/* $end queue-on-timeout */

static int check_args(const co_kind_t *kind, const co_timeout_t *timeout, co_consume_cb consume,
                      co_queue_cb done)
{
  if (kind == NULL || kind->start == NULL || consume == NULL || done == NULL)
    return UV_EINVAL;
  if (timeout == NULL)
    return 0;
  if (timeout->policy != CO_KEEP_RUNNING && timeout->policy != CO_CANCEL)
    return UV_EINVAL;
  if (timeout->policy == CO_CANCEL && kind->cancel == NULL)
    return UV_EINVAL;
  return 0;
}

static void queue_reset(co_queue_t *q, co_consume_cb consume, co_queue_cb done)
{
  q->timed_out = 0;
  q->head = q->tail = NULL;
  q->queued = q->consumed = 0;
  q->consume = consume;
  q->done = done;
  q->policy = CO_KEEP_RUNNING;
  q->timer_live = 0;
  q->drain_pending = 0;
}

/* $begin co-as-completed */
int co_as_completed(uv_loop_t *loop, co_queue_t *q, const co_kind_t *kind, size_t n,
                    const co_timeout_t *timeout, co_consume_cb consume, co_queue_cb done)
{
  // TODO: co.h, co_as_completed: its arguments, the timeout and its timer
  // (#timeouts, #all-done).
  return AP_TODO();
}
/* $end co-as-completed */
