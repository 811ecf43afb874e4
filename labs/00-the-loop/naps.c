/* naps.c — lab 00: N sleeps at once, results in input order.
 *
 * Each nap's timer fires in delay order; its result is written at its input
 * index, so the array comes out aligned with the input, as gather's does.
 * done waits for the close callbacks, not for the timers: until a handle's
 * close callback has run, libuv still holds a pointer into its memory.
 */
#include <stdlib.h>

#include "naps.h"

static void trace(naps_t *g, const char *what, long id, long value)
{
  if (g->trace != NULL)
    ap_trace_add(g->trace, what, id, value);
}

/* $begin naps-on-closed */
static void on_closed(uv_handle_t *handle)
{
  nap_t *nap = AP_CONTAINER_OF(handle, nap_t, timer);
  naps_t *g = nap->owner;

  trace(g, "closed", (long) nap->index, 0);
  // TODO: count this close; after the last one free g->naps, then trace
  // "done" (id 0, value 0) and call done.
  AP_TODO();
}
/* $end naps-on-closed */

/* $begin naps-on-wake */
static void on_wake(uv_timer_t *timer)
{
  nap_t *nap = AP_CONTAINER_OF(timer, nap_t, timer);
  naps_t *g = nap->owner;

  trace(g, "wake", (long) nap->index, (long) g->woken);
  // TODO: record this nap's rank at its input index, then close its timer
  // with on_closed as its close callback.
  (void) on_closed;
  AP_TODO();
}
/* $end naps-on-wake */

static void deliver_empty(ap_soon_t *soon)
{
  naps_t *g = AP_CONTAINER_OF(soon, naps_t, soon);

  trace(g, "done", 0, 0);
  g->done(g, 0);
}

/* $begin naps-gather */
int naps_gather(uv_loop_t *loop, naps_t *g, const uint64_t *delays_ms, long *results, size_t n,
                naps_done_cb done)
{
  // TODO: check the arguments, then start one timer per delay, in input order,
  // tracing "start" (id i, value the delay) for each (see naps.h).
  (void) loop, (void) g, (void) delays_ms, (void) results, (void) n, (void) done;
  (void) on_wake, (void) deliver_empty;
  return AP_TODO();
}
/* $end naps-gather */
