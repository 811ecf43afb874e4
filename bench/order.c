/* order.c — benchmark 2: n operations, results in input order (gather) or
 * in completion order (as_completed).
 *
 *   build/bench/bin/order gather|as_completed|raw [N]
 *
 * gather and as_completed are lab 02's reference solution (co_gather,
 * co_as_completed without a timeout). raw is plain libuv: the n operations
 * complete on a later turn from a check+idle queue (bench/rawq.h), and each
 * result is stored at its index and handed to a consumer, with no generic
 * operation interface and no completion queue of the lab's.
 *
 * Every operation completes on the turn after it started, all n at once:
 * what is measured is the bookkeeping per operation, not any waiting. The
 * operations' own storage (one call-soon request each) is allocated before
 * the clock starts, for every variant alike.
 *
 * Prints one bench.h line (BENCH_COLUMNS), param = 0.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "co.h"
#include "rawq.h"

typedef struct run {
  size_t n;
  size_t consumed; /* as_completed: reports seen, in k order */
  bench_mark_t t0;
  bench_mark_t t1;
  ap_soon_t *soons; /* the operations (lab variants) */
} run_t;

/* ---- The operation: completes on the next turn, value = its index ----------- */

static void op_fire(ap_soon_t *soon)
{
  co_completion_t *c = soon->data;

  co_complete(c, 0, (long) c->index);
}

static int op_start(uv_loop_t *loop, size_t index, void *ctx, co_completion_t *c)
{
  run_t *r = ctx;

  r->soons[index].data = c;
  ap_soon(loop, &r->soons[index], op_fire);
  return 0;
}

/* ---- gather -------------------------------------------------------------------- */

static void on_gathered(co_gather_t *g)
{
  run_t *r = g->data;

  r->t1 = bench_mark();
  if (g->failed != 0)
    bench_die("gather: failed operations", 0);
}

static void bench_gather(run_t *r, const co_kind_t *kind)
{
  ap_rt_t rt;
  co_gather_t g;
  co_result_t *results = malloc(r->n * sizeof(*results));
  int err;

  if (results == NULL || (err = ap_rt_init(&rt)) != 0)
    bench_die("gather setup", UV_ENOMEM);
  memset(&g, 0, sizeof(g));
  g.data = r;
  r->t0 = bench_mark();
  err = co_gather(&rt.loop, &g, kind, r->n, results, on_gathered);
  if (err != 0)
    bench_die("co_gather", err);
  bench_run_and_close(&rt);
  for (size_t i = 0; i < r->n; i++)
    if (results[i].status != 0 || results[i].value != (long) i)
      bench_die("gather: a wrong result", 0);
  free(results);
}

/* ---- as_completed -------------------------------------------------------------- */

static void on_item(co_queue_t *q, const co_item_t *item)
{
  run_t *r = q->data;

  if (item->status != 0 || item->k != ++r->consumed)
    bench_die("as_completed: a wrong report", item->status);
}

static void on_all_completed(co_queue_t *q)
{
  run_t *r = q->data;

  r->t1 = bench_mark();
}

static void bench_as_completed(run_t *r, const co_kind_t *kind)
{
  ap_rt_t rt;
  co_queue_t q;
  int err;

  if ((err = ap_rt_init(&rt)) != 0)
    bench_die("ap_rt_init", err);
  memset(&q, 0, sizeof(q));
  q.data = r;
  r->t0 = bench_mark();
  err = co_as_completed(&rt.loop, &q, kind, r->n, NULL, on_item, on_all_completed);
  if (err != 0)
    bench_die("co_as_completed", err);
  bench_run_and_close(&rt);
  if (r->consumed != r->n)
    bench_die("as_completed: reports missing", 0);
}

/* ---- raw libuv: the operations' own check+idle queue (rawq.h) ------------------ */

typedef struct rop {
  rawq_node_t node; /* first: the queue's node is the operation */
  size_t index;
} rop_t;

typedef struct raw {
  rawq_t q;
  size_t finished;
  size_t n;
  long *results;
  void (*consume)(struct raw *r, size_t index, long value);
  size_t consumed;
  bench_mark_t t1;
} raw_t;

static void raw_consume(raw_t *r, size_t index, long value)
{
  if (value != (long) index)
    bench_die("raw: a wrong result", 0);
  r->consumed++;
}

static void raw_drain(uv_check_t *check)
{
  raw_t *r = AP_CONTAINER_OF(check, raw_t, q.check);
  size_t batch = rawq_batch(&r->q);

  while (batch-- > 0) {
    rop_t *op = (rop_t *) rawq_pop(&r->q);
    r->results[op->index] = (long) op->index;
    r->consume(r, op->index, (long) op->index);
    r->finished++;
  }
  if (rawq_settle(&r->q, r->finished == r->n))
    r->t1 = bench_mark();
}

static void bench_raw(run_t *run)
{
  uv_loop_t loop;
  raw_t r;
  rop_t *ops = calloc(run->n, sizeof(*ops));

  memset(&r, 0, sizeof(r));
  r.n = run->n;
  r.consume = raw_consume;
  if (ops == NULL || uv_loop_init(&loop) != 0)
    bench_die("raw setup", UV_ENOMEM);
  rawq_init(&loop, &r.q, raw_drain);
  run->t0 = bench_mark();
  r.results = malloc(run->n * sizeof(*r.results));
  if (r.results == NULL)
    bench_die("raw results", UV_ENOMEM);
  for (size_t i = 0; i < run->n; i++) {
    ops[i].index = i;
    rawq_push(&r.q, &ops[i].node);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  run->t1 = r.t1;
  if (uv_loop_close(&loop) != 0 || r.consumed != r.n)
    bench_die("raw: the loop did not end clean", 0);
  free(r.results);
  free(ops);
}

int main(int argc, char **argv)
{
  run_t r;
  co_kind_t kind = {op_start, NULL, NULL};
  const char *variant = argc > 1 ? argv[1] : "";

  bench_version_arg(argc, argv);
  memset(&r, 0, sizeof(r));
  r.n = (size_t) bench_arg(argc, argv, 2, 100000);
  kind.ctx = &r;
  r.soons = calloc(r.n, sizeof(*r.soons));
  if (r.soons == NULL)
    bench_die("operations", UV_ENOMEM);
  if (strcmp(variant, "gather") == 0)
    bench_gather(&r, &kind);
  else if (strcmp(variant, "as_completed") == 0)
    bench_as_completed(&r, &kind);
  else if (strcmp(variant, "raw") == 0)
    bench_raw(&r);
  else
    bench_die("usage: order gather|as_completed|raw [N]", 0);
  free(r.soons);
  bench_report("order", variant, 0, (long) r.n, r.t0, r.t1, NULL);
  return 0;
}
