/* sweep.c — benchmark 4: fetch_all against a TCP echo server that admits
 * max_conns connections at once, for one value of the limit.
 *
 *   build/bench/bin/sweep LIMIT [REQUESTS [MAX_CONNS]]
 *
 * The server (ap_server_t, max_conns default 32) and the client (lab 03's
 * bf_fetch_all over bf_echo_start) share one loop and one thread, loopback
 * only: the way the helper's server is meant to run. That keeps its count
 * of open connections exact: a request is done only after the server
 * closed its side, and on one loop the server's close callback has run by
 * then, so a limit up to max_conns is never turned away. (With the server
 * on a loop of its own, in another thread, a new connection can arrive
 * between the server closing a socket and its close callback lowering the
 * count: a few rejections at limit = max_conns.) Both sides' work is on
 * one core, so the throughput is that of one core doing both. Each request connects, sends a line,
 * reads it back and waits for the server to close: its latency is from "open" to "close" in the
 * echo's trace (the time spent waiting for a permit is not in it). A limit above max_conns makes
 * the server turn connections away ("BUSY"): rejections.
 *
 * Prints one bench.h line (BENCH_COLUMNS; param = LIMIT, n = REQUESTS) with
 * extra columns: ok,rejected,errors,throughput_rps,p50_us,p99_us,max_conns.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "echo.h"

/* ---- The client ---------------------------------------------------------------- */

/* f.data, seen by every request as op->ctx: the echo target comes first, so
 * that the same pointer is the bf_echo_target_t that echo.h asks for. */
typedef struct run {
  bf_echo_target_t target;
  ap_server_t *server;
  long limit;
  long n;
  bench_mark_t t1;
} run_t;

static void on_fetched(bf_fetch_t *f, int status)
{
  run_t *r = f->data;

  (void) status; /* rejections are counted from the results */
  r->t1 = bench_mark();
  ap_server_stop(r->server, NULL);
}

static int cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

  return (x > y) - (x < y);
}

/* Latencies of the successful requests, sorted, from the trace. */
static size_t latencies(const ap_trace_t *trace, const bf_result_t *results, long n, uint64_t *lat)
{
  uint64_t *open_ns = calloc((size_t) n, sizeof(*open_ns));
  size_t count = 0;

  if (open_ns == NULL)
    bench_die("latencies", UV_ENOMEM);
  for (size_t i = 0; i < trace->count; i++) {
    const ap_event_t *e = &trace->events[i];
    if (strcmp(e->what, "open") == 0)
      open_ns[e->id] = e->ns;
    else if (strcmp(e->what, "close") == 0 && results[e->id].status == 0)
      lat[count++] = e->ns - open_ns[e->id];
  }
  free(open_ns);
  qsort(lat, count, sizeof(*lat), cmp_u64);
  return count;
}

static void report(run_t *r, bench_mark_t t0, const ap_trace_t *trace, const bf_result_t *results,
                   int max_conns)
{
  uint64_t *lat = calloc((size_t) r->n, sizeof(*lat));
  long rejected = 0, errors = 0;
  size_t ok;
  double secs = (double) (r->t1.wall - t0.wall) / 1e9;
  char extra[160];

  if (lat == NULL)
    bench_die("report", UV_ENOMEM);
  for (long i = 0; i < r->n; i++) {
    if (results[i].status == UV_EBUSY)
      rejected++;
    else if (results[i].status != 0)
      errors++;
  }
  ok = latencies(trace, results, r->n, lat);
  snprintf(extra, sizeof(extra), "%zu,%ld,%ld,%.0f,%.1f,%.1f,%d", ok, rejected, errors,
           (double) ok / secs, ok > 0 ? (double) lat[ok / 2] / 1e3 : 0.0,
           ok > 0 ? (double) lat[(ok * 99) / 100] / 1e3 : 0.0, max_conns);
  bench_report("sweep", "fetch_all", r->limit, r->n, t0, r->t1, extra);
  free(lat);
}

int main(int argc, char **argv)
{
  run_t r;
  ap_server_t server;
  ap_rt_t rt;
  ap_trace_t trace;
  bf_fetch_t f;
  long *items;
  bf_result_t *results;
  bench_mark_t t0;
  int max_conns, err;

  bench_version_arg(argc, argv);
  memset(&r, 0, sizeof(r));
  r.limit = bench_arg(argc, argv, 1, 8);
  r.n = bench_arg(argc, argv, 2, 2000);
  max_conns = (int) bench_arg(argc, argv, 3, 32);
  items = malloc((size_t) r.n * sizeof(*items));
  results = calloc((size_t) r.n, sizeof(*results));
  if (items == NULL || results == NULL || (err = ap_rt_init(&rt)) != 0)
    bench_die("setup", UV_ENOMEM);
  for (long i = 0; i < r.n; i++)
    items[i] = i;
  memset(&server, 0, sizeof(server));
  server.max_conns = max_conns;
  if ((err = ap_server_start(&rt.loop, &server)) != 0)
    bench_die("ap_server_start", err);
  r.server = &server;
  ap_trace_init(&trace, &rt.loop);
  r.target.port = server.port;
  r.target.trace = &trace;
  memset(&f, 0, sizeof(f));
  f.data = &r;
  t0 = bench_mark();
  err = bf_fetch_all(&rt.loop, &f, items, (size_t) r.n, r.limit, bf_echo_start, results,
                     on_fetched);
  if (err != 0)
    bench_die("bf_fetch_all", err);
  bench_run_and_close(&rt);
  report(&r, t0, &trace, results, max_conns);
  ap_trace_free(&trace);
  free(items);
  free(results);
  return 0;
}
