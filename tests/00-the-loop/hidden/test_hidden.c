/* hidden/test_hidden.c — hidden tests for lab 00 (naps_gather).
 *
 * Not shipped in student handouts: they run in the instructor's repository
 * and in the gradebook, and are reported as hidden. They probe edge cases a
 * student should find by reading the contract in naps.h, not by reading the
 * public tests: a single nap, and many naps that are due at once.
 */
#include <stdlib.h>

#include "grade.h"
#include "naps.h"

static int done_calls;

static void on_done(naps_t *g, int status)
{
  (void) g;
  EXPECT_ERR("done's status", 0, status);
  done_calls++;
}

GRADE_TEST(one_nap_goes_through_the_loop, .points = 1, .section = "00-the-loop#the-close-protocol",
           .hint = "A single nap is no special case: it still starts a timer, wakes, closes, "
                   "and done runs from its close callback.")
{
  uint64_t delays[] = {4};
  long results[1] = {-1};
  naps_t g = {.trace = grade_trace()};

  EXPECT_ERR("naps_gather() with one nap", 0,
             naps_gather(grade_loop(), &g, delays, results, 1, on_done));
  EXPECT_EQ("done calls before the loop ran", 0, done_calls);
  grade_run();
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_EQ("results[0]", 0, results[0]);
  EXPECT_STREQ("the trace of one nap", "start:0 wake:0 closed:0 done:0", grade_trace_str(""));
}

GRADE_TEST(zero_delays_wake_on_a_later_turn, .points = 1, .section = "00-the-loop#async-sleep",
           .hint = "A nap of 0 ms is still asynchronous: start its timer like any other; "
                   "never record a result or call a callback inside naps_gather.")
{
  enum { N = 500 };
  static uint64_t delays[N]; /* all 0 */
  static long results[N];
  naps_t g = {.trace = grade_trace()};

  EXPECT_ERR("naps_gather() with 500 naps of 0 ms", 0,
             naps_gather(grade_loop(), &g, delays, results, N, on_done));
  EXPECT_EQ("naps woken before naps_gather returned", 0, ap_trace_count(grade_trace(), "wake"));
  grade_run();
  EXPECT_EQ("done calls", 1, done_calls);
  for (size_t i = 0; i < N; i++)
    EXPECT(results[i] == (long) i,
           "results[%zu]: expected rank %zu, got %ld; naps of equal delay wake in start order", i,
           i, results[i]);
}

GRADE_HIDDEN(&one_nap_goes_through_the_loop, &zero_delays_wake_on_a_later_turn);
