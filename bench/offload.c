/* offload.c — benchmark 3: n tiny round trips to the thread pool and back.
 *
 *   build/bench/bin/offload to_thread|raw [N [DEPTH]]
 *
 * to_thread is lab 04's reference solution (off_to_thread); raw calls
 * uv_queue_work directly. The function run on the pool does nothing but
 * hand its argument back, so what is measured is the trip: the hand-off to
 * a worker thread, the wake-up of the loop, the completion callback. DEPTH
 * calls are kept in flight (1: one round trip at a time, its latency; more:
 * throughput, the pool's threads working side by side).
 *
 * Prints one bench.h line (BENCH_COLUMNS), param = DEPTH.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "offload.h"

typedef struct run {
  uv_loop_t *loop;
  long n;
  long started;
  long finished;
  bench_mark_t t0;
  bench_mark_t t1;
} run_t;

/* ---- to_thread ------------------------------------------------------------------- */

static int tiny(void *arg, void **result)
{
  *result = arg;
  return 0;
}

static void on_call_done(off_call_t *call, int status, void *result);

static void call_next(run_t *r, off_call_t *call)
{
  int err;

  r->started++;
  err = off_to_thread(r->loop, call, tiny, (void *) r->started, on_call_done);
  if (err != 0)
    bench_die("off_to_thread", err);
}

static void on_call_done(off_call_t *call, int status, void *result)
{
  run_t *r = call->data;

  if (status != 0 || result == NULL)
    bench_die("to_thread: a failed call", status);
  if (++r->finished == r->n)
    r->t1 = bench_mark();
  if (r->started < r->n)
    call_next(r, call);
}

static void bench_to_thread(run_t *r, long depth)
{
  ap_rt_t rt;
  off_call_t *calls = calloc((size_t) depth, sizeof(*calls));
  int err;

  if (calls == NULL || (err = ap_rt_init(&rt)) != 0)
    bench_die("to_thread setup", UV_ENOMEM);
  r->loop = &rt.loop;
  r->t0 = bench_mark();
  for (long i = 0; i < depth && r->started < r->n; i++) {
    calls[i].data = r;
    call_next(r, &calls[i]);
  }
  bench_run_and_close(&rt);
  free(calls);
}

/* ---- raw uv_queue_work ------------------------------------------------------------ */

static void raw_work(uv_work_t *w)
{
  w->data = w; /* the result: a write the loop thread reads back */
}

static void raw_after(uv_work_t *w, int status);

static void raw_next(run_t *r, uv_work_t *w)
{
  int err;

  r->started++;
  w->data = NULL;
  err = uv_queue_work(r->loop, w, raw_work, raw_after);
  if (err != 0)
    bench_die("uv_queue_work", err);
}

static void raw_after(uv_work_t *w, int status)
{
  run_t *r = w->loop->data;

  if (status != 0 || w->data != w)
    bench_die("raw: a failed call", status);
  if (++r->finished == r->n)
    r->t1 = bench_mark();
  if (r->started < r->n)
    raw_next(r, w);
}

static void bench_raw(run_t *r, long depth)
{
  uv_loop_t loop;
  uv_work_t *works = calloc((size_t) depth, sizeof(*works));

  if (works == NULL || uv_loop_init(&loop) != 0)
    bench_die("raw setup", UV_ENOMEM);
  loop.data = r;
  r->loop = &loop;
  r->t0 = bench_mark();
  for (long i = 0; i < depth && r->started < r->n; i++)
    raw_next(r, &works[i]);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0)
    bench_die("raw: the loop did not end clean", 0);
  free(works);
}

int main(int argc, char **argv)
{
  run_t r;
  const char *variant = argc > 1 ? argv[1] : "";
  long depth;

  bench_version_arg(argc, argv);
  memset(&r, 0, sizeof(r));
  r.n = bench_arg(argc, argv, 2, 100000);
  depth = bench_arg(argc, argv, 3, 1);
  if (strcmp(variant, "to_thread") == 0)
    bench_to_thread(&r, depth);
  else if (strcmp(variant, "raw") == 0)
    bench_raw(&r, depth);
  else
    bench_die("usage: offload to_thread|raw [N [DEPTH]]", 0);
  if (r.finished != r.n)
    bench_die("calls missing", 0);
  bench_report("offload", variant, depth, r.n, r.t0, r.t1, NULL);
  return 0;
}
