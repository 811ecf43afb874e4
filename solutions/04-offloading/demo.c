/* demo.c — lab 04's demo: what a blocking call does to the loop, inline and
 * offloaded; CPU work on the pool; file I/O starved by a full pool, and not
 * starved behind a limiter.
 *
 *   make run LAB=04                  your lab
 *   demo --csv FILE                  also write part 1's trace (ticks, calls) as CSV
 *
 * The demo sets UV_THREADPOOL_SIZE=2 before anything uses the pool, so its
 * figures do not depend on the machine's default. Times here are
 * measurements for people to read; the graded tests never look at a clock.
 */
#include <stdlib.h>
#include <string.h>

#include "loadtext.h"

enum { BLOCK_MS = 200, TICK_MS = 20, CPU_JOBS = 4, SLOW_JOBS = 3, SLOW_MS = 100 };

static ap_rt_t rt;
static ap_trace_t trace;

static double ms_since(uint64_t t0)
{
  return (double) (uv_hrtime() - t0) / 1e6;
}

/* ---- 1. A blocking call, inline and offloaded ------------------------------ */

static ap_probe_t probe;
static ap_sleep_t kick;
static ap_sleep_t linger;
static off_call_t block_call;
static int offload_it; /* trace ids: heartbeat 2 * offload_it, call one more */

/* The stand-in for a synchronous client: it holds its thread BLOCK_MS. */
static int legacy_call(void *arg, void **result)
{
  (void) arg, (void) result;
  uv_sleep(BLOCK_MS);
  return 0;
}

static void on_tick(ap_probe_t *p)
{
  ap_trace_add(&trace, "tick", 2L * offload_it, p->ticks);
}

static void stop_probe(ap_sleep_t *req, int status)
{
  (void) req, (void) status;
  ap_probe_stop(&probe);
}

/* Keeps the heartbeat going a little longer, so the gap after the call shows. */
static void on_block_done(off_call_t *call, int status, void *result)
{
  (void) call, (void) result;
  ap_trace_add(&trace, "call-done", 2L * offload_it + 1, status);
  /* After an inline call the loop's cached clock is 200 ms stale: without this
   * update the linger timer would be due at once. */
  uv_update_time(&rt.loop);
  ap_sleep_start(&rt.loop, &linger, 2 * TICK_MS, stop_probe);
}

/* $begin demo-kick */
static void on_kick(ap_sleep_t *req, int status)
{
  (void) req, (void) status;
  ap_trace_add(&trace, "call", 2L * offload_it + 1, 0);
  if (offload_it) {
    off_to_thread(&rt.loop, &block_call, legacy_call, NULL, on_block_done);
  } else {
    legacy_call(NULL, NULL); /* the loop thread itself waits */
    on_block_done(&block_call, 0, NULL);
  }
}
/* $end demo-kick */

static void heartbeat(int offloaded)
{
  uint64_t t0 = uv_hrtime();

  offload_it = offloaded;
  probe.on_tick = on_tick;
  ap_probe_start(&rt.loop, &probe, TICK_MS);
  ap_sleep_start(&rt.loop, &kick, 3 * TICK_MS + TICK_MS / 2, on_kick);
  ap_rt_run(&rt);
  printf("%-10s %3ld ticks in %5.0f ms, longest gap between ticks %5.1f ms\n\n",
         offloaded ? "offloaded:" : "inline:", probe.ticks, ms_since(t0),
         (double) probe.max_gap_ns / 1e6);
}

/* ---- 2. CPU work: inline vs on the pool ------------------------------------ */

static off_call_t cpu_calls[CPU_JOBS];

/* Parts 2 and 3 measure; what each call returns does not matter. */
static void on_ignored(off_call_t *call, int status, void *result)
{
  (void) call, (void) status, (void) result;
}

/* Pure computation, no system call: what the GIL would serialise in Python. */
static int crunch(void *arg, void **result)
{
  uint64_t x = (uintptr_t) arg + 1;

  for (long i = 0; i < 60 * 1000 * 1000; i++)
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
  *result = (void *) (uintptr_t) (x & 1);
  return 0;
}

static void cpu_work(void)
{
  uint64_t t0 = uv_hrtime();
  void *result;
  volatile uintptr_t sink = 0; /* so that the inline calls are not optimised away */
  double inline_ms;

  for (long i = 0; i < CPU_JOBS; i++)
    crunch((void *) (uintptr_t) i, &result), sink += (uintptr_t) result;
  inline_ms = ms_since(t0);
  t0 = uv_hrtime();
  for (long i = 0; i < CPU_JOBS; i++)
    off_to_thread(&rt.loop, &cpu_calls[i], crunch, (void *) (uintptr_t) i, on_ignored);
  ap_rt_run(&rt);
  printf("%d CPU jobs: inline %.0f ms, offloaded %.0f ms (pool of 2 threads, %u cores)\n\n",
         CPU_JOBS, inline_ms, ms_since(t0), uv_available_parallelism());
}

/* ---- 3. File I/O behind blocking jobs -------------------------------------- */

static off_call_t slow_calls[SLOW_JOBS];
static off_limiter_t limiter;
static uv_fs_t stat_req;
static uint64_t stat_t0;

static int slow_job(void *arg, void **result)
{
  (void) arg, (void) result;
  uv_sleep(SLOW_MS);
  return 0;
}

static void on_stat(uv_fs_t *req)
{
  printf("  uv_fs_stat answered after %.1f ms\n", ms_since(stat_t0));
  uv_fs_req_cleanup(req);
}

static void file_io_behind(off_limiter_t *lim)
{
  uint64_t t0 = uv_hrtime();

  printf("%d jobs of %d ms %s, then one uv_fs_stat:\n", SLOW_JOBS, SLOW_MS,
         lim != NULL ? "through a limiter of 1" : "straight into the pool");
  for (long i = 0; i < SLOW_JOBS; i++) {
    if (lim != NULL)
      off_limiter_submit(lim, &slow_calls[i], slow_job, NULL, on_ignored);
    else
      off_to_thread(&rt.loop, &slow_calls[i], slow_job, NULL, on_ignored);
  }
  stat_t0 = uv_hrtime();
  uv_fs_stat(&rt.loop, &stat_req, ".", on_stat);
  ap_rt_run(&rt);
  printf("  all jobs done after %.0f ms\n\n", ms_since(t0));
}

int main(int argc, char **argv)
{

  setenv("UV_THREADPOOL_SIZE", "2", 1); /* read once, at the pool's first use */
  ap_rt_init(&rt);
  ap_trace_init(&trace, &rt.loop);
  trace.echo = stdout;
  printf("1. a %d ms blocking call, heartbeat every %d ms\n\n", BLOCK_MS, TICK_MS);
  heartbeat(0);
  heartbeat(1);
  printf("2. CPU work\n\n");
  cpu_work();
  printf("3. file I/O shares the pool (2 threads)\n\n");
  file_io_behind(NULL);
  off_limiter_init(&limiter, &rt.loop, 1);
  file_io_behind(&limiter);
  return ap_demo_finish(&rt, &trace, ap_demo_csv_path(argc, argv));
}
