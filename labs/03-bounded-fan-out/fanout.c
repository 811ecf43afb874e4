/* fanout.c — lab 03: the bounded stream, and fetch_all as a stream over a list.
 *
 * The stream's unit of work is a slot: a waiter that holds one permit and
 * the operation it guards. A slot is made only for a permit that no slot
 * holds (so never more than limit), and it takes an item from the source
 * only while it holds its permit. When the item ends, success or failure,
 * the slot keeps the permit for the next item (nobody else can wait on the
 * stream's own semaphore) and takes it (see below for where); after the end
 * of the source it gives the permit back. A failure must not stop a slot: its
 * permit would be lost, the limit one smaller for good, and after `limit`
 * failures nothing would run again.
 *
 * fetch_all is the same machine over a list: its source hands out
 * items[k] in input order, and its outcomes are stored at op->index. So a
 * list of a million items costs `limit` slots, not a million tasks.
 *
 * An operation may complete inside start. Then the slot must not take the
 * next item in that call (each item would nest in the one before): it
 * hands the step off. An operation that ends later, from a callback of its
 * own, lets its slot go on right there. Code here must not touch the stream
 * once done may have run (done may free it). A slot and its stream live
 * until the end of the source.
 */
#include <stdlib.h>

#include "fanout.h"

struct bf_slot {
  bf_waiter_t waiter; /* holds the slot's permit; waiter.data: the stream */
  bf_op_t op;         /* the item the slot works on now */
  ap_soon_t again;    /* takes the next item, once the last one's completion returned */
  int starting;       /* 1 while start(op) runs: a completion now is inside it */
};

void bf_op_done(bf_op_t *op, int status, long value)
{
  op->done(op, status, value);
}

/* ---- the bounded stream -------------------------------------------------- */

/* The stream's outcome when it runs over a source: the caller's each sees it. */
static void stream_each(bf_stream_t *s, const bf_op_t *op, int status, long value)
{
  if (s->each != NULL)
    s->each(s, op->item, status, value);
}

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

  stream_take(slot->waiter.data, slot);
}

/* $begin stream-op-done */
static void stream_op_done(bf_op_t *op, int status, long value)
{
  struct bf_slot *slot = AP_CONTAINER_OF(op, struct bf_slot, op);
  bf_stream_t *s = slot->waiter.data;

  s->outcome(s, op, status, value);
  stream_fail(s, status);
  s->finished++;
  // TODO: fanout.h, the stream: an item's end never costs its slot the permit, and
  // never runs the next item inside start (#limiting-creation, #later-turns).
  AP_TODO();
}
/* $end stream-op-done */

static void stream_on_permit(bf_waiter_t *w, int status);

/* $begin stream-reserve */
/* A new slot, with no item yet, queues for a permit: an item is taken from
 * the source only once the slot holds one. */
static int stream_reserve(bf_stream_t *s)
{
  // TODO: fanout.h, the stream: a slot takes an item only once it holds a permit
  // (#limiting-creation); allocation failures as in fanout.h.
  return AP_TODO();
}
/* $end stream-reserve */

/* $begin stream-take */
/* slot holds a permit: only now is an item taken from the source. Every
 * job passes here from stream_op_done: inline lets the compiler fold the
 * two into one function. */
static inline void stream_take(bf_stream_t *s, struct bf_slot *slot)
{
  bf_op_t *op = &slot->op;
  int err;

  // TODO: fanout.h, the stream: at most limit items alive, each numbered in the
  // order taken; new slots only while permits are free (#limiting-creation).
  AP_TODO();
}
/* $end stream-take */

static void stream_on_permit(bf_waiter_t *w, int status)
{
  (void) status; /* the stream never cancels its waiters */
  stream_take(w->data, AP_CONTAINER_OF(w, struct bf_slot, waiter));
}

/* Both fan-outs start here, with s's source set and its counters zeroed:
 * one slot, which queues for a permit. */
static int stream_launch(uv_loop_t *loop, bf_stream_t *s, long limit)
{
  bf_sem_init(loop, &s->sem, limit);
  return stream_reserve(s);
}

int bf_stream_start(uv_loop_t *loop, bf_stream_t *s, long limit, bf_next_fn next, bf_start_fn start,
                    bf_each_cb each, bf_stream_cb done)
{
  if (limit < 1 || next == NULL || start == NULL || done == NULL)
    return UV_EINVAL;
  *s = (bf_stream_t){.data = s->data,
                     .next = next,
                     .start = start,
                     .each = each,
                     .outcome = stream_each,
                     .done = done};
  return stream_launch(loop, s, limit);
}

/* ---- fetch_all: the stream over a list ------------------------------------- */

/* $begin fetch-next */
/* The list as the stream's source. Only a slot that holds a permit calls
 * it, so items[k] is read when its operation can start, not before. */
static int fetch_next(bf_stream_t *s, long *item)
{
  bf_fetch_t *f = AP_CONTAINER_OF(s, bf_fetch_t, stream);

  // TODO: fanout.h, bf_fetch_all: the list as a source, in input order;
  // s->started is read-only (#fetch-all).
  return AP_TODO();
}
/* $end fetch-next */

/* $begin fetch-store */
/* Where the list's outcomes go: items end in any order, op->index says where
 * this one was in the list. */
static void fetch_store(bf_stream_t *s, const bf_op_t *op, int status, long value)
{
  bf_fetch_t *f = AP_CONTAINER_OF(s, bf_fetch_t, stream);

  // TODO: fanout.h, bf_fetch_all: results in input order; done reports the first
  // failure in input order (#fetch-all).
  AP_TODO();
}
/* $end fetch-store */

/* The stream's done: every item taken has ended. */
static void fetch_streamed(bf_stream_t *s, int status)
{
  bf_fetch_t *f = AP_CONTAINER_OF(s, bf_fetch_t, stream);
  size_t taken = (size_t) s->started;

  (void) status; /* the first failure seen; fetch_all reports in input order */
  /* The list never fails: only a slot that could not be allocated ends the
   * stream early. The items it never took failed with that. */
  for (size_t k = taken; k < f->n; k++)
    f->results[k] = (bf_result_t){.status = UV_ENOMEM};
  if (taken < f->failed_at)
    f->failed_at = taken;
  f->done(f, f->failed_at < f->n ? f->results[f->failed_at].status : 0);
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
  f->items = items;
  f->results = results;
  f->n = n;
  f->failed_at = n;
  f->done = done;
  /* The stream's machine over the list: n items, limit slots. */
  f->stream = (bf_stream_t){.data = f->data,
                            .next = fetch_next,
                            .start = start,
                            .outcome = fetch_store,
                            .done = fetch_streamed};
  return stream_launch(loop, &f->stream, limit);
}
/* $end fetch-all */
