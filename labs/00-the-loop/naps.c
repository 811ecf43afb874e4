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
  // TODO: after the last close, and only then: free what naps_gather made, trace
  // "done", then done ([naps.3], naps.h; read #the-close-protocol).
  AP_TODO();
}
/* $end naps-on-closed */

/* $begin naps-on-wake */
static void on_wake(uv_timer_t *timer)
{
  nap_t *nap = AP_CONTAINER_OF(timer, nap_t, timer);
  naps_t *g = nap->owner;

  trace(g, "wake", (long) nap->index, (long) g->woken);
  // TODO: [naps.2]: the nap's rank at its input index; its timer must then be closed
  // (#async-sleep, #the-close-protocol).
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
  // TODO: naps_gather's contract in naps.h: [naps.1], [naps.4] to [naps.7]
  // (#gathering-in-input-order).
  return AP_TODO();
}
/* $end naps-gather */
