/* naps.h — lab 00: start N async sleeps at once and gather their results in
 * input order, closing every timer before reporting.
 *
 * The asyncio version:
 *     results = await asyncio.gather(*(nap(ms) for ms in delays))
 *
 * Contract (each clause has a graded test that names it: tools/clauses.sh):
 *  [naps.1] naps_gather() starts one timer per delay, in input order, before
 *           it returns, and never runs the loop.
 *  [naps.2] results[i] is the rank at which nap i woke, 0 first: timers fire
 *           in delay order, equal delays in start order.
 *  [naps.3] done runs exactly once, with status 0, on a later loop turn,
 *           after every timer has been closed and the lab's own memory
 *           freed: done may free g and results.
 *  [naps.4] With n == 0 there is no timer, and done still runs on a later
 *           turn, never inside naps_gather().
 *  [naps.5] naps_gather() returns UV_EINVAL when done is NULL, or n > 0 with
 *           delays_ms or results NULL; UV_ENOMEM when memory runs out. On an
 *           error done is never called and nothing is left open or allocated.
 *  [naps.6] The caller sets data and trace; naps_gather() sets every private
 *           field, whatever they held (a g that already gathered once, once
 *           its done ran, may gather again).
 *  [naps.7] The trace events below, when g->trace is set.
 */
#ifndef NAPS_H
#define NAPS_H

#include "ap.h"

typedef struct naps naps_t;
typedef void (*naps_done_cb)(naps_t *g, int status);

/* $begin naps-types */
/* One sleep: a timer handle plus where its result goes. The nap owns its
 * timer until the timer's close callback has run. */
typedef struct nap {
  uv_timer_t timer;
  naps_t *owner;
  size_t index; /* position in the input */
} nap_t;

struct naps {
  void *data;        /* yours */
  ap_trace_t *trace; /* optional (the grader sets one): see the trace events below */
  /* private */
  long *results; /* results[i]: the rank at which nap i woke, 0 first */
  size_t n;
  nap_t *naps;   /* n naps, freed after the last close callback */
  size_t woken;  /* timers that fired so far */
  size_t closed; /* close callbacks that ran so far */
  naps_done_cb done;
  ap_soon_t soon; /* delivers done when n == 0 */
};
/* $end naps-types */

/* Trace events, when g->trace is set (the grader reads them): "start" (id
 * i, value its delay) as nap i's timer starts, "wake" and "closed" (given),
 * and "done" (id 0) right before done is called.
 *
 * Starts one timer per delay. results must hold n entries.
 * Returns 0, UV_EINVAL or UV_ENOMEM ([naps.5]). */
int naps_gather(uv_loop_t *loop, naps_t *g, const uint64_t *delays_ms, long *results, size_t n,
                naps_done_cb done);

#endif /* NAPS_H */
