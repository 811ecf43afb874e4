/* lag.c — benchmark 3b: how late the loop's heartbeat gets when a blocking
 * call runs on the loop thread (inline) or on the pool (offload).
 *
 *   build/bench/bin/lag inline|offload [DURATION_MS [BLOCK_MS [SERIES.csv]]]
 *
 * A probe (ap_probe_t) ticks every 5 ms. Every 100 ms a blocking call
 * (nanosleep of BLOCK_MS, standing in for a slow read or a heavy parse) is
 * made: inline, straight from a timer callback; offload, through lab 04's
 * off_to_thread. The gaps between ticks are the loop's lag: 5 ms when it is
 * responsive, about BLOCK_MS when the call holds the loop thread.
 *
 * Prints one bench.h line (BENCH_COLUMNS; param = BLOCK_MS, n = ticks) with
 * extra columns max_gap_us,p99_gap_us,p50_gap_us,blocks; SERIES.csv gets
 * one line per tick: t_ms,gap_ms.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "offload.h"

enum { TICK_MS = 5, EVERY_MS = 100, MAX_TICKS = 100000 };

typedef struct run {
  int offload;
  uint64_t block_ms;
  ap_probe_t probe;
  uv_timer_t blocker;
  uv_timer_t stop;
  off_call_t call;
  int call_busy; /* an offloaded call is in the pool */
  long blocks;
  uint64_t last_ns;
  uint64_t start_ns;
  size_t ticks;
  uint64_t *at_ns;  /* per tick: since the start */
  uint64_t *gap_ns; /* per tick: since the previous one */
} run_t;

static int block(void *arg, void **result)
{
  run_t *r = arg;
  struct timespec ts = {(time_t) (r->block_ms / 1000), (long) (r->block_ms % 1000) * 1000000L};

  while (nanosleep(&ts, &ts) != 0)
    ;
  *result = r;
  return 0;
}

static void on_tick(ap_probe_t *probe)
{
  run_t *r = probe->data;
  uint64_t now = bench_now_ns();

  if (r->ticks < MAX_TICKS) {
    r->at_ns[r->ticks] = now - r->start_ns;
    r->gap_ns[r->ticks] = now - r->last_ns;
    r->ticks++;
  }
  r->last_ns = now;
}

static void on_offloaded(off_call_t *call, int status, void *result)
{
  run_t *r = call->data;

  (void) result;
  if (status != 0)
    bench_die("offloaded call", status);
  r->call_busy = 0;
}

static void on_blocker(uv_timer_t *timer)
{
  run_t *r = timer->data;
  void *result;
  int err;

  r->blocks++;
  if (!r->offload) {
    block(r, &result);
    return;
  }
  if (r->call_busy)
    return; /* the previous one is still running: do not pile up */
  r->call.data = r;
  err = off_to_thread(timer->loop, &r->call, block, r, on_offloaded);
  if (err != 0)
    bench_die("off_to_thread", err);
  r->call_busy = 1;
}

static void on_stop(uv_timer_t *timer)
{
  run_t *r = timer->data;

  ap_probe_stop(&r->probe);
  uv_close((uv_handle_t *) &r->blocker, NULL);
  uv_close((uv_handle_t *) &r->stop, NULL);
  /* An offloaded call still in the pool keeps the loop until it is done. */
}

static int cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

  return (x > y) - (x < y);
}

static void write_series(const run_t *r, const char *path)
{
  FILE *f = fopen(path, "w");

  if (f == NULL)
    bench_die(path, UV_EIO);
  fprintf(f, "t_ms,gap_ms\n");
  for (size_t i = 0; i < r->ticks; i++)
    fprintf(f, "%.3f,%.3f\n", (double) r->at_ns[i] / 1e6, (double) r->gap_ns[i] / 1e6);
  if (fclose(f) != 0)
    bench_die(path, UV_EIO);
}

static void start(run_t *r, uv_loop_t *loop, uint64_t duration_ms)
{
  int err;

  r->probe.data = r;
  r->probe.on_tick = on_tick;
  r->start_ns = r->last_ns = bench_now_ns();
  if ((err = ap_probe_start(loop, &r->probe, TICK_MS)) != 0)
    bench_die("ap_probe_start", err);
  uv_timer_init(loop, &r->blocker);
  uv_timer_init(loop, &r->stop);
  r->blocker.data = r->stop.data = r;
  uv_timer_start(&r->blocker, on_blocker, EVERY_MS, EVERY_MS);
  uv_timer_start(&r->stop, on_stop, duration_ms, 0);
}

int main(int argc, char **argv)
{
  static run_t r;
  ap_rt_t rt;
  const char *variant = argc > 1 ? argv[1] : "";
  uint64_t duration_ms;
  bench_mark_t t0, t1;
  uint64_t *sorted;
  char extra[128];
  int err;

  bench_version_arg(argc, argv);
  r.offload = strcmp(variant, "offload") == 0;
  if (!r.offload && strcmp(variant, "inline") != 0)
    bench_die("usage: lag inline|offload [DURATION_MS [BLOCK_MS [SERIES.csv]]]", 0);
  duration_ms = (uint64_t) bench_arg(argc, argv, 2, 2000);
  r.block_ms = (uint64_t) bench_arg(argc, argv, 3, 50);
  r.at_ns = calloc(MAX_TICKS, sizeof(*r.at_ns));
  r.gap_ns = calloc(MAX_TICKS, sizeof(*r.gap_ns));
  sorted = calloc(MAX_TICKS, sizeof(*sorted));
  if (r.at_ns == NULL || r.gap_ns == NULL || sorted == NULL || (err = ap_rt_init(&rt)) != 0)
    bench_die("setup", UV_ENOMEM);
  t0 = bench_mark();
  start(&r, &rt.loop, duration_ms);
  bench_run_and_close(&rt);
  t1 = bench_mark();
  if (r.ticks == 0)
    bench_die("the probe never ticked", 0);
  memcpy(sorted, r.gap_ns, r.ticks * sizeof(*sorted));
  qsort(sorted, r.ticks, sizeof(*sorted), cmp_u64);
  snprintf(extra, sizeof(extra), "%llu,%llu,%llu,%ld",
           (unsigned long long) (sorted[r.ticks - 1] / 1000),
           (unsigned long long) (sorted[(r.ticks * 99) / 100] / 1000),
           (unsigned long long) (sorted[r.ticks / 2] / 1000), r.blocks);
  if (argc > 4)
    write_series(&r, argv[4]);
  bench_report("lag", variant, (long) r.block_ms, (long) r.ticks, t0, t1, extra);
  free(r.at_ns);
  free(r.gap_ns);
  free(sorted);
  return 0;
}
