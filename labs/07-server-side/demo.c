/* demo.c — lab 07's demo: the server under an overload generator on
 * 127.0.0.1, bounded and unbounded, after an unloaded run for reference.
 *
 * Each request is a connection that sends "work\n" and reads one answer
 * line. The handler's blocking part (WORK_MS on a worker thread) goes to
 * the pool of POOL threads, so the server can answer about POOL / WORK_MS
 * requests per ms. The generator offers BATCH per ms, twice that, for
 * REQUESTS requests. Bounded: max_inflight POOL, max_queued POOL, the
 * rest refused at once. Unbounded: everything admitted, and queued in the
 * pool. The last run ends with a SIGTERM the demo sends itself.
 *
 *   make run LAB=07                  your lab
 *   demo --csv FILE                  also write the trace as CSV (the book's timeline)
 *
 * Times and memory are measurements for people to read; the graded tests
 * never look at a clock.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

enum {
  POOL = 4,    /* worker threads */
  WORK_MS = 2, /* each request's blocking part */
  BATCH = 4,   /* connections the generator opens per ms */
  REQUESTS = 1200,
  UNLOADED = 200, /* the reference run: one request at a time */
  TRACE_EVERY = 40
};

/* From grader/grader.h: the lab's blocks not yet freed (grader/alloc.c). */
size_t grade_lab_live_blocks(size_t *bytes);

typedef struct run {
  const char *name;
  long max_inflight, max_queued, total;
  int closed_loop; /* one request at a time */
  /* results */
  long ok, busy, failed;
  double p50, p99;
  size_t peak_bytes;
  long peak_open;
  srv_stats_t stats;
} run_t;

typedef struct client {
  ap_ask_t ask;
  long id;
} client_t;

static ap_rt_t rt;
static ap_trace_t trace;
static srv_t server;
static uv_timer_t generator;
static client_t clients[REQUESTS];
static double latency[REQUESTS];
static run_t runs[] = {
    {.name = "unloaded",
     .max_inflight = POOL,
     .max_queued = POOL,
     .total = UNLOADED,
     .closed_loop = 1},
    {.name = "bounded", .max_inflight = POOL, .max_queued = POOL, .total = REQUESTS},
    {.name = "unbounded", .max_inflight = 1L << 30, .max_queued = 0, .total = REQUESTS},
};
static int current;
static long started, finished;

static void start_run(void);
static void start_client(void);

/* The blocking part, on a worker thread. */
static int work(const char *line, size_t len, char *out, size_t *out_len)
{
  (void) line, (void) len;
  uv_sleep(WORK_MS);
  *out_len = (size_t) snprintf(out, *out_len, "done");
  return 0;
}

static void sample_memory(run_t *r)
{
  size_t bytes = 0;

  grade_lab_live_blocks(&bytes);
  if (bytes > r->peak_bytes)
    r->peak_bytes = bytes;
  if (server.stats.open > r->peak_open)
    r->peak_open = server.stats.open;
}

static void note(client_t *c, const char *what)
{
  if (c->id % TRACE_EVERY == 0)
    ap_trace_add(&trace, what, current * REQUESTS + c->id, 0);
}

static int by_value(const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* The request ended: its answer, its refusal or its failure. */
static void on_answer(ap_ask_t *ask, int status)
{
  client_t *c = AP_CONTAINER_OF(ask, client_t, ask);
  run_t *r = &runs[current];

  sample_memory(r);
  if (status == 0 && strcmp(ask->answer, "done\n") == 0) {
    latency[r->ok++] = (double) (ask->t1 - ask->t0) / 1e6;
    note(c, "answer");
  } else if (status == 0 && strcmp(ask->answer, "BUSY\n") == 0) {
    r->busy++;
    note(c, "busy");
  } else {
    r->failed++;
    note(c, "fail");
  }
  if (++finished < r->total) {
    if (r->closed_loop)
      start_client();
    return;
  }
  if (current + 1 < (int) AP_COUNT_OF(runs))
    srv_shutdown(&server);
  else
    raise(SIGTERM); /* the last run: the way an operator would stop it */
}

static void start_client(void)
{
  client_t *c = &clients[started];
  int err;

  c->id = started++;
  note(c, "send");
  if ((err = ap_ask_start(&rt.loop, &c->ask, server.port, "work\n", on_answer)) != 0) {
    fprintf(stderr, "ap_ask_start: %s\n", uv_strerror(err));
    exit(1);
  }
}

/* $begin demo-generator */
/* Open loop: BATCH new requests every ms, whatever the server does. */
static void on_tick(uv_timer_t *timer)
{
  run_t *r = &runs[current];

  sample_memory(r);
  for (int i = 0; i < BATCH && started < r->total; i++)
    start_client();
  if (started == r->total)
    uv_timer_stop(timer);
}
/* $end demo-generator */

static void on_done(srv_t *srv, int status)
{
  run_t *r = &runs[current];

  r->stats = srv->stats;
  qsort(latency, (size_t) r->ok, sizeof(latency[0]), by_value);
  r->p50 = r->ok > 0 ? latency[r->ok / 2] : 0;
  r->p99 = r->ok > 0 ? latency[r->ok * 99 / 100] : 0;
  printf("%-10s done (%s): admitted %ld, refused %ld, answered %ld, cancelled %ld\n", r->name,
         status == 0 ? "ok" : uv_err_name(status), r->stats.admitted, r->stats.refused,
         r->stats.answered, r->stats.cancelled);
  if (++current < (int) AP_COUNT_OF(runs))
    start_run();
  else
    uv_close((uv_handle_t *) &generator, NULL);
}

static void start_run(void)
{
  run_t *r = &runs[current];
  srv_config_t cfg = {.max_inflight = r->max_inflight,
                      .max_queued = r->max_queued,
                      .idle_ms = 2000,
                      .request_ms = 60000,
                      .drain_ms = 1000,
                      .high_water = 64 * 1024,
                      .low_water = 16 * 1024,
                      .signals = 1,
                      .handler = srv_work_handler(work)};
  int err = srv_start(&rt.loop, &server, &cfg, on_done);

  started = finished = 0;
  if (err != 0) {
    fprintf(stderr, "%s: srv_start: %s\n", r->name, uv_strerror(err));
    uv_close((uv_handle_t *) &generator, NULL);
    return;
  }
  if (r->closed_loop)
    start_client();
  else
    uv_timer_start(&generator, on_tick, 1, 1);
}

static void print_table(void)
{
  printf("\n%-10s %9s %9s %8s %9s %9s %11s %9s\n", "", "requests", "admitted", "refused", "p50 ms",
         "p99 ms", "peak conns", "peak KB");
  for (size_t i = 0; i < AP_COUNT_OF(runs); i++) {
    const run_t *r = &runs[i];
    printf("%-10s %9ld %9ld %8ld %9.2f %9.2f %11ld %9zu\n", r->name, r->total, r->stats.admitted,
           r->stats.refused, r->p50, r->p99, r->peak_open, r->peak_bytes / 1024);
  }
  printf("\np50/p99: connect to answer of the requests answered \"done\"; peak KB: the lab's\n"
         "own heap (connections and answers waiting to be written).\n");
}

int main(int argc, char **argv)
{
  setenv("UV_THREADPOOL_SIZE", "4", 1); /* POOL, before anything uses the pool */
  ap_rt_init(&rt);
  ap_trace_init(&trace, &rt.loop);
  uv_timer_init(&rt.loop, &generator);
  printf("%d requests offered at %d per ms; the server does about %d per ms (%d threads, %d ms "
         "each)\n",
         REQUESTS, BATCH, POOL / WORK_MS, POOL, WORK_MS);
  start_run();
  ap_rt_run(&rt);
  print_table();
  return ap_demo_finish(&rt, &trace, ap_demo_csv_path(argc, argv));
}
