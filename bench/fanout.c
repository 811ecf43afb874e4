/* fanout.c — benchmark 1: n zero-delay jobs, at most limit at a time.
 *
 *   build/bench/bin/fanout fetch_all|stream|eager|raw [N [LIMIT]]
 *
 * fetch_all and stream are lab 03's reference solution (bf_stream_start
 * takes an item only for a permit a slot holds; bf_fetch_all is that stream
 * over the list). eager is not in the lab: it is asyncio's gather plus
 * `async with sem` translated word for word on the lab's semaphore, one
 * task and one waiter per item, all queued at once, to measure what
 * bounding execution without bounding creation costs (no target).
 * raw is the lower limit of overhead: the same completion mechanism (each
 * job completes on a later loop turn, from a check+idle queue in plain
 * libuv, bench/rawq.h, as ap_soon does) with a plain in-flight counter instead
 * of the semaphore and no generic operation interface. It does the work
 * fetch_all does: reads its items from the same kind of list and stores
 * each result at the item's index. (stream does less: its source is a
 * counter and it keeps no results, so that its memory stays flat.)
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
  long next; /* the stream's next item */
  bench_mark_t t0;
  bench_mark_t t1; /* stamped by the done callback */
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

/* The input list, 0 .. n-1, written (so faulted in) before any clock starts. */
static long *list_of(long n)
{
  long *items = malloc((size_t) n * sizeof(*items));

  if (items == NULL)
    bench_die("the list of items", UV_ENOMEM);
  for (long i = 0; i < n; i++)
    items[i] = i;
  return items;
}

static void check_results(const bf_result_t *results, long n)
{
  for (long i = 0; i < n; i++)
    if (results[i].status != 0 || results[i].value != i)
      bench_die("a wrong result", 0);
}

/* A fetch over the items 0 .. n-1, by bf_fetch_all or by eager_fetch_all
 * (the same signature). The clock includes whatever the call builds up
 * front: that is part of its cost. */
typedef int (*fetch_fn)(uv_loop_t *loop, bf_fetch_t *f, const long *items, size_t n, long limit,
                        bf_start_fn start, bf_result_t *results, bf_fetch_cb done);

static void bench_fetch(run_t *r, fetch_fn fetch)
{
  ap_rt_t rt;
  bf_fetch_t f;
  long *items = list_of(r->n);
  bf_result_t *results = malloc((size_t) r->n * sizeof(*results));
  int err;

  if (results == NULL)
    bench_die("fetch arrays", UV_ENOMEM);
  if ((err = ap_rt_init(&rt)) != 0)
    bench_die("ap_rt_init", err);
  memset(&f, 0, sizeof(f));
  f.data = r;
  r->t0 = bench_mark();
  err = fetch(&rt.loop, &f, items, (size_t) r->n, r->limit, zjob_start, results, on_fetched);
  if (err != 0)
    bench_die("fetch", err);
  bench_run_and_close(&rt);
  check_results(results, r->n);
  free(items);
  free(results);
}

/* ---- eager: gather + async with sem, on the lab's semaphore ----------------- */

/* One item's task, as gather makes one per coroutine: its claim on a permit
 * and the operation the permit guards. */
typedef struct etask {
  bf_waiter_t waiter; /* waiter.data: the eager run */
  bf_op_t op;
} etask_t;

typedef struct eager {
  bf_fetch_t *f; /* only for its data and the done callback's argument */
  bf_sem_t sem;
  etask_t *tasks; /* n of them, all made before the first one runs */
  bf_result_t *results;
  size_t n;
  size_t finished;
  bf_start_fn start;
  bf_fetch_cb done;
} eager_t;

static eager_t eager; /* one run per process */

/* $begin eager-fetch */
static void eager_op_done(bf_op_t *op, int status, long value)
{
  etask_t *t = AP_CONTAINER_OF(op, etask_t, op);
  eager_t *e = t->waiter.data;

  e->results[op->index] = (bf_result_t){.status = status, .value = value};
  bf_sem_release(&t->waiter); /* the finally of async with sem */
  if (++e->finished == e->n) {
    free(e->tasks);
    e->done(e->f, 0); /* the bench's jobs never fail */
  }
}

static void eager_on_permit(bf_waiter_t *w, int status)
{
  etask_t *t = AP_CONTAINER_OF(w, etask_t, waiter);

  (void) status; /* never cancelled */
  ((eager_t *) w->data)->start(&t->op);
}

/* gather(*(one(i) for i in items)): n tasks, n waiters queued at once. */
static int eager_fetch_all(uv_loop_t *loop, bf_fetch_t *f, const long *items, size_t n, long limit,
                           bf_start_fn start, bf_result_t *results, bf_fetch_cb done)
{
  eager_t *e = &eager;

  *e = (eager_t){.f = f, .results = results, .n = n, .start = start, .done = done};
  if (bf_sem_init(loop, &e->sem, limit) != 0)
    return UV_EINVAL;
  e->tasks = calloc(n, sizeof(*e->tasks));
  if (e->tasks == NULL)
    return UV_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    etask_t *t = &e->tasks[i];
    t->waiter.data = e;
    /* op.done is the lab's private field: here the bench plays the lab. */
    t->op = (bf_op_t){
        .ctx = f->data, .loop = loop, .item = items[i], .index = (long) i, .done = eager_op_done};
    bf_sem_acquire(&e->sem, &t->waiter, eager_on_permit);
  }
  return 0;
}
/* $end eager-fetch */

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
  rawq_node_t node; /* first: the queue's node is the job */
  long index;       /* the item's place in the list */
  long item;
} rjob_t;

typedef struct raw {
  rawq_t q;
  const long *items; /* the same list fetch_all reads */
  long started;      /* items handed out */
  long finished;
  long n;
  bf_result_t *results;
  bench_mark_t t1;
} raw_t;

/* Takes the next item from the list and starts its job: it will complete
 * on the next turn. */
static void raw_start(raw_t *r, rjob_t *j)
{
  j->index = r->started++;
  j->item = r->items[j->index];
  rawq_push(&r->q, &j->node);
}

/* The job ended: store its result at the item's index, and the slot takes
 * the next item. */
static void raw_complete(raw_t *r, rjob_t *j)
{
  r->results[j->index].status = 0;
  r->results[j->index].value = j->item;
  r->finished++;
  if (r->started < r->n)
    raw_start(r, j);
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
  long *items = list_of(run->n);

  memset(&r, 0, sizeof(r));
  r.n = run->n;
  r.items = items;
  r.results = malloc((size_t) run->n * sizeof(*r.results));
  if (slots == NULL || r.results == NULL || uv_loop_init(&loop) != 0)
    bench_die("raw setup", UV_ENOMEM);
  rawq_init(&loop, &r.q, raw_drain);
  run->t0 = bench_mark();
  for (long i = 0; i < run->limit && r.started < r.n; i++)
    raw_start(&r, &slots[i]);
  uv_run(&loop, UV_RUN_DEFAULT);
  run->t1 = r.t1;
  if (uv_loop_close(&loop) != 0 || r.finished != r.n)
    bench_die("raw: the loop did not end clean", 0);
  check_results(r.results, run->n);
  free(items);
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
      bench_fetch(&r, bf_fetch_all);
    else if (strcmp(variant, "eager") == 0)
      bench_fetch(&r, eager_fetch_all);
    else if (strcmp(variant, "stream") == 0)
      bench_stream(&r);
    else
      bench_die("usage: fanout fetch_all|stream|eager|raw [N [LIMIT]]", 0);
    free(r.slots);
  }
  bench_report("fanout", variant, r.limit, r.n, r.t0, r.t1, NULL);
  return 0;
}
