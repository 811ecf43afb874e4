/* order.c — benchmark 2: n operations, results in input order (gather) or
 * in completion order (as_completed).
 *
 *   build/bench/bin/order gather|as_completed|raw [N]
 *
 * gather and as_completed are lab 02's reference solution (co_gather,
 * co_as_completed without a timeout). raw is plain libuv: the n operations
 * complete on a later turn from a check+idle queue written here, and each
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

typedef struct run {
  size_t n;
  size_t consumed;        /* as_completed: reports seen, in k order */
  bench_mark_t t0;
  bench_mark_t t1;
  ap_soon_t *soons;       /* the operations (lab variants) */
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

/* ---- raw libuv: the operations' own check+idle queue ------------------------------ */

typedef struct rop rop_t;
struct rop {
  rop_t *next;
  size_t index;
};

typedef struct raw {
  uv_check_t check;
  uv_idle_t idle;
  rop_t *head;
  rop_t *tail;
  size_t queued;
  size_t finished;
  size_t n;
  long *results;
  void (*consume)(struct raw *q, size_t index, long value);
  size_t consumed;
  bench_mark_t t1;
} raw_t;

static void raw_idle(uv_idle_t *idle)
{
  (void) idle;
}

static void raw_start(raw_t *q, rop_t *op)
{
  op->next = NULL;
  if (q->tail != NULL)
    q->tail->next = op;
  else
    q->head = op;
  q->tail = op;
  if (q->queued++ == 0)
    uv_idle_start(&q->idle, raw_idle);
}

static void raw_consume(raw_t *q, size_t index, long value)
{
  if (value != (long) index)
    bench_die("raw: a wrong result", 0);
  q->consumed++;
}

static void raw_check(uv_check_t *check)
{
  raw_t *q = AP_CONTAINER_OF(check, raw_t, check);
  size_t batch = q->queued;

  while (batch-- > 0) {
    rop_t *op = q->head;
    q->head = op->next;
    if (q->head == NULL)
      q->tail = NULL;
    q->queued--;
    q->results[op->index] = (long) op->index;
    q->consume(q, op->index, (long) op->index);
    q->finished++;
  }
  if (q->queued == 0)
    uv_idle_stop(&q->idle);
  if (q->finished == q->n) {
    q->t1 = bench_mark();
    uv_close((uv_handle_t *) &q->check, NULL);
    uv_close((uv_handle_t *) &q->idle, NULL);
  }
}

static void bench_raw(run_t *r)
{
  uv_loop_t loop;
  raw_t q;
  rop_t *ops = calloc(r->n, sizeof(*ops));

  memset(&q, 0, sizeof(q));
  q.n = r->n;
  q.consume = raw_consume;
  if (ops == NULL || uv_loop_init(&loop) != 0)
    bench_die("raw setup", UV_ENOMEM);
  uv_check_init(&loop, &q.check);
  uv_idle_init(&loop, &q.idle);
  uv_check_start(&q.check, raw_check);
  uv_unref((uv_handle_t *) &q.check);
  r->t0 = bench_mark();
  q.results = malloc(r->n * sizeof(*q.results));
  if (q.results == NULL)
    bench_die("raw results", UV_ENOMEM);
  for (size_t i = 0; i < r->n; i++) {
    ops[i].index = i;
    raw_start(&q, &ops[i]);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  r->t1 = q.t1;
  if (uv_loop_close(&loop) != 0 || q.consumed != q.n)
    bench_die("raw: the loop did not end clean", 0);
  free(q.results);
  free(ops);
}

int main(int argc, char **argv)
{
  run_t r;
  co_kind_t kind = { op_start, NULL, NULL };
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
