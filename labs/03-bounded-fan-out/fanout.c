/* fanout.c — lab 03: fetch_all and the bounded stream, on the semaphore.
 *
 * A task is one item's claim: a waiter for the permit and the operation it
 * guards. fetch_all creates all n tasks at once and queues n waiters, and
 * releases each permit in the operation's completion, whatever its status:
 * a failure that kept its permit would shrink the limit by one for good,
 * and after `limit` failures nothing would ever run again.
 *
 * The stream's tasks are slots: one is made only for a permit that no slot
 * holds (so never more than limit), and it takes an item from the source
 * only while it holds a permit. When the item ends, success or failure, the
 * slot keeps the permit for the next item (nobody else can wait on the
 * stream's own semaphore) and takes it on a hand-off; after the end of the
 * source it gives the permit back.
 *
 * An operation may complete inside start. So after calling start, code
 * here must not touch a fetch's task, and must not touch the fetch either
 * when that could have been the last item (done may have freed it). A slot
 * and its stream live until the end of the source.
 */
#include <stdlib.h>

#include "fanout.h"

struct bf_task {
  bf_waiter_t waiter;     /* waiter.data: the fetch or stream */
  bf_op_t op;
  size_t index;           /* position in the input (fetch_all) */
};

void bf_op_done(bf_op_t *op, int status, long value)
{
  op->done(op, status, value);
}

static void task_init(struct bf_task *t, void *owner, uv_loop_t *loop, void *ctx,
                      void (*done)(bf_op_t *, int, long))
{
  t->waiter.data = owner;
  t->op.ctx = ctx;
  t->op.loop = loop;
  t->op.done = done;
}

/* ---- fetch_all ---------------------------------------------------------- */

static int first_failure(const bf_fetch_t *f)
{
  for (size_t i = 0; i < f->n; i++)
    if (f->results[i].status != 0)
      return f->results[i].status;
  return 0;
}

static void fetch_finish(bf_fetch_t *f)
{
  /* Every waiter released, every op done: nothing points into tasks. */
  free(f->tasks);
  f->tasks = NULL;
  f->done(f, first_failure(f));
}

static void fetch_deliver_empty(ap_soon_t *soon)
{
  fetch_finish(AP_CONTAINER_OF(soon, bf_fetch_t, soon));
}

/* $begin fetch-op-done */
static void fetch_op_done(bf_op_t *op, int status, long value)
{
  struct bf_task *t = AP_CONTAINER_OF(op, struct bf_task, op);
  bf_fetch_t *f = t->waiter.data;

  // TODO: store the outcome at the item's index, give the permit back
  // (whatever the status), and finish after the last item.
  (void) f, (void) status, (void) value, (void) fetch_finish;
  AP_TODO();
}
/* $end fetch-op-done */

static void fetch_on_permit(bf_waiter_t *w, int status)
{
  struct bf_task *t = AP_CONTAINER_OF(w, struct bf_task, waiter);
  bf_fetch_t *f = w->data;

  (void) status; /* fetch_all never cancels its waiters */
  f->start(&t->op);
}

static int fetch_check(const long *items, size_t n, long limit, bf_start_fn start,
                       bf_result_t *results, bf_fetch_cb done)
{
  if (limit < 1 || start == NULL || done == NULL)
    return UV_EINVAL;
  if (n > 0 && (items == NULL || results == NULL))
    return UV_EINVAL;
  return 0;
}

/* $begin fetch-all */
int bf_fetch_all(uv_loop_t *loop, bf_fetch_t *f, const long *items, size_t n, long limit,
                 bf_start_fn start, bf_result_t *results, bf_fetch_cb done)
{
  int err = fetch_check(items, n, limit, start, results, done);

  if (err != 0)
    return err;
  f->results = results;
  f->n = n;
  f->finished = 0;
  f->start = start;
  f->done = done;
  bf_sem_init(loop, &f->sem, limit);
  if (n == 0) {
    ap_soon(loop, &f->soon, fetch_deliver_empty);
    return 0;
  }
  // TODO: create one task per item (task_init, its item and index) and let
  // each one acquire the semaphore with fetch_on_permit as its callback.
  (void) task_init, (void) fetch_op_done, (void) fetch_on_permit;
  return AP_TODO();
}
/* $end fetch-all */

/* ---- the bounded stream -------------------------------------------------- */

/* The stream's task: made for a free permit, it keeps that permit from one
 * item to the next and gives it back only after the end of the source. */
struct bf_slot {
  struct bf_task task;
  ap_soon_t again;        /* takes the next item, once the last one's completion returned */
};

static void stream_fail(bf_stream_t *s, int status)
{
  if (status != 0 && s->status == 0)
    s->status = status;
}

/* No more items: the source ended or failed, or a slot could not be made. */
static void stream_end(bf_stream_t *s, int status)
{
  s->ended = 1;
  stream_fail(s, status);
}

/* After the end, each slot is freed as it comes back; the last one reports. */
static void stream_free_slot(bf_stream_t *s, struct bf_slot *slot)
{
  free(slot);
  if (--s->slots == 0)
    s->done(s, s->status);
}

static void stream_take(bf_stream_t *s, struct bf_slot *slot);

static void stream_again(ap_soon_t *soon)
{
  struct bf_slot *slot = AP_CONTAINER_OF(soon, struct bf_slot, again);

  stream_take(slot->task.waiter.data, slot);
}

/* $begin stream-op-done */
static void stream_op_done(bf_op_t *op, int status, long value)
{
  struct bf_slot *slot = AP_CONTAINER_OF(op, struct bf_slot, task.op);
  bf_stream_t *s = slot->task.waiter.data;

  if (s->each != NULL)
    s->each(s, op->item, status, value);
  stream_fail(s, status);
  s->finished++;
  // TODO: after the end of the source, give the permit back and free the slot;
  // else keep the permit and take the next item on a hand-off (ap_defer with
  // stream_again), never in here.
  (void) stream_again;
  AP_TODO();
}
/* $end stream-op-done */

static void stream_on_permit(bf_waiter_t *w, int status);

/* $begin stream-reserve */
/* A new slot, with no item yet, queues for a permit: an item is taken from
 * the source only once the slot holds one. */
static int stream_reserve(bf_stream_t *s)
{
  // TODO: allocate a slot (task_init on its task, with stream_op_done), count
  // it, and let it acquire the semaphore with stream_on_permit. No item yet!
  (void) s, (void) stream_op_done, (void) stream_on_permit;
  return AP_TODO();
}
/* $end stream-reserve */

/* $begin stream-take */
/* slot holds a permit: only now is an item taken from the source. */
static void stream_take(bf_stream_t *s, struct bf_slot *slot)
{
  bf_op_t *op = &slot->task.op;
  int err;

  // TODO: take the next item from the source. At its end, give the permit
  // back and free the slot; else start the operation, then reserve a new
  // slot if a permit is still free.
  (void) s, (void) slot, (void) op, (void) err, (void) stream_end;
  (void) stream_free_slot, (void) stream_reserve;
  AP_TODO();
}
/* $end stream-take */

static void stream_on_permit(bf_waiter_t *w, int status)
{
  (void) status; /* the stream never cancels its waiters */
  stream_take(w->data, AP_CONTAINER_OF(w, struct bf_slot, task.waiter));
}

int bf_stream_start(uv_loop_t *loop, bf_stream_t *s, long limit, bf_next_fn next,
                    bf_start_fn start, bf_each_cb each, bf_stream_cb done)
{
  if (limit < 1 || next == NULL || start == NULL || done == NULL)
    return UV_EINVAL;
  bf_sem_init(loop, &s->sem, limit);
  s->next = next;
  s->start = start;
  s->each = each;
  s->done = done;
  s->started = s->finished = 0;
  s->ended = 0;
  s->status = 0;
  s->slots = 0;
  return stream_reserve(s);
}
