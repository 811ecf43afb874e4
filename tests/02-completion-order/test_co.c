/* test_co.c — graded tests for lab 02 (co_gather, co_as_completed).
 *
 * The operations are the test's own, chosen per index:
 *  - FAKE: an ap_fake_t, ended only when the test calls finish(); exact
 *    completion orders without any clock;
 *  - MANUAL: the test calls co_complete itself, from the test body;
 *  - FAIL_START: start returns UV_EMFILE;
 *  - any other value: a timer of that many ms, which calls co_complete from
 *    its timer callback. Timers started in one call fire in deadline order
 *    however late the loop wakes, and the lab's timeout is such a timer too:
 *    a 1 ms operation always beats a 5 ms timeout, a 20 ms one never does.
 * Cancelling a fake completes it with UV_ECANCELED; cancelling a timer
 * closes it and completes it from the close callback ("aborted").
 * Trace events: start, done, cancel, aborted (operations); consume (index, k)
 * and all-done (the lab's callbacks).
 */
#include <stdlib.h>

#include "co.h"
#include "grade.h"

enum { MAX_OPS = 10000 };
#define FAKE UINT64_MAX
#define MANUAL (UINT64_MAX - 1)
#define FAIL_START (UINT64_MAX - 2)
#define VALUE(i) (1000 + (long) (i))
/* For checks in loops: Check writes every passing assertion to a file that the
 * grader caps at 1 MB per test, so 10,000 EXPECTs would overflow it. */
#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      ck_abort_msg(__VA_ARGS__);                                                                   \
  } while (0)

typedef struct test_op {
  uv_timer_t timer;
  ap_fake_t fake;
  co_completion_t *c;
  uint64_t kind;
} test_op_t;

static test_op_t ops[MAX_OPS];
static ap_fakes_t fakes;
static co_item_t seen[MAX_OPS];
static size_t seen_count;
static long completed; /* co_complete calls made by the operations */
static long completed_at_done;
static int done_calls;
static int timers_at_done;      /* timer handles still in the loop when done ran */
static int queue_timer_at_done; /* 1: the queue's own timer was still in the loop */
static co_queue_t queue;
static co_gather_t gather;
static co_result_t results[MAX_OPS];

static long index_of(test_op_t *op)
{
  return (long) (op - ops);
}

static void end_op(test_op_t *op, int status, long value)
{
  completed++;
  co_complete(op->c, status, value);
}

static void on_fake(ap_fake_t *fake, int status, long value)
{
  end_op(AP_CONTAINER_OF(fake, test_op_t, fake), status, value);
}

static void on_tick(uv_timer_t *timer)
{
  test_op_t *op = AP_CONTAINER_OF(timer, test_op_t, timer);

  ap_trace_add(grade_trace(), "done", index_of(op), VALUE(index_of(op)));
  uv_close((uv_handle_t *) timer, NULL);
  end_op(op, 0, VALUE(index_of(op)));
}

static int start_op(uv_loop_t *loop, size_t index, void *ctx, co_completion_t *c)
{
  test_op_t *op = &ops[index];

  (void) ctx;
  op->c = c;
  if (op->kind == FAKE) {
    ap_fake_start(&fakes, &op->fake, (long) index, on_fake);
    return 0;
  }
  if (op->kind == FAIL_START)
    return UV_EMFILE;
  ap_trace_add(grade_trace(), "start", (long) index, 0);
  if (op->kind == MANUAL)
    return 0;
  uv_timer_init(loop, &op->timer);
  return uv_timer_start(&op->timer, on_tick, op->kind, 0);
}

static void on_aborted(uv_handle_t *handle)
{
  test_op_t *op = AP_CONTAINER_OF(handle, test_op_t, timer);

  ap_trace_add(grade_trace(), "aborted", index_of(op), 0);
  end_op(op, UV_ECANCELED, 0);
}

static int cancel_op(uv_loop_t *loop, size_t index, void *ctx, co_completion_t *c)
{
  test_op_t *op = &ops[index];

  (void) loop, (void) ctx, (void) c;
  ap_trace_add(grade_trace(), "cancel", (long) index, 0);
  if (op->kind == FAKE)
    return ap_fake_complete(&op->fake, UV_ECANCELED, 0);
  if (op->kind == MANUAL || uv_is_closing((uv_handle_t *) &op->timer))
    return UV_EBUSY;
  uv_close((uv_handle_t *) &op->timer, on_aborted);
  return 0;
}

static const co_kind_t kind = {start_op, cancel_op, NULL};

/* Sets up n operations: kinds[i] for i < count, the last one repeated. */
static void ops_init(const uint64_t *kinds, size_t count, size_t n)
{
  ap_fakes_init(&fakes, grade_loop(), grade_trace(), NULL);
  for (size_t i = 0; i < n; i++)
    ops[i].kind = kinds[i < count ? i : count - 1];
}

static void finish(size_t index, int status)
{
  int err = ap_fake_complete(&ops[index].fake, status, status == 0 ? VALUE(index) : 0);

  CHECK(err == 0,
        "the test could not end operation %zu: ap_fake_complete() returned %s; "
        "was it started (once) by kind->start?",
        index, grade_err_name(err));
}

static void find_queue_timer(uv_handle_t *h, void *arg)
{
  if (h == (uv_handle_t *) &queue.timer)
    *(int *) arg = 1;
  else if (uv_handle_get_type(h) == UV_TIMER)
    timers_at_done++;
}

static void consume(co_queue_t *q, const co_item_t *item)
{
  CHECK(q == &queue, "consume got a queue pointer that is not the caller's");
  ap_trace_add(grade_trace(), "consume", (long) item->index, (long) item->k);
  if (seen_count < MAX_OPS)
    seen[seen_count] = *item;
  seen_count++;
}

static void on_done(co_queue_t *q)
{
  EXPECT(q == &queue, "done got a queue pointer that is not the caller's");
  ap_trace_add(grade_trace(), "all-done", 0, 0);
  done_calls++;
  completed_at_done = completed;
  uv_walk(grade_loop(), find_queue_timer, &queue_timer_at_done);
}

static void on_gathered(co_gather_t *g)
{
  EXPECT(g == &gather, "done got a gather pointer that is not the caller's");
  ap_trace_add(grade_trace(), "all-done", 0, 0);
  done_calls++;
  completed_at_done = completed;
}

static void never_consume(co_queue_t *q, const co_item_t *item)
{
  (void) q;
  ck_abort_msg("consume was called (operation %zu) although co_as_completed returned an error",
               item->index);
}

static void never_done(co_queue_t *q)
{
  (void) q;
  ck_abort_msg("done was called although co_as_completed returned an error");
}

static void never_gathered(co_gather_t *g)
{
  (void) g;
  ck_abort_msg("done was called although co_gather returned an error");
}

static void as_completed(size_t n, const co_timeout_t *timeout)
{
  EXPECT_ERR("co_as_completed()", 0,
             co_as_completed(grade_loop(), &queue, &kind, n, timeout, consume, on_done));
}

/* Each report has its operation's value (or error) and k = 1..n in turn. */
static void expect_reports(size_t n)
{
  EXPECT_EQ("reports handed to consume", n, seen_count);
  for (size_t j = 0; j < n; j++) {
    CHECK(seen[j].k == j + 1 && seen[j].n == n,
          "report %zu (operation %zu) says progress %zu/%zu; expected %zu/%zu: k counts "
          "the reports handed over so far, this one included",
          j + 1, seen[j].index, seen[j].k, seen[j].n, j + 1, n);
    if (seen[j].status == 0)
      CHECK(seen[j].value == VALUE(seen[j].index),
            "report %zu is operation %zu with value %ld; that operation ended with %ld", j + 1,
            seen[j].index, seen[j].value, VALUE(seen[j].index));
  }
}

/* $begin test-fakes-order */
GRADE_TEST(fakes_consumed_in_completion_order, .points = 3,
           .section = "02-completion-order#completion-queue",
           .hint = "Queue each report when its operation ends and hand the queue to consume "
                   "oldest first: the order the operations ended in, not their input order.")
{
  uint64_t kinds[] = {FAKE};

  ops_init(kinds, 1, 4);
  as_completed(4, NULL);
  finish(2, 0);
  finish(0, 0);
  finish(3, 0);
  finish(1, 0);
  grade_run();
  EXPECT_STREQ("operations in the order consume saw them",
               "consume:2 consume:0 consume:3 consume:1", grade_trace_str("consume"));
  expect_reports(4);
  EXPECT_EQ("done calls", 1, done_calls);
}
/* $end test-fakes-order */

GRADE_TEST(timers_consumed_in_delay_order, .points = 2,
           .section = "02-completion-order#completion-queue",
           .hint = "Timers end in delay order; each report must reach consume in the order "
                   "co_complete was called, with its input index.")
{
  uint64_t kinds[] = {40, 10, 30, 20};

  ops_init(kinds, 4, 4);
  as_completed(4, NULL);
  grade_run();
  EXPECT_STREQ("operations in the order consume saw them",
               "consume:1 consume:3 consume:2 consume:0", grade_trace_str("consume"));
  expect_reports(4);
  EXPECT_EQ("done calls", 1, done_calls);
}

/* $begin test-first-before-slowest */
GRADE_TEST(first_result_used_before_the_slowest_ends, .points = 3,
           .section = "02-completion-order#when-completion-order",
           .hint = "Hand a report to consume on the turn after its operation ended, without "
                   "waiting for the other operations.")
{
  uint64_t kinds[] = {FAKE};

  ops_init(kinds, 1, 3);
  as_completed(3, NULL);
  finish(1, 0);
  grade_run(); /* returns once nothing is left to do: 0 and 2 still run */
  EXPECT_STREQ("consumed while operations 0 and 2 still run", "consume:1",
               grade_trace_str("consume"));
  finish(2, 0);
  grade_run();
  finish(0, 0); /* the slowest */
  grade_run();
  long first = ap_trace_find(grade_trace(), "consume", 1, 0);
  long slowest = ap_trace_find(grade_trace(), "done", 0, 0);
  EXPECT(first >= 0 && first < slowest,
         "expected consume:1 before done:0 (the slowest); the trace was: %s", grade_trace_str(""));
  expect_reports(3);
}
/* $end test-first-before-slowest */

GRADE_TEST(progress_counts_up_to_n, .points = 2, .section = "02-completion-order#progress",
           .hint = "item->k is the number of reports handed to consume so far, this one "
                   "included: count once per report, in the drain.")
{
  uint64_t kinds[] = {FAKE};
  size_t order[] = {4, 1, 3, 0, 2};

  ops_init(kinds, 1, 5);
  as_completed(5, NULL);
  for (size_t j = 0; j < 5; j++) {
    finish(order[j], 0);
    if (j % 2 == 0)
      grade_run(); /* some reports alone, some two in one drain */
  }
  grade_run();
  expect_reports(5);
  EXPECT_EQ("done calls", 1, done_calls);
}

/* $begin test-later-turn */
GRADE_TEST(consume_runs_on_a_later_turn, .points = 2,
           .section = "02-completion-order#completion-queue",
           .hint = "co_complete must only queue the report and schedule a drain with ap_soon; "
                   "consume and done run from the drain, never inside co_complete.")
{
  uint64_t kinds[] = {MANUAL};

  ops_init(kinds, 1, 2);
  as_completed(2, NULL);
  co_complete(ops[1].c, 0, VALUE(1));
  EXPECT_EQ("consume calls made inside co_complete", 0, seen_count);
  grade_run();
  EXPECT_EQ("consume calls after the loop ran", 1, seen_count);
  co_complete(ops[0].c, 0, VALUE(0));
  EXPECT_EQ("consume calls made inside the last co_complete", 1, seen_count);
  EXPECT_EQ("done calls made inside the last co_complete", 0, done_calls);
  grade_run();
  expect_reports(2);
  EXPECT_EQ("done calls", 1, done_calls);
}
/* $end test-later-turn */

GRADE_TEST(gather_aligns_with_input_order, .points = 3, .section = "02-completion-order#gather",
           .hint = "Write each result at results[c->index], whatever order the operations "
                   "end in, and call done once after the n-th.")
{
  uint64_t kinds[] = {FAKE};
  size_t order[] = {2, 0, 3, 1};

  ops_init(kinds, 1, 4);
  EXPECT_ERR("co_gather()", 0, co_gather(grade_loop(), &gather, &kind, 4, results, on_gathered));
  for (size_t j = 0; j < 4; j++)
    finish(order[j], 0);
  grade_run();
  EXPECT_EQ("done calls", 1, done_calls);
  for (size_t i = 0; i < 4; i++)
    EXPECT(results[i].status == 0 && results[i].value == VALUE(i),
           "results[%zu] = {%s, %ld}; expected {0, %ld}: operation %zu's own result, at its "
           "input index",
           i, grade_err_name(results[i].status), results[i].value, VALUE(i), i);
}

GRADE_TEST(gather_keeps_results_after_a_failure, .points = 2,
           .section = "02-completion-order#failures",
           .hint = "A failure is one more result: store its status at its index, count it in "
                   "g->failed, and keep waiting for the others.")
{
  uint64_t kinds[] = {FAKE};

  ops_init(kinds, 1, 4);
  EXPECT_ERR("co_gather()", 0, co_gather(grade_loop(), &gather, &kind, 4, results, on_gathered));
  finish(1, UV_EIO);
  grade_run();
  EXPECT_EQ("done calls while three operations still run", 0, done_calls);
  finish(3, 0);
  finish(0, 0);
  finish(2, 0);
  grade_run();
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_EQ("g->failed", 1, gather.failed);
  EXPECT_ERR("results[1].status", UV_EIO, results[1].status);
  for (size_t i = 0; i < 4; i++)
    if (i != 1)
      EXPECT(results[i].status == 0 && results[i].value == VALUE(i),
             "results[%zu] = {%s, %ld}; expected {0, %ld}: a failure must not lose the "
             "results that came after it",
             i, grade_err_name(results[i].status), results[i].value, VALUE(i));
}

GRADE_TEST(as_completed_reports_a_failure_in_place, .points = 2,
           .section = "02-completion-order#failures",
           .hint = "A failed operation gets its report like any other (status = its error), "
                   "in its place in completion order, and counts in the progress.")
{
  uint64_t kinds[] = {FAKE};

  ops_init(kinds, 1, 3);
  as_completed(3, NULL);
  finish(0, 0);
  finish(1, UV_ECONNRESET);
  finish(2, 0);
  grade_run();
  EXPECT_STREQ("operations in the order consume saw them", "consume:0 consume:1 consume:2",
               grade_trace_str("consume"));
  expect_reports(3);
  EXPECT_ERR("report 2's status (operation 1 failed)", UV_ECONNRESET, seen[1].status);
  EXPECT_EQ("done calls", 1, done_calls);
}

GRADE_TEST(a_start_error_is_a_result, .points = 1, .section = "02-completion-order#operations",
           .hint = "The given co__batch_start turns a start error into that operation's "
                   "result: it must reach gather's results[] and as_completed's consume.")
{
  uint64_t kinds[] = {FAKE, FAIL_START, FAKE};

  ops_init(kinds, 3, 3);
  EXPECT_ERR("co_gather()", 0, co_gather(grade_loop(), &gather, &kind, 3, results, on_gathered));
  finish(0, 0);
  finish(2, 0);
  grade_run();
  EXPECT_EQ("gather: done calls", 1, done_calls);
  EXPECT_ERR("gather: results[1].status (its start failed)", UV_EMFILE, results[1].status);
  EXPECT_EQ("gather: g->failed", 1, gather.failed);
  done_calls = 0;
  as_completed(3, NULL);
  finish(2, 0);
  finish(0, 0);
  grade_run();
  EXPECT_STREQ("as_completed: operations in the order consume saw them",
               "consume:1 consume:2 consume:0", grade_trace_str("consume"));
  EXPECT_ERR("as_completed: report 1's status", UV_EMFILE, seen[0].status);
  expect_reports(3);
  EXPECT_EQ("as_completed: done calls", 1, done_calls);
}

/* $begin test-keep-running */
GRADE_TEST(timeout_keep_running, .points = 3, .section = "02-completion-order#timeouts",
           .hint = "At the timeout, report every operation not yet reported as UV_ETIMEDOUT and "
                   "close the timer; with CO_KEEP_RUNNING drop their later results, but call "
                   "done only after they have all ended.")
{
  uint64_t kinds[] = {1, FAKE, 20, FAKE};
  co_timeout_t timeout = {.ms = 5, .policy = CO_KEEP_RUNNING};

  ops_init(kinds, 4, 4);
  as_completed(4, &timeout);
  grade_run(); /* op 0 ends, the timeout expires, op 2 ends late; 1 and 3 still run */
  EXPECT_STREQ("operations in the order consume saw them",
               "consume:0 consume:1 consume:2 consume:3", grade_trace_str("consume"));
  expect_reports(4);
  EXPECT_ERR("report 1's status (operation 0 ended in time)", 0, seen[0].status);
  for (size_t j = 1; j < 4; j++)
    EXPECT_ERR("status of a report made at the timeout", UV_ETIMEDOUT, seen[j].status);
  EXPECT_EQ("q->timed_out", 3, queue.timed_out);
  EXPECT_EQ("cancel calls with CO_KEEP_RUNNING", 0, ap_trace_count(grade_trace(), "cancel"));
  EXPECT_EQ("done calls while operations 1 and 3 still run", 0, done_calls);
  finish(3, 0);
  finish(1, 0);
  grade_run();
  EXPECT_EQ("reports after the late operations ended", 4, seen_count);
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_EQ("operations ended when done ran", 4, completed_at_done);
  EXPECT_EQ("the queue's timer still in the loop when done ran", 0, queue_timer_at_done);
}
/* $end test-keep-running */

GRADE_TEST(timeout_cancel, .points = 3, .section = "02-completion-order#timeouts",
           .hint = "With CO_CANCEL, call kind->cancel on every operation that has not ended; "
                   "done waits for their (cancelled) completions and for the timer's close "
                   "callback.")
{
  uint64_t kinds[] = {1, FAKE, 1000, FAKE};
  co_timeout_t timeout = {.ms = 5, .policy = CO_CANCEL};

  ops_init(kinds, 4, 4);
  as_completed(4, &timeout);
  grade_run();
  EXPECT_STREQ("cancel calls", "cancel:1 cancel:2 cancel:3", grade_trace_str("cancel"));
  EXPECT_STREQ("operations in the order consume saw them",
               "consume:0 consume:1 consume:2 consume:3", grade_trace_str("consume"));
  expect_reports(4);
  for (size_t j = 1; j < 4; j++)
    EXPECT_ERR("status of a report made at the timeout", UV_ETIMEDOUT, seen[j].status);
  EXPECT_EQ("q->timed_out", 3, queue.timed_out);
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_EQ("operations ended (or cancelled) when done ran", 4, completed_at_done);
  EXPECT_EQ("the queue's timer still in the loop when done ran", 0, queue_timer_at_done);
  EXPECT_EQ("operation timers still in the loop when done ran", 0, timers_at_done);
  EXPECT(ap_trace_find(grade_trace(), "aborted", 2, 0) <
             ap_trace_find(grade_trace(), "all-done", 0, 0),
         "expected the cancelled timer's close (aborted:2) before all-done; the trace was: %s",
         grade_trace_str(""));
}

/* $begin test-unused-timeout */
GRADE_TEST(unused_timeout_closed_early, .points = 2, .section = "02-completion-order#all-done",
           .hint = "Once every operation has its report the timeout can no longer matter: close "
                   "the timer then, and call done only from after its close callback.")
{
  uint64_t kinds[] = {FAKE};
  co_timeout_t hour = {.ms = 3600 * 1000, .policy = CO_KEEP_RUNNING};

  ops_init(kinds, 1, 3);
  as_completed(3, &hour);
  finish(1, 0);
  finish(0, 0);
  finish(2, 0);
  /* A few turns, one at a time: done must not wait for the hour to pass. */
  for (int turn = 0; turn < 100 && done_calls == 0; turn++)
    uv_run(grade_loop(), UV_RUN_NOWAIT);
  EXPECT_EQ("done calls within 100 loop turns after the last operation ended", 1, done_calls);
  EXPECT_EQ("the queue's timer still in the loop when done ran", 0, queue_timer_at_done);
  expect_reports(3);
  grade_run();
  EXPECT_EQ("done calls", 1, done_calls);
}
/* $end test-unused-timeout */

GRADE_TEST(no_operations, .points = 2, .section = "02-completion-order#all-done",
           .hint = "With n == 0 nothing will ever end, but done must still run, on a later "
                   "turn; and a timeout with nothing to time out must not leave a timer open.")
{
  uint64_t kinds[] = {FAKE};
  co_timeout_t timeout = {.ms = 10000, .policy = CO_CANCEL};

  ops_init(kinds, 1, 1);
  as_completed(0, &timeout);
  EXPECT_EQ("as_completed: done calls inside the call", 0, done_calls);
  grade_run();
  EXPECT_EQ("as_completed: done calls", 1, done_calls);
  EXPECT_EQ("as_completed: consume calls", 0, seen_count);
  EXPECT_EQ("as_completed: the queue's timer still in the loop when done ran", 0,
            queue_timer_at_done);
  done_calls = 0;
  EXPECT_ERR("co_gather() with n = 0", 0,
             co_gather(grade_loop(), &gather, &kind, 0, NULL, on_gathered));
  EXPECT_EQ("gather: done calls inside the call", 0, done_calls);
  grade_run();
  EXPECT_EQ("gather: done calls", 1, done_calls);
}

GRADE_TEST(one_operation, .points = 1, .section = "02-completion-order#progress",
           .hint = "With n == 1 the one report is 1 of 1, and done follows it.")
{
  uint64_t kinds[] = {FAKE};

  ops_init(kinds, 1, 1);
  as_completed(1, NULL);
  finish(0, 0);
  grade_run();
  expect_reports(1);
  EXPECT_EQ("as_completed: done calls", 1, done_calls);
  EXPECT_ERR("co_gather()", 0, co_gather(grade_loop(), &gather, &kind, 1, results, on_gathered));
  finish(0, 0);
  grade_run();
  EXPECT_EQ("gather: done calls", 2, done_calls);
  EXPECT(results[0].status == 0 && results[0].value == VALUE(0),
         "gather: results[0] = {%s, %ld}; expected {0, %ld}", grade_err_name(results[0].status),
         results[0].value, VALUE(0));
}

/* 10,000 fakes ended in the order of a permutation: as_completed hands them
 * over in that order, gather aligns them; then 10,000 timers with 17
 * distinct delays, which end by delay and, for equal delays, in start order. */
GRADE_TEST(ten_thousand_operations, .points = 2, .section = "02-completion-order#completion-queue",
           .hint = "One completion per operation in one array, a FIFO linked through them, and "
                   "no work per report that grows with n.")
{
  enum { N = MAX_OPS };
  uint64_t kinds[] = {FAKE};
  static uint64_t delays[N];
  size_t j = 0;

  ops_init(kinds, 1, N);
  as_completed(N, NULL);
  for (size_t i = 0; i < N; i++)
    finish((i * 7919) % N, 0);
  grade_run();
  expect_reports(N);
  for (size_t i = 0; i < N; i++)
    CHECK(seen[i].index == (i * 7919) % N, "report %zu is operation %zu; expected %zu", i + 1,
          seen[i].index, (i * 7919) % N);
  EXPECT_ERR("co_gather()", 0, co_gather(grade_loop(), &gather, &kind, N, results, on_gathered));
  for (size_t i = 0; i < N; i++)
    finish((i * 7919) % N, 0);
  grade_run();
  for (size_t i = 0; i < N; i++)
    CHECK(results[i].value == VALUE(i), "gather: results[%zu].value = %ld; expected %ld", i,
          results[i].value, VALUE(i));
  for (size_t i = 0; i < N; i++)
    delays[i] = (i * 7919) % 17;
  ops_init(delays, N, N);
  seen_count = 0;
  as_completed(N, NULL);
  grade_run();
  expect_reports(N);
  for (uint64_t d = 0; d < 17; d++)
    for (size_t i = 0; i < N; i++)
      CHECK(delays[i] != d || seen[j++].index == i,
            "timers: report %zu is operation %zu; expected %zu (delay %llu ms, equal "
            "delays in start order)",
            j, seen[j - 1].index, i, (unsigned long long) d);
  EXPECT_EQ("done calls", 3, done_calls);
}

static int timers_alive(void)
{
  timers_at_done = 0;
  queue_timer_at_done = 0;
  uv_walk(grade_loop(), find_queue_timer, &queue_timer_at_done);
  return timers_at_done + queue_timer_at_done;
}

GRADE_TEST(rejects_bad_arguments, .points = 1, .section = "02-completion-order#operations",
           .hint = "Check the arguments before starting anything or creating the timer; on "
                   "error return UV_EINVAL and never call back.")
{
  uint64_t kinds[] = {FAKE};
  co_kind_t no_start = {NULL, cancel_op, NULL};
  co_kind_t no_cancel = {start_op, NULL, NULL};
  co_timeout_t bad_policy = {.ms = 5, .policy = 0};
  co_timeout_t cancel = {.ms = 5, .policy = CO_CANCEL};
  uv_loop_t *loop = grade_loop();

  ops_init(kinds, 1, 2);
  EXPECT_ERR("co_as_completed() without kind", UV_EINVAL,
             co_as_completed(loop, &queue, NULL, 2, NULL, never_consume, never_done));
  EXPECT_ERR("co_as_completed() with kind->start NULL", UV_EINVAL,
             co_as_completed(loop, &queue, &no_start, 2, NULL, never_consume, never_done));
  EXPECT_ERR("co_as_completed() without consume", UV_EINVAL,
             co_as_completed(loop, &queue, &kind, 2, NULL, NULL, never_done));
  EXPECT_ERR("co_as_completed() without done", UV_EINVAL,
             co_as_completed(loop, &queue, &kind, 2, NULL, never_consume, NULL));
  EXPECT_ERR("co_as_completed() with policy 0", UV_EINVAL,
             co_as_completed(loop, &queue, &kind, 2, &bad_policy, never_consume, never_done));
  EXPECT_ERR("co_as_completed() with CO_CANCEL and kind->cancel NULL", UV_EINVAL,
             co_as_completed(loop, &queue, &no_cancel, 2, &cancel, never_consume, never_done));
  EXPECT_ERR("co_gather() without results", UV_EINVAL,
             co_gather(loop, &gather, &kind, 2, NULL, never_gathered));
  EXPECT_ERR("co_gather() without done", UV_EINVAL,
             co_gather(loop, &gather, &kind, 2, results, NULL));
  EXPECT_EQ("operations started by the failed calls", 0, fakes.started);
  EXPECT_EQ("timers created by the failed calls", 0, timers_alive());
  grade_run();
}

/* clang-format off */
GRADE_LAB("02-completion-order",
          &fakes_consumed_in_completion_order,
          &timers_consumed_in_delay_order,
          &first_result_used_before_the_slowest_ends,
          &progress_counts_up_to_n,
          &consume_runs_on_a_later_turn,
          &gather_aligns_with_input_order,
          &gather_keeps_results_after_a_failure,
          &as_completed_reports_a_failure_in_place,
          &a_start_error_is_a_result,
          &timeout_keep_running,
          &timeout_cancel,
          &unused_timeout_closed_early,
          &no_operations,
          &one_operation,
          &ten_thousand_operations,
          &rejects_bad_arguments)
/* clang-format on */
