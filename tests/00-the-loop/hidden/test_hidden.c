/* hidden/test_hidden.c — hidden tests for lab 00 (naps_gather).
 *
 * Not shipped in student handouts: they run in the instructor's repository
 * and in the gradebook, and are reported as hidden. They probe edge cases a
 * student should find by reading the contract in naps.h, not by reading the
 * public tests: a single nap, many naps that are due at once, and a naps_t
 * whose private fields hold garbage, gathered twice.
 */
#include <stdlib.h>
#include <string.h>

#include "grade.h"
#include "naps.h"

static int done_calls;

static void on_done(naps_t *g, int status)
{
  (void) g;
  EXPECT_ERR("done's status", 0, status);
  done_calls++;
}

GRADE_TEST(one_nap_goes_through_the_loop, .points = 1, .clauses = "naps.3 naps.7",
           .section = "00-the-loop#the-close-protocol",
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

GRADE_TEST(zero_delays_wake_on_a_later_turn, .points = 1, .clauses = "naps.1 naps.2",
           .section = "00-the-loop#async-sleep",
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

static naps_t reused;
static long reused_results[3];

/* The second gather starts from done of the first: g is reused as it is. */
static void gather_again(naps_t *g, int status)
{
  static const uint64_t delays[] = {2, 1, 3};

  on_done(g, status);
  if (done_calls == 1)
    EXPECT_ERR("the second naps_gather() on the same naps_t", 0,
               naps_gather(grade_loop(), g, delays, reused_results, 3, gather_again));
}

GRADE_TEST(gathers_over_garbage_and_again, .points = 2, .clauses = "naps.6 naps.2 naps.3",
           .section = "00-the-loop#handles-and-requests",
           .hint = "naps_gather must set every private field of g itself (counters included): "
                   "the caller sets only data and trace, and may reuse g once done ran.")
{
  static const uint64_t delays[] = {3, 1, 2};

  memset(&reused, 0xa5, sizeof(reused));
  reused.data = NULL;
  reused.trace = NULL;
  EXPECT_ERR("naps_gather() on a naps_t whose private fields hold garbage", 0,
             naps_gather(grade_loop(), &reused, delays, reused_results, 3, gather_again));
  grade_run();
  EXPECT_EQ("done calls (one per gather)", 2, done_calls);
  EXPECT(reused_results[0] == 1 && reused_results[1] == 0 && reused_results[2] == 2,
         "results of the second gather (delays 2, 1, 3 ms): expected ranks 1 0 2, got %ld %ld %ld",
         reused_results[0], reused_results[1], reused_results[2]);
}

GRADE_HIDDEN(&one_nap_goes_through_the_loop, &zero_delays_wake_on_a_later_turn,
             &gathers_over_garbage_and_again);
