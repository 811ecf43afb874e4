/* batch.c — lab 02: what gather and as_completed share. Given; nothing to
 * write here.
 *
 * A batch owns one co_completion_t per operation, in one array indexed like
 * the input: an operation's completion knows its index, so whoever receives
 * it (gather or the completion queue) knows where the result belongs.
 * The array lives until co__batch_free: operations hold pointers into it
 * until they call co_complete, so it is freed only after the last one did.
 */
#include <stdlib.h>

#include "co.h"

int co__batch_init(co_batch_t *b, uv_loop_t *loop, const co_kind_t *kind, size_t n,
                   co_end_fn on_end)
{
  b->loop = loop;
  b->kind = *kind;
  b->n = n;
  b->ended = 0;
  b->on_end = on_end;
  b->ops = NULL;
  if (n == 0)
    return 0;
  b->ops = calloc(n, sizeof(*b->ops));
  if (b->ops == NULL)
    return UV_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    b->ops[i].index = i;
    b->ops[i].batch = b;
  }
  return 0;
}

/* $begin co-batch-start */
void co__batch_start(co_batch_t *b)
{
  for (size_t i = 0; i < b->n; i++) {
    co_completion_t *c = &b->ops[i];
    int err = b->kind.start(b->loop, i, b->kind.ctx, c);

    /* It never started, so it will never complete: its error is its result. */
    if (err != 0)
      co_complete(c, err, 0);
  }
}

void co_complete(co_completion_t *c, int status, long value)
{
  co_batch_t *b = c->batch;

  c->ended = 1;
  b->ended++;
  b->on_end(b, c, status, value);
}
/* $end co-batch-start */

void co__batch_free(co_batch_t *b)
{
  free(b->ops);
  b->ops = NULL;
}
