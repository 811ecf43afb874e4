/* test_naps.c — graded tests for lab 00 (naps_gather).
 *
 * Timers of distinct delays started in one turn fire in delay order, ties in
 * start order, however late the loop wakes (libuv 1.44): the expected ranks
 * are exact, no test compares times.
 */
#include <stdlib.h>

#include "grade.h"
#include "naps.h"

static int done_calls;
static int done_status;
static int timers_alive_at_done;

static void count_timers(uv_handle_t *h, void *arg)
{
  if (uv_handle_get_type(h) == UV_TIMER)
    ++*(int *) arg;
}

static int timers_alive(void)
{
  int n = 0;

  uv_walk(grade_loop(), count_timers, &n);
  return n;
}

static int done_traced_first; /* "done" was the trace's last event when done ran */

static void on_done(naps_t *g, int status)
{
  done_calls++;
  done_status = status;
  timers_alive_at_done = timers_alive();
  done_traced_first = g->trace != NULL && g->trace->count > 0 &&
                      ap_trace_find(g->trace, "done", 0, 0) == (long) g->trace->count - 1;
}

static void never_done(naps_t *g, int status)
{
  (void) g;
  ck_abort_msg("done was called (status %s) although naps_gather returned an error",
               grade_err_name(status));
}

/* Gathers delays and checks each result against the expected rank. */
static void expect_ranks(const uint64_t *delays, const long *ranks, size_t n)
{
  naps_t g = {0};
  long *results = calloc(n, sizeof(*results));

  EXPECT_ERR("naps_gather()", 0, naps_gather(grade_loop(), &g, delays, results, n, on_done));
  grade_run();
  EXPECT_EQ("done calls", 1, done_calls);
  for (size_t i = 0; i < n; i++)
    EXPECT(results[i] == ranks[i],
           "results[%zu] (delay %llu ms): expected rank %ld, got %ld; results[i] must be "
           "the rank at which nap i woke, stored at the nap's input index",
           i, (unsigned long long) delays[i], ranks[i], results[i]);
  free(results);
}

GRADE_TEST(starts_every_nap_before_returning, .points = 2, .clauses = "naps.1 naps.7",
           .section = "00-the-loop#handles-and-requests",
           .hint = "naps_gather must start all n timers (uv_timer_init, uv_timer_start), "
                   "tracing \"start\" for each, before it returns, and must not run the "
                   "loop itself.")
{
  uint64_t delays[] = {30, 10, 20};
  long results[3];
  naps_t g = {.trace = grade_trace()};

  EXPECT_ERR("naps_gather()", 0, naps_gather(grade_loop(), &g, delays, results, 3, on_done));
  EXPECT_EQ("timers open right after naps_gather returned", 3, timers_alive());
  EXPECT_EQ("done calls before the loop ran", 0, done_calls);
  EXPECT_STREQ("the trace right after naps_gather returned (a \"start\" per timer started, "
               "in input order, its id the nap's index)",
               "start:0 start:1 start:2", grade_trace_str(""));
  grade_run();
}

GRADE_TEST(results_follow_input_order, .points = 3, .clauses = "naps.2",
           .section = "00-the-loop#gathering-in-input-order",
           .hint = "Write each result at its nap's index (results[nap->index]), not at the "
                   "next free slot: gather's results follow the input, not the wake-up order.")
{
  uint64_t delays[] = {20, 30, 10, 5};
  long ranks[] = {2, 3, 1, 0};

  expect_ranks(delays, ranks, 4);
}

GRADE_TEST(equal_delays_wake_in_start_order, .points = 1, .clauses = "naps.2",
           .section = "00-the-loop#async-sleep",
           .hint = "Start the timers in input order: libuv fires timers with equal deadlines "
                   "in the order they were started.")
{
  uint64_t delays[] = {5, 5, 5, 5};
  long ranks[] = {0, 1, 2, 3};

  expect_ranks(delays, ranks, 4);
}

/* $begin test-done-after-close */
GRADE_TEST(done_runs_once_after_every_close, .points = 3, .clauses = "naps.3 naps.7",
           .section = "00-the-loop#the-close-protocol",
           .hint = "Call done from the last close callback, not from the last timer callback: "
                   "until a handle's close callback has run, libuv still uses its memory.")
{
  uint64_t delays[] = {3, 1, 2};
  long results[3];
  naps_t g = {.trace = grade_trace()};

  EXPECT_ERR("naps_gather()", 0, naps_gather(grade_loop(), &g, delays, results, 3, on_done));
  grade_run();
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_ERR("done's status", 0, done_status);
  EXPECT_EQ("timers still open or closing when done ran", 0, timers_alive_at_done);
  EXPECT(done_traced_first,
         "when done ran, the trace's last event was not \"done\": trace "
         "\"done\" right before calling done, not after; the trace: %s",
         grade_trace_str(""));
  EXPECT(ap_trace_count(grade_trace(), "closed") == 3 &&
             ap_trace_find(grade_trace(), "done", 0, 0) == (long) grade_trace()->count - 1,
         "expected 3 \"closed\" events and then \"done\" last (trace \"done\" right before "
         "calling done); the trace was: %s",
         grade_trace_str(""));
}
/* $end test-done-after-close */

GRADE_TEST(no_naps_done_on_a_later_turn, .points = 2, .clauses = "naps.4",
           .section = "00-the-loop#gathering-in-input-order",
           .hint = "With n == 0 there is no timer to wait for, but done must still run later, "
                   "never inside naps_gather: queue it with ap_soon().")
{
  naps_t g = {0};

  EXPECT_ERR("naps_gather() with n = 0", 0, naps_gather(grade_loop(), &g, NULL, NULL, 0, on_done));
  EXPECT_EQ("done calls before the loop ran", 0, done_calls);
  grade_run();
  EXPECT_EQ("done calls after the loop ran", 1, done_calls);
}

GRADE_TEST(rejects_bad_arguments, .points = 2, .clauses = "naps.5",
           .section = "00-the-loop#handles-and-requests",
           .hint = "Check the arguments before creating any handle; on error return "
                   "UV_EINVAL and never call done.")
{
  uint64_t delays[] = {1, 2};
  long results[2];
  naps_t g = {0};

  EXPECT_ERR("naps_gather() without done", UV_EINVAL,
             naps_gather(grade_loop(), &g, delays, results, 2, NULL));
  EXPECT_ERR("naps_gather() without delays", UV_EINVAL,
             naps_gather(grade_loop(), &g, NULL, results, 2, never_done));
  EXPECT_ERR("naps_gather() without results", UV_EINVAL,
             naps_gather(grade_loop(), &g, delays, NULL, 2, never_done));
  EXPECT_ERR("naps_gather() of one nap without delays", UV_EINVAL,
             naps_gather(grade_loop(), &g, NULL, results, 1, never_done));
  EXPECT_ERR("naps_gather() of one nap without results", UV_EINVAL,
             naps_gather(grade_loop(), &g, delays, NULL, 1, never_done));
  EXPECT_EQ("timers created by the failed calls", 0, timers_alive());
  grade_run();
}

GRADE_TEST(out_of_memory_leaves_nothing_open, .points = 1, .clauses = "naps.5",
           .section = "00-the-loop#handles-and-requests",
           .hint = "Allocate the naps before creating any timer; when the allocation fails, "
                   "return UV_ENOMEM with nothing started and never call done.")
{
  uint64_t delays[] = {1, 2, 3};
  long results[3];
  naps_t g = {0};

  grade_fail_alloc(0);
  EXPECT_ERR("naps_gather() when memory runs out", UV_ENOMEM,
             naps_gather(grade_loop(), &g, delays, results, 3, never_done));
  grade_fail_alloc(-1);
  EXPECT_EQ("timers created by the failed call", 0, timers_alive());
  grade_run();
}

GRADE_TEST(ten_thousand_naps, .points = 2, .clauses = "naps.2 naps.3",
           .section = "00-the-loop#gathering-in-input-order",
           .hint = "Every nap needs its own timer and its own slot; free the naps only after "
                   "the last close callback.")
{
  enum { N = 10000 };
  static uint64_t delays[N];
  static long ranks[N];
  long rank = 0;

  for (size_t i = 0; i < N; i++)
    delays[i] = (i * 7919) % 17; /* 17 distinct delays, many ties */
  /* Expected: stable order by delay, ties in input (start) order. */
  for (uint64_t d = 0; d < 17; d++)
    for (size_t i = 0; i < N; i++)
      if (delays[i] == d)
        ranks[i] = rank++;
  expect_ranks(delays, ranks, N);
}

GRADE_LAB("00-the-loop", &starts_every_nap_before_returning, &results_follow_input_order,
          &equal_delays_wake_in_start_order, &done_runs_once_after_every_close,
          &no_naps_done_on_a_later_turn, &rejects_bad_arguments, &out_of_memory_leaves_nothing_open,
          &ten_thousand_naps)
