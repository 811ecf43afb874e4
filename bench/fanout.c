/* fanout.c — benchmark 1: n zero-delay jobs, at most limit at a time.
 *
 *   build/bench/bin/fanout fetch_all|stream|raw [N [LIMIT]]
 *
 * fetch_all and stream are lab 03's reference solution (bf_fetch_all: one
 * waiter per item created up front; bf_stream_start: creation bounded too).
 * raw is the lower limit of overhead: the same completion mechanism (each
 * job completes on a later loop turn, from a check+idle queue in plain
 * libuv, bench/rawq.h, as ap_soon does) with a plain in-flight counter instead
 * of the semaphore and no generic operation interface.
 *
 * A job is "an operation that completes on a later loop turn": the lab's
 * variants start it through ap_soon, the raw one through its own queue.
 * Both keep their in-flight jobs in a pool of limit slots, so neither pays
 * an allocation per job that the other does not.
 *
 * Prints one bench.h line (BENCH_COLUMNS), param = LIMIT.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "fanout.h"
#include "rawq.h"

/* ---- The zero-delay job, for the lab's variants ----------------------------- */

typedef struct zjob zjob_t;
struct zjob {
  ap_soon_t soon;
  bf_op_t *op;
  zjob_t *next_free;
};

/* One run: the job pool (limit slots), the stream's source, the clock. */
typedef struct run {
  long n;
  long limit;
  long next;              /* the stream's next item */
  bench_mark_t t0;
  bench_mark_t t1;        /* stamped by the done callback */
  zjob_t *slots;
  zjob_t *free;
} run_t;

static void pool_init(run_t *r)
{
  r->slots = calloc((size_t) r->limit, sizeof(*r->slots));
  if (r->slots == NULL)
    bench_die("job pool", UV_ENOMEM);
  r->free = NULL;
  for (long i = 0; i < r->limit; i++) {
    r->slots[i].next_free = r->free;
    r->free = &r->slots[i];
  }
}

static void zjob_fire(ap_soon_t *soon)
{
  zjob_t *z = AP_CONTAINER_OF(soon, zjob_t, soon);
  run_t *r = soon->data;
  bf_op_t *op = z->op;

  z->next_free = r->free;
  r->free = z;
  bf_op_done(op, 0, op->item);
}

/* A bf_start_fn: the job ends on a later turn. The semaphore never lets more
 * than limit jobs run at once, so the pool never runs dry. */
static void zjob_start(bf_op_t *op)
{
  run_t *r = op->ctx;
  zjob_t *z = r->free;

  r->free = z->next_free;
  z->op = op;
  z->soon.data = r;
  ap_soon(op->loop, &z->soon, zjob_fire);
}

/* ---- fetch_all ------------------------------------------------------------- */

static void on_fetched(bf_fetch_t *f, int status)
{
  run_t *r = f->data;

  r->t1 = bench_mark();
  if (status != 0)
    bench_die("fetch_all", status);
}

static void check_results(const bf_result_t *results, long n)
{
  for (long i = 0; i < n; i++)
    if (results[i].status != 0 || results[i].value != i)
      bench_die("a wrong result", 0);
}

/* The clock includes building the item list's tasks: fetch_all's cost. */
static void bench_fetch_all(run_t *r)
{
  ap_rt_t rt;
  bf_fetch_t f;
  long *items = malloc((size_t) r->n * sizeof(*items));
  bf_result_t *results = malloc((size_t) r->n * sizeof(*results));
  int err;

  if (items == NULL || results == NULL)
    bench_die("fetch_all arrays", UV_ENOMEM);
  for (long i = 0; i < r->n; i++)
    items[i] = i;
  if ((err = ap_rt_init(&rt)) != 0)
    bench_die("ap_rt_init", err);
  memset(&f, 0, sizeof(f));
  f.data = r;
  r->t0 = bench_mark();
  err = bf_fetch_all(&rt.loop, &f, items, (size_t) r->n, r->limit, zjob_start, results, on_fetched);
  if (err != 0)
    bench_die("bf_fetch_all", err);
  bench_run_and_close(&rt);
  check_results(results, r->n);
  free(items);
  free(results);
}

/* ---- the bounded stream ------------------------------------------------------ */

static int stream_next(bf_stream_t *s, long *item)
{
  run_t *r = s->data;

  if (r->next == r->n)
    return UV_EOF;
  *item = r->next++;
  return 0;
}

static void on_streamed(bf_stream_t *s, int status)
{
  run_t *r = s->data;

  r->t1 = bench_mark();
  if (status != 0 || s->finished != r->n)
    bench_die("stream", status);
}

static void bench_stream(run_t *r)
{
  ap_rt_t rt;
  bf_stream_t s;
  int err;

  if ((err = ap_rt_init(&rt)) != 0)
    bench_die("ap_rt_init", err);
  memset(&s, 0, sizeof(s));
  s.data = r;
  r->t0 = bench_mark();
  err = bf_stream_start(&rt.loop, &s, r->limit, stream_next, zjob_start, NULL, on_streamed);
  if (err != 0)
    bench_die("bf_stream_start", err);
  bench_run_and_close(&rt);
}

/* ---- raw libuv: a counter and a check+idle queue (rawq.h) ------------------- */

typedef struct rjob {
  rawq_node_t node;       /* first: the queue's node is the job */
  long item;
} rjob_t;

typedef struct raw {
  rawq_t q;
  long started;           /* items handed out */
  long finished;
  long n;
  bf_result_t *results;
  bench_mark_t t1;
} raw_t;

/* Starts the job: it will complete on the next turn. */
static void raw_start(raw_t *r, rjob_t *j, long item)
{
  j->item = item;
  rawq_push(&r->q, &j->node);
}

/* The job ended: store its result, and the slot takes the next item. */
static void raw_complete(raw_t *r, rjob_t *j)
{
  r->results[j->item].status = 0;
  r->results[j->item].value = j->item;
  r->finished++;
  if (r->started < r->n)
    raw_start(r, j, r->started++);
}

static void raw_drain(uv_check_t *check)
{
  raw_t *r = AP_CONTAINER_OF(check, raw_t, q.check);
  size_t batch = rawq_batch(&r->q);

  while (batch-- > 0)
    raw_complete(r, (rjob_t *) rawq_pop(&r->q));
  if (rawq_settle(&r->q, r->finished == r->n))
    r->t1 = bench_mark();
}

static void bench_raw(run_t *run)
{
  uv_loop_t loop;
  raw_t r;
  rjob_t *slots = calloc((size_t) run->limit, sizeof(*slots));

  memset(&r, 0, sizeof(r));
  r.n = run->n;
  r.results = malloc((size_t) run->n * sizeof(*r.results));
  if (slots == NULL || r.results == NULL || uv_loop_init(&loop) != 0)
    bench_die("raw setup", UV_ENOMEM);
  rawq_init(&loop, &r.q, raw_drain);
  run->t0 = bench_mark();
  for (long i = 0; i < run->limit && r.started < r.n; i++)
    raw_start(&r, &slots[i], r.started++);
  uv_run(&loop, UV_RUN_DEFAULT);
  run->t1 = r.t1;
  if (uv_loop_close(&loop) != 0 || r.finished != r.n)
    bench_die("raw: the loop did not end clean", 0);
  check_results(r.results, run->n);
  free(r.results);
  free(slots);
}

int main(int argc, char **argv)
{
  run_t r;
  const char *variant = argc > 1 ? argv[1] : "";

  bench_version_arg(argc, argv);
  memset(&r, 0, sizeof(r));
  r.n = bench_arg(argc, argv, 2, 1000000);
  r.limit = bench_arg(argc, argv, 3, 100);
  if (strcmp(variant, "raw") == 0) {
    bench_raw(&r);
  } else {
    pool_init(&r);
    if (strcmp(variant, "fetch_all") == 0)
      bench_fetch_all(&r);
    else if (strcmp(variant, "stream") == 0)
      bench_stream(&r);
    else
      bench_die("usage: fanout fetch_all|stream|raw [N [LIMIT]]", 0);
    free(r.slots);
  }
  bench_report("fanout", variant, r.limit, r.n, r.t0, r.t1, NULL);
  return 0;
}
