/* demo.c — lab 03's demo: the same 16 TCP requests against a server that
 * serves at most 4 connections at once, first bounded (limit 4), then
 * unbounded (limit 16). Shows the requests in flight over time and what the
 * server saw.
 *
 *   make run LAB=03                  your lab
 *   demo --csv FILE                  also write the trace as CSV (the book's timeline)
 */
#include <string.h>

#include "echo.h"

enum { REQUESTS = 16, SERVER_MAX = 4 };

typedef struct run {
  const char *name;
  long limit;
  long client_peak; /* filled in as it runs */
  long server_peak;
  long rejected;
  long failed;
  long busy;          /* failed with UV_EBUSY: the server said "BUSY" */
  double served_ms;   /* mean time from open to close of the requests served */
  size_t first_event; /* where its events start in the trace */
} run_t;

typedef struct demo {
  uv_loop_t *loop;
  ap_server_t server;
  bf_fetch_t fetch;
  bf_echo_target_t target;
  ap_gauge_t inflight;
  ap_trace_t trace;
  long items[REQUESTS];
  bf_result_t results[REQUESTS];
  run_t runs[2];
  int current;
} demo_t;

static void start_run(demo_t *d);

static void print_bar(const ap_event_t *e)
{
  printf("%8.3f ms  %-5s item %2ld   %2ld in flight  ", e->ns / 1e6, e->what, e->id, e->value);
  for (long i = 0; i < e->value; i++)
    putchar(i < SERVER_MAX ? '#' : '!');
  putchar('\n');
}

/* The mean time, open to close, of the run's successful requests. */
static double mean_served_ms(const demo_t *d, const run_t *r)
{
  uint64_t opened[REQUESTS] = {0}, total = 0;
  long base = d->current * REQUESTS, n = 0;

  for (size_t i = r->first_event; i < d->trace.count; i++) {
    const ap_event_t *e = &d->trace.events[i];
    if (strcmp(e->what, "open") == 0)
      opened[e->id - base] = e->ns;
    else if (strcmp(e->what, "close") == 0) {
      total += e->ns - opened[e->id - base];
      n++;
    }
  }
  return n > 0 ? total / 1e6 / n : 0;
}

static void on_server_stopped(ap_server_t *server)
{
  demo_t *d = server->data;

  if (++d->current < (int) AP_COUNT_OF(d->runs))
    start_run(d);
}

static void on_fetched(bf_fetch_t *f, int status)
{
  demo_t *d = AP_CONTAINER_OF(f, demo_t, fetch);
  run_t *r = &d->runs[d->current];

  (void) status;
  for (size_t i = r->first_event; i < d->trace.count; i++)
    print_bar(&d->trace.events[i]);
  for (size_t i = 0; i < REQUESTS; i++) {
    r->failed += d->results[i].status != 0;
    r->busy += d->results[i].status == UV_EBUSY;
  }
  r->client_peak = d->inflight.peak;
  r->server_peak = d->server.peak;
  r->rejected = d->server.rejected;
  r->served_ms = mean_served_ms(d, r);
  printf("  -> %ld of %d requests failed (%ld answered BUSY); the server turned away %ld\n\n",
         r->failed, REQUESTS, r->busy, r->rejected);
  ap_server_stop(&d->server, on_server_stopped);
}

/* $begin demo-run */
/* Each run gets a fresh server (fresh counters) and a fresh gauge. */
static void start_run(demo_t *d)
{
  run_t *r = &d->runs[d->current];
  int err;

  d->server.max_conns = SERVER_MAX;
  d->server.data = d;
  memset(&d->inflight, 0, sizeof(d->inflight));
  /* Distinct items per run, so each request has its own row in the timeline. */
  for (long i = 0; i < REQUESTS; i++)
    d->items[i] = d->current * REQUESTS + i;
  r->first_event = d->trace.count;
  printf("%s: %d requests, limit %ld, the server serves at most %d at once\n", r->name, REQUESTS,
         r->limit, SERVER_MAX);
  err = ap_server_start(d->loop, &d->server);
  if (err == 0) {
    d->target.port = d->server.port;
    err = bf_fetch_all(d->loop, &d->fetch, d->items, REQUESTS, r->limit, bf_echo_start, d->results,
                       on_fetched);
    if (err != 0)
      ap_server_stop(&d->server, NULL);
  }
  if (err != 0)
    fprintf(stderr, "  could not start: %s\n", uv_strerror(err));
}
/* $end demo-run */

static void print_table(const demo_t *d)
{
  printf("\n%-10s %6s %12s %12s %9s %7s %10s\n", "", "limit", "client peak", "server peak",
         "rejected", "failed", "served ms");
  for (size_t i = 0; i < AP_COUNT_OF(d->runs); i++) {
    const run_t *r = &d->runs[i];
    printf("%-10s %6ld %12ld %12ld %9ld %7ld %10.3f\n", r->name, r->limit, r->client_peak,
           r->server_peak, r->rejected, r->failed, r->served_ms);
  }
  printf("\n'!' marks requests in flight beyond what the server will serve; served ms is\n"
         "the mean time from connect to close of the requests that succeeded.\n");
}

int main(int argc, char **argv)
{
  static demo_t d;
  ap_rt_t rt;

  ap_rt_init(&rt);
  ap_trace_init(&d.trace, &rt.loop);
  d.loop = &rt.loop;
  d.runs[0] = (run_t){.name = "bounded", .limit = SERVER_MAX};
  d.runs[1] = (run_t){.name = "unbounded", .limit = REQUESTS};
  d.target.inflight = &d.inflight;
  d.target.trace = &d.trace;
  d.fetch.data = &d.target;
  start_run(&d);
  ap_rt_run(&rt);
  print_table(&d);
  return ap_demo_finish(&rt, &d.trace, ap_demo_csv_path(argc, argv));
}
