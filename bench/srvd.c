/* srvd.c — benchmark 6's C server: lab 07's reference server (srv.h),
 * bounded, with the demo's handler: a blocking part of WORK_MS on a pool of
 * POOL threads (lab 04's off_to_thread through srv_work_handler).
 *
 *   build/bench/bin/srvd INFLIGHT QUEUED WORK_MS
 *
 * Listens on 127.0.0.1 (a free port), prints the port on a line of its
 * own, and serves until SIGTERM or SIGINT (cfg.signals: srv_shutdown); then
 * the leak check, and exit 0. The overload generator (overload.c) starts it,
 * drives it, and measures it from outside, as it does the peers'
 * servers (asyncio_bench.py server, node_bench.js server).
 */
#include <stdlib.h>

#include "bench.h"
#include "srv.h"

enum { POOL = 4, IDLE_MS = 2000, REQUEST_MS = 10000, DRAIN_MS = 1000 };

static uint64_t work_ms;

/* The blocking part, on a worker thread. */
static int work(const char *line, size_t len, char *out, size_t *out_len)
{
  (void) line, (void) len;
  uv_sleep((unsigned int) work_ms);
  *out_len = (size_t) snprintf(out, *out_len, "done");
  return 0;
}

static void on_done(srv_t *srv, int status)
{
  if (status != 0)
    bench_die("srvd: server stopped", status);
  (void) srv;
}

int main(int argc, char **argv)
{
  ap_rt_t rt;
  srv_t server;
  srv_config_t cfg = {.idle_ms = IDLE_MS,
                      .request_ms = REQUEST_MS,
                      .drain_ms = DRAIN_MS,
                      .high_water = 64 * 1024,
                      .low_water = 16 * 1024,
                      .signals = 1,
                      .handler = srv_work_handler(work)};
  int err;

  bench_version_arg(argc, argv);
  cfg.max_inflight = bench_arg(argc, argv, 1, POOL);
  cfg.max_queued = bench_arg(argc, argv, 2, POOL);
  work_ms = (uint64_t) bench_arg(argc, argv, 3, 2);
  setenv("UV_THREADPOOL_SIZE", "4", 1); /* POOL, before anything uses the pool */
  if ((err = ap_rt_init(&rt)) != 0)
    bench_die("srvd: ap_rt_init", err);
  if ((err = srv_start(&rt.loop, &server, &cfg, on_done)) != 0)
    bench_die("srvd: srv_start", err);
  printf("%d\n", server.port);
  fflush(stdout);
  bench_run_and_close(&rt);
  return 0;
}
