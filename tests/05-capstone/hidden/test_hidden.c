/* test_hidden.c — hidden graded tests for lab 05 (fetch.h).
 *
 * Not shipped in student handouts: they run in the instructor's repository
 * and in the gradebook, and are reported as hidden. They probe what a student
 * should find by reading the contract in fetch.h, not the public tests: a
 * stop that comes while a connection is being made; a fetch whose private
 * fields hold garbage, started again from its own done; every item failing.
 *
 * "While connecting" is exact: the fetch traces "permit" in its permit
 * callback (a call-soon, after the poll of its turn) and "request" once
 * connected (in a poll, at the earliest the next turn's); a prepare handle
 * runs between the two.
 */
#include "../kit.h"

/* ---- A stop while connecting -------------------------------------------------- */

static uv_prepare_t connecting_watcher;
static int connecting_stop = 1;

static void stop_while_connecting(uv_prepare_t *prepare)
{
  if (ap_trace_count(grade_trace(), "permit") == 0)
    return;
  if (ap_trace_count(grade_trace(), "request") == 0)
    connecting_stop = cap_fetch_stop(&fetch);
  uv_close((uv_handle_t *) prepare, NULL);
}

GRADE_TEST(a_stop_while_connecting_closes_the_connection, .points = 2, .clauses = "cap.8",
           .section = "05-capstone#stopping",
           .hint = "An item that holds its permit and is connecting when the stop comes sends "
                   "no request: it ends with UV_ECANCELED once its using block closed the "
                   "connection (the exchange sees the stop), and is not retried.")
{
  uv_prepare_init(grade_loop(), &connecting_watcher);
  uv_prepare_start(&connecting_watcher, stop_while_connecting);
  start_fetch(3, 1, 2);
  finish_fetch();
  EXPECT_ERR("cap_fetch_stop() while item 20 connects", 0, connecting_stop);
  expect_not_fetched(0, UV_ECANCELED, 1);
  expect_not_fetched(1, UV_ECANCELED, 0);
  expect_not_fetched(2, UV_ECANCELED, 0);
  EXPECT_EQ("requests the upstream saw", 0, up.requests);
  EXPECT_EQ("summary: retries", 0, summary.retries);
  expect_all_closed();
}

/* ---- Garbage, and a second run from done ---------------------------------------- */

static cap_result_t first_results[MAX_ITEMS];
static cap_summary_t first_summary;
static int first_done_calls;

/* The first run's done: starts the same fetch again, over what it left. */
static void start_again(cap_fetch_t *f, const cap_summary_t *s)
{
  first_done_calls++;
  first_summary = *s;
  memcpy(first_results, results, sizeof results);
  memset(results, 0xa5, sizeof results);
  n_reported = 0;
  EXPECT_ERR("cap_fetch_start() again, from done", 0,
             cap_fetch_start(grade_loop(), f, items, n_items, results, on_done));
}

GRADE_TEST(a_fetch_over_garbage_started_again_from_done, .points = 3, .clauses = "cap.6 cap.9",
           .section = "05-capstone#the-pipeline",
           .hint = "cap_fetch_start sets every private field (counters, the stop flag, the "
                   "summary, each result), whatever it held: a fetch may start again from its "
                   "own done.")
{
  memset(&fetch, 0xa5, sizeof fetch);
  memset(results, 0xa5, sizeof results);
  fetch.data = NULL;
  fetch.store = NULL;
  fetch.writers = 0;
  up.latency_ms = 1;
  add_fault(1, AP_UPSTREAM_ERROR, 1); /* item 21 fails once in the first run only */
  start_fetch_with(4, 2, 1, start_again);
  finish_fetch();
  EXPECT_EQ("done calls of the first run", 1, first_done_calls);
  EXPECT_EQ("first run: summary.fetched", 4, first_summary.fetched);
  EXPECT_EQ("first run: summary.retries", 1, first_summary.retries);
  EXPECT_EQ("first run: item 21's attempts", 2, first_results[1].attempts);
  EXPECT_EQ("second run: summary.n", 4, summary.n);
  EXPECT_EQ("second run: summary.fetched", 4, summary.fetched);
  EXPECT_EQ("second run: summary.failed", 0, summary.failed);
  EXPECT_EQ("second run: summary.retries", 0, summary.retries);
  for (size_t i = 0; i < n_items; i++) {
    expect_fetched(i);
    EXPECT(results[i].attempts == 1, "second run: item %ld: %d attempt%s, expected 1", items[i],
           results[i].attempts, GRADE_S(results[i].attempts));
  }
  /* k counts this run's reports from 1 again: the ks are 1 to n, each once.
   * Which report comes with which k is results_in_completion_order's to
   * check, with an order it forces; here the order is the upstream's, so a
   * test of it would pass or fail a wrong k as the timing fell. */
  size_t seen_k[MAX_ITEMS + 1] = {0};
  for (size_t j = 0; j < n_items; j++) {
    EXPECT(ks[j] >= 1 && ks[j] <= n_items && seen_k[ks[j]]++ == 0,
           "second run: report %zu came with k = %zu; expected each of 1 to %zu once", j + 1, ks[j],
           n_items);
  }
  expect_all_closed();
}

/* ---- Every item failing ---------------------------------------------------------- */

static size_t reports_at_done = (size_t) -1;

static void note_reports(void)
{
  reports_at_done = n_reported;
}

GRADE_TEST(every_item_failing_still_ends_in_done, .points = 2, .clauses = "cap.3 cap.5 cap.6",
           .section = "05-capstone#failures-and-retries",
           .hint = "Failures are results like any other: with every item failing, each one is "
                   "reported once (k = 1 .. n) after its last attempt, and done follows the n-th "
                   "report.")
{
  up.latency_ms = 1;
  for (long i = 0; i < 5; i++)
    add_fault(i, i % 2 == 0 ? AP_UPSTREAM_RESET : AP_UPSTREAM_ERROR, -1);
  done_hook = note_reports;
  start_fetch(5, 2, 1);
  finish_fetch();
  EXPECT_EQ("reports before done", 5, reports_at_done);
  /* Each of k = 1 .. n once; the order is the upstream's (see above). */
  size_t seen_k[MAX_ITEMS + 1] = {0};
  for (size_t j = 0; j < n_items; j++) {
    EXPECT(ks[j] >= 1 && ks[j] <= n_items && seen_k[ks[j]]++ == 0,
           "report %zu came with k = %zu; expected each of 1 to %zu once", j + 1, ks[j], n_items);
  }
  for (size_t i = 0; i < n_items; i++)
    expect_not_fetched(i, i % 2 == 0 ? UV_ECONNRESET : UV_EPROTO, 2);
  EXPECT_EQ("summary: failed", 5, summary.failed);
  EXPECT_EQ("summary: fetched", 0, summary.fetched);
  EXPECT_EQ("summary: retries", 5, summary.retries);
  expect_all_closed();
}

GRADE_HIDDEN(&a_stop_while_connecting_closes_the_connection,
             &a_fetch_over_garbage_started_again_from_done, &every_item_failing_still_ends_in_done);
