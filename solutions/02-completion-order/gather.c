/* gather.c — lab 02: every result, aligned with the input.
 *
 * Each result is written at its operation's index, so the order in which the
 * operations end does not show in results[]. A failure is one more result:
 * the others still land in their slots, and done waits for all of them (the
 * policy of asyncio's gather(..., return_exceptions=True)). done is queued
 * with ap_soon, so it never runs inside co_complete or inside co_gather,
 * even when every start failed or n is 0.
 */
#include <stdlib.h>

#include "co.h"

static void deliver(ap_soon_t *soon)
{
  co_gather_t *g = AP_CONTAINER_OF(soon, co_gather_t, soon);

  co__batch_free(&g->batch);
  g->done(g);
}

/* $begin gather-on-end */
static void gather_on_end(co_batch_t *b, co_completion_t *c, int status, long value)
{
  co_gather_t *g = AP_CONTAINER_OF(b, co_gather_t, batch);

  /* SOLUTION BEGIN */
  g->results[c->index].status = status;
  g->results[c->index].value = value;
  if (status != 0)
    g->failed++;
  if (b->ended == b->n)
    ap_soon(b->loop, &g->soon, deliver);
  /* SOLUTION END */
  /* STARTER: // TODO: co.h, co_gather: results aligned with the input, failures counted, done */
  /* STARTER: // later and never inside co_complete (#gather, #failures). */
  /* STARTER: AP_TODO(); */
}
/* $end gather-on-end */

/* $begin co-gather */
int co_gather(uv_loop_t *loop, co_gather_t *g, const co_kind_t *kind, size_t n,
              co_result_t *results, co_gather_cb done)
{
  /* SOLUTION BEGIN */
  int err;

  if (kind == NULL || kind->start == NULL || done == NULL || (n > 0 && results == NULL))
    return UV_EINVAL;
  err = co__batch_init(&g->batch, loop, kind, n, gather_on_end);
  if (err != 0)
    return err;
  g->results = results;
  g->done = done;
  g->failed = 0;
  if (n == 0)
    ap_soon(loop, &g->soon, deliver); /* nothing will ever end: report later */
  else
    co__batch_start(&g->batch);
  return 0;
  /* SOLUTION END */
  /* STARTER: // TODO: co.h, co_gather: its arguments, n == 0, and done on a later turn */
  /* STARTER: // (#gather). */
  /* STARTER: return AP_TODO(); */
}
/* $end co-gather */
