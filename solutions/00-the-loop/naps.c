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
  /* SOLUTION BEGIN */
  if (++g->closed < g->n)
    return;
  /* Last close callback: libuv holds no pointer into g->naps any more. */
  free(g->naps);
  g->naps = NULL;
  trace(g, "done", 0, 0);
  g->done(g, 0);
  /* SOLUTION END */
  /* STARTER: // TODO: after the last close, and only then: free what naps_gather made, trace */
  /* STARTER: // "done", then done ([naps.3], naps.h; read #the-close-protocol). */
  /* STARTER: AP_TODO(); */
}
/* $end naps-on-closed */

/* $begin naps-on-wake */
static void on_wake(uv_timer_t *timer)
{
  nap_t *nap = AP_CONTAINER_OF(timer, nap_t, timer);
  naps_t *g = nap->owner;

  trace(g, "wake", (long) nap->index, (long) g->woken);
  /* SOLUTION BEGIN */
  g->results[nap->index] = (long) g->woken++;
  uv_close((uv_handle_t *) timer, on_closed);
  /* SOLUTION END */
  /* STARTER: // TODO: [naps.2]: the nap's rank at its input index; its timer must then be closed */
  /* STARTER: // (#async-sleep, #the-close-protocol). */
  /* STARTER: AP_TODO(); */
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
  /* SOLUTION BEGIN */
  if (done == NULL || (n > 0 && (delays_ms == NULL || results == NULL)))
    return UV_EINVAL;
  g->results = results;
  g->n = n;
  g->woken = g->closed = 0;
  g->done = done;
  if (n == 0) {
    /* Nothing to wait for, but done must still run later, never inside us. */
    ap_soon(loop, &g->soon, deliver_empty);
    return 0;
  }
  g->naps = calloc(n, sizeof(*g->naps));
  if (g->naps == NULL)
    return UV_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    nap_t *nap = &g->naps[i];
    nap->owner = g;
    nap->index = i;
    uv_timer_init(loop, &nap->timer);
    uv_timer_start(&nap->timer, on_wake, delays_ms[i], 0);
    trace(g, "start", (long) i, (long) delays_ms[i]);
  }
  return 0;
  /* SOLUTION END */
  /* STARTER: // TODO: naps_gather's contract in naps.h: [naps.1], [naps.4] to [naps.7] */
  /* STARTER: // (#gathering-in-input-order). */
  /* STARTER: return AP_TODO(); */
}
/* $end naps-gather */
