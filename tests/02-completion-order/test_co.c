/* test_co.c — graded tests for lab 02 (co_gather, co_as_completed).
 *
 * The operations are the test's own, chosen per index:
 *  - FAKE: an ap_fake_t, ended only when the test calls finish(); exact
 *    completion orders without any clock;
 *  - MANUAL: the test calls co_complete itself, from the test body; its
 *    cancel refuses (UV_EBUSY), like a thread-pool job that already runs;
 *  - INSTANT: a fake that the test completes inside start (it calls
 *    co_complete on the next turn, like any fake);
 *  - FAIL_START: start returns UV_EMFILE;
 *  - any other value: a timer of that many ms, which calls co_complete from
 *    its timer callback. Timers started in one call fire in deadline order.
 * Cancelling a fake completes it with UV_ECANCELED (or fails with UV_EINVAL
 * when the test already ended it); cancelling a timer closes it and completes
 * it from the close callback ("aborted").
 * Trace events: start, done, cancel, aborted (operations); consume (index, k)
 * and all-done (the lab's callbacks).
 *
 * No verdict depends on how late the loop wakes. Where a timeout and an
 * operation's end race, the test forces one order: the operations are fakes
 * or manual ones that end when the test says, and expire_timeout() blocks
 * the loop thread until the timeout is due, so the next loop turn runs it
 * first (libuv runs due timers before anything else in a turn). An end the
 * test made before that is then either already reported (MANUAL: co_complete
 * was called) or not yet (a fake delivers on the next turn, after timers).
 */
#include <stdlib.h>
#include <string.h>

#include "co.h"
#include "expire.h"
#include "grade.h"

enum { MAX_OPS = 10000 };
#define FAKE UINT64_MAX
#define MANUAL (UINT64_MAX - 1)
#define FAIL_START (UINT64_MAX - 2)
#define INSTANT (UINT64_MAX - 3)
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
  int ticking; /* a timer operation whose timer runs: the only kind cancel may close */
} test_op_t;

static test_op_t ops[MAX_OPS];
static ap_fakes_t fakes;
static co_item_t seen[MAX_OPS];
static size_t seen_count;
static long completed; /* co_complete calls made by the operations */
static long completed_at_done;
static int done_calls;
static size_t seen_at_done;            /* reports consumed when done ran */
static co_result_t results_at_done[8]; /* gather: results[] as done saw them */
static size_t failed_at_done;
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
  op->ticking = 0;
  uv_close((uv_handle_t *) timer, NULL);
  end_op(op, 0, VALUE(index_of(op)));
}

static int start_op(uv_loop_t *loop, size_t index, void *ctx, co_completion_t *c)
{
  test_op_t *op = &ops[index];

  (void) ctx;
  op->c = c;
  if (op->kind == FAKE || op->kind == INSTANT) {
    ap_fake_start(&fakes, &op->fake, (long) index, on_fake);
    if (op->kind == INSTANT)
      ap_fake_complete(&op->fake, 0, VALUE(index));
    return 0;
  }
  if (op->kind == FAIL_START)
    return UV_EMFILE;
  ap_trace_add(grade_trace(), "start", (long) index, 0);
  if (op->kind == MANUAL)
    return 0;
  uv_timer_init(loop, &op->timer);
  op->ticking = 1;
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
  if (op->kind == FAKE || op->kind == INSTANT)
    return ap_fake_complete(&op->fake, UV_ECANCELED, 0);
  if (op->kind == MANUAL)
    return UV_EBUSY;
  if (!op->ticking)
    return UV_EINVAL; /* never started, or ended */
  op->ticking = 0;
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
  seen_at_done = seen_count;
  uv_walk(grade_loop(), find_queue_timer, &queue_timer_at_done);
}

static void on_gathered(co_gather_t *g)
{
  EXPECT(g == &gather, "done got a gather pointer that is not the caller's");
  ap_trace_add(grade_trace(), "all-done", 0, 0);
  done_calls++;
  completed_at_done = completed;
  failed_at_done = g->failed;
  memcpy(results_at_done, results, sizeof(results_at_done));
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

static int timers_alive(void)
{
  timers_at_done = 0;
  queue_timer_at_done = 0;
  uv_walk(grade_loop(), find_queue_timer, &queue_timer_at_done);
  return timers_at_done + queue_timer_at_done;
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
            "report %zu (operation %zu) says status 0 and value %ld, but that operation "
            "ended with value %ld: a report carries its own operation's outcome",
            j + 1, seen[j].index, seen[j].value, VALUE(seen[j].index));
  }
}

/* $begin test-fakes-order */
GRADE_TEST(fakes_consumed_in_completion_order, .points = 3, .clauses = "co.1 co.5",
           .section = "02-completion-order#completion-queue",
           .hint = "Queue each report when its operation ends and hand the queue to consume "
                   "oldest first: the order the operations ended in, not their input order.")
{
  uint64_t kinds[] = {FAKE};

  ops_init(kinds, 1, 4);
  as_completed(4, NULL);
  EXPECT_STREQ("operations started inside co_as_completed", "start:0 start:1 start:2 start:3",
               grade_trace_str("start"));
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

GRADE_TEST(timers_consumed_in_delay_order, .points = 2, .clauses = "co.5",
           .section = "02-completion-order#completion-queue",
           .hint = "Timers end in delay order; each report must reach consume in the order "
                   "co_complete was called, with its input index.")
{
  uint64_t kinds[] = {40, 10, 30, 20};

  ops_init(kinds, 4, 4);
  as_completed(4, NULL);
  grade_run_late(40); /* all four end in one turn: their reports queue up */
  EXPECT_STREQ("operations in the order consume saw them",
               "consume:1 consume:3 consume:2 consume:0", grade_trace_str("consume"));
  expect_reports(4);
  EXPECT_EQ("done calls", 1, done_calls);
}

/* $begin test-first-before-slowest */
GRADE_TEST(first_result_used_before_the_slowest_ends, .points = 3, .clauses = "co.5 co.6",
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

GRADE_TEST(progress_counts_up_to_n, .points = 2, .clauses = "co.5",
           .section = "02-completion-order#progress",
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
GRADE_TEST(consume_runs_on_a_later_turn, .points = 2, .clauses = "co.6 co.9",
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

GRADE_TEST(gather_aligns_with_input_order, .points = 3, .clauses = "co.1 co.3 co.4",
           .section = "02-completion-order#gather",
           .hint = "Write each result at results[c->index], whatever order the operations "
                   "end in, and call done once after the n-th.")
{
  uint64_t kinds[] = {FAKE};
  size_t order[] = {2, 0, 3, 1};

  ops_init(kinds, 1, 4);
  EXPECT_ERR("co_gather()", 0, co_gather(grade_loop(), &gather, &kind, 4, results, on_gathered));
  EXPECT_STREQ("operations started inside co_gather", "start:0 start:1 start:2 start:3",
               grade_trace_str("start"));
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

GRADE_TEST(gather_keeps_results_after_a_failure, .points = 2, .clauses = "co.3",
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

GRADE_TEST(as_completed_reports_a_failure_in_place, .points = 2, .clauses = "co.5",
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

GRADE_TEST(a_start_error_is_a_result, .points = 1, .clauses = "co.2",
           .section = "02-completion-order#operations",
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

/* calls[i] is how many times kind->cancel may be called on operation i:
 * '1' for an operation still running at the timeout, '0' for one that had
 * ended (or never started). The order of the calls is left open by co.h. */
static void expect_cancel_calls(const char *calls)
{
  for (size_t i = 0; calls[i] != '\0'; i++) {
    long count = 0;

    for (long at = 0; (at = ap_trace_find(grade_trace(), "cancel", (long) i, (size_t) at)) >= 0;
         at++)
      count++;
    EXPECT(count == calls[i] - '0',
           "kind->cancel was called %ld time%s on operation %zu; expected %d (%s); the cancel "
           "calls were: %s",
           count, count == 1 ? "" : "s", i, calls[i] - '0',
           calls[i] == '1' ? "it was still running at the timeout"
                           : "it had ended, or never started",
           grade_trace_str("cancel"));
  }
}

/* An operation of kind MANUAL ends: the test calls co_complete. */
static void complete(size_t index, int status)
{
  end_op(&ops[index], status, status == 0 ? VALUE(index) : 0);
}

/* $begin test-keep-running */
GRADE_TEST(keep_running_reports_the_rest_as_timed_out_and_waits_for_them, .points = 3,
           .clauses = "co.7 co.8 co.9", .section = "02-completion-order#timeouts",
           .hint = "At the timeout, report every operation not yet reported as UV_ETIMEDOUT (in "
                   "input order), count it in q->timed_out, close the timer and schedule a drain; "
                   "with CO_KEEP_RUNNING drop their later results, but call done only after they "
                   "have all ended.")
{
  uint64_t kinds[] = {FAKE};
  co_timeout_t timeout = {.ms = 5, .policy = CO_KEEP_RUNNING};

  ops_init(kinds, 1, 4);
  as_completed(4, &timeout);
  grade_run(); /* nothing ends before the timeout; then it expires */
  EXPECT_STREQ("operations in the order consume saw them",
               "consume:0 consume:1 consume:2 consume:3", grade_trace_str("consume"));
  expect_reports(4);
  for (size_t j = 0; j < 4; j++)
    EXPECT_ERR("status of a report made at the timeout", UV_ETIMEDOUT, seen[j].status);
  EXPECT_EQ("q->timed_out", 4, queue.timed_out);
  EXPECT_EQ("cancel calls with CO_KEEP_RUNNING", 0, ap_trace_count(grade_trace(), "cancel"));
  EXPECT_EQ("done calls while the four operations still run", 0, done_calls);
  finish(3, 0);
  finish(1, UV_EIO);
  finish(0, 0);
  grade_run();
  EXPECT_EQ("done calls while operation 2 still runs", 0, done_calls);
  finish(2, 0);
  grade_run();
  EXPECT_EQ("reports after the late operations ended", 4, seen_count);
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_EQ("operations ended when done ran", 4, completed_at_done);
  EXPECT_EQ("the queue's timer still in the loop when done ran", 0, queue_timer_at_done);
}
/* $end test-keep-running */

GRADE_TEST(a_result_queued_before_the_timeout_keeps_its_value, .points = 2, .clauses = "co.7 co.8",
           .section = "02-completion-order#timeouts",
           .hint = "An operation that called co_complete before the timeout has its report, even "
                   "if consume has not seen it yet: the timeout must neither report it again, nor "
                   "count it, nor cancel it, and its report stays ahead of the timed-out ones.")
{
  uint64_t kinds[] = {MANUAL, FAKE};
  co_timeout_t timeout = {.ms = 5, .policy = CO_CANCEL};

  ops_init(kinds, 2, 4);
  as_completed(4, &timeout);
  complete(0, 0);
  expire_timeout(5); /* the timeout runs before the drain of operation 0's report */
  grade_run();
  EXPECT_STREQ("operations in the order consume saw them",
               "consume:0 consume:1 consume:2 consume:3", grade_trace_str("consume"));
  expect_reports(4);
  EXPECT_ERR("report 1's status (operation 0 ended before the timeout)", 0, seen[0].status);
  for (size_t j = 1; j < 4; j++)
    EXPECT_ERR("status of a report made at the timeout", UV_ETIMEDOUT, seen[j].status);
  EXPECT_EQ("q->timed_out", 3, queue.timed_out);
  expect_cancel_calls("0111");
  EXPECT_EQ("done calls", 1, done_calls);
}

GRADE_TEST(a_result_the_timeout_beats_is_dropped, .points = 2, .clauses = "co.7 co.9",
           .section = "02-completion-order#timeouts",
           .hint = "Once the timeout has reported an operation, its co_complete must change "
                   "nothing: not the report's status or value (consume may not have seen it "
                   "yet), and no second report.")
{
  uint64_t kinds[] = {20, FAKE}; /* operation 0: a 20 ms timer, due after the 5 ms timeout */
  co_timeout_t timeout = {.ms = 5, .policy = CO_KEEP_RUNNING};

  ops_init(kinds, 2, 3);
  as_completed(3, &timeout);
  expire_timeout(20); /* both due: one turn runs the timeout, then operation 0's timer */
  grade_run();
  EXPECT_STREQ("operations in the order consume saw them", "consume:0 consume:1 consume:2",
               grade_trace_str("consume"));
  expect_reports(3);
  for (size_t j = 0; j < 3; j++)
    EXPECT_ERR("status of a report made at the timeout", UV_ETIMEDOUT, seen[j].status);
  EXPECT_EQ("report 1's value (operation 0 timed out)", 0, seen[0].value);
  EXPECT_EQ("q->timed_out", 3, queue.timed_out);
  EXPECT_EQ("done calls while two operations still run", 0, done_calls);
  finish(2, 0);
  finish(1, 0);
  grade_run();
  EXPECT_EQ("reports after the late operations ended", 3, seen_count);
  EXPECT_EQ("done calls", 1, done_calls);
}

GRADE_TEST(a_straggler_ends_without_a_report_or_an_inline_done, .points = 2, .clauses = "co.7 co.9",
           .section = "02-completion-order#all-done",
           .hint = "A late operation's co_complete reports nothing; if it is the last thing done "
                   "waited for, done still runs on a later turn, never inside "
                   "that co_complete.")
{
  uint64_t kinds[] = {MANUAL};
  co_timeout_t timeout = {.ms = 5, .policy = CO_KEEP_RUNNING};

  ops_init(kinds, 1, 2);
  as_completed(2, &timeout);
  complete(0, 0);
  expire_timeout(5);
  grade_run(); /* the timeout reports operation 1, after operation 0's report */
  expect_reports(2);
  EXPECT_ERR("report 2's status", UV_ETIMEDOUT, seen[1].status);
  EXPECT_EQ("done calls while operation 1 still runs", 0, done_calls);
  complete(1, 0);
  EXPECT_EQ("consume calls made inside the straggler's co_complete", 2, seen_count);
  EXPECT_EQ("done calls made inside the straggler's co_complete", 0, done_calls);
  grade_run();
  EXPECT_EQ("reports after the straggler ended", 2, seen_count);
  EXPECT_EQ("done calls", 1, done_calls);
}

GRADE_TEST(cancel_stops_each_running_operation_once, .points = 3, .clauses = "co.8 co.9",
           .section = "02-completion-order#timeouts",
           .hint = "With CO_CANCEL, call kind->cancel once on every operation that has not called "
                   "co_complete (not on one that ended or failed to start), in any order; done "
                   "waits for their completions and for the timer's close callback.")
{
  uint64_t kinds[] = {MANUAL, FAKE, 1000, FAIL_START, FAKE};
  co_timeout_t timeout = {.ms = 5, .policy = CO_CANCEL};

  ops_init(kinds, 5, 5);
  as_completed(5, &timeout);
  complete(0, 0);
  expire_timeout(5); /* 0 and 3 have ended, not yet consumed, when the timeout runs */
  grade_run();
  expect_cancel_calls("01101");
  expect_reports(5);
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

GRADE_TEST(gather_done_never_runs_inside_co_complete, .points = 2, .clauses = "co.4",
           .section = "02-completion-order#gather",
           .hint = "The last co_complete only queues deliver with ap_soon: done runs on a later "
                   "turn, never inside the operation's callback.")
{
  uint64_t kinds[] = {MANUAL};

  ops_init(kinds, 1, 3);
  EXPECT_ERR("co_gather()", 0, co_gather(grade_loop(), &gather, &kind, 3, results, on_gathered));
  complete(2, 0);
  complete(0, UV_EIO);
  EXPECT_EQ("done calls while operation 1 still runs", 0, done_calls);
  complete(1, 0);
  EXPECT_EQ("done calls made inside the last co_complete", 0, done_calls);
  grade_run();
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_EQ("g->failed when done ran", 1, failed_at_done);
}

GRADE_TEST(every_start_failing_is_reported_on_a_later_turn, .points = 2,
           .clauses = "co.2 co.4 co.6 co.10", .section = "02-completion-order#all-done",
           .hint = "When every start fails, every operation has ended inside the call: still, "
                   "done (and consume) run on a later turn, and a timeout no longer matters.")
{
  uint64_t kinds[] = {FAIL_START};
  co_timeout_t hour = {.ms = 3600 * 1000, .policy = CO_CANCEL};

  ops_init(kinds, 1, 3);
  EXPECT_ERR("co_gather()", 0, co_gather(grade_loop(), &gather, &kind, 3, results, on_gathered));
  EXPECT_EQ("gather: done calls made inside co_gather", 0, done_calls);
  grade_run();
  EXPECT_EQ("gather: done calls", 1, done_calls);
  EXPECT_EQ("gather: g->failed when done ran", 3, failed_at_done);
  for (size_t i = 0; i < 3; i++)
    EXPECT_ERR("gather: a result whose start failed", UV_EMFILE, results_at_done[i].status);
  done_calls = 0;
  as_completed(3, &hour);
  EXPECT_EQ("as_completed: consume calls made inside co_as_completed", 0, seen_count);
  EXPECT_EQ("as_completed: done calls made inside co_as_completed", 0, done_calls);
  for (int turn = 0; turn < 100 && done_calls == 0; turn++)
    uv_run(grade_loop(), UV_RUN_NOWAIT);
  EXPECT_EQ("as_completed: done calls within 100 loop turns", 1, done_calls);
  EXPECT_STREQ("as_completed: operations in the order consume saw them",
               "consume:0 consume:1 consume:2", grade_trace_str("consume"));
  expect_reports(3);
  for (size_t j = 0; j < 3; j++)
    EXPECT_ERR("as_completed: a report whose start failed", UV_EMFILE, seen[j].status);
  EXPECT_EQ("as_completed: cancel calls (nothing was running)", 0,
            ap_trace_count(grade_trace(), "cancel"));
  EXPECT_EQ("as_completed: the queue's timer still in the loop when done ran", 0,
            queue_timer_at_done);
}

GRADE_TEST(reports_follow_co_complete_when_operations_end_in_start, .points = 2,
           .clauses = "co.5 co.2", .section = "02-completion-order#completion-queue",
           .hint = "A start error ends its operation inside co_as_completed, before anything "
                   "else can end: queue its report then, in the one FIFO, like any other end.")
{
  uint64_t kinds[] = {FAKE, FAIL_START, INSTANT, FAIL_START, INSTANT, FAKE};

  ops_init(kinds, 6, 6);
  as_completed(6, NULL);
  finish(5, 0);
  grade_run();
  finish(0, UV_EIO);
  grade_run();
  EXPECT_STREQ("operations in the order consume saw them",
               "consume:1 consume:3 consume:2 consume:4 consume:5 consume:0",
               grade_trace_str("consume"));
  expect_reports(6);
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_ERR("co_gather()", 0, co_gather(grade_loop(), &gather, &kind, 6, results, on_gathered));
  finish(5, UV_EIO);
  finish(0, 0);
  grade_run();
  EXPECT_EQ("gather: done calls", 2, done_calls);
  for (size_t i = 0; i < 6; i++) {
    int status = (i == 1 || i == 3) ? UV_EMFILE : i == 5 ? UV_EIO : 0;

    EXPECT(results[i].status == status && (status != 0 || results[i].value == VALUE(i)),
           "gather: results[%zu] = {%s, %ld}; expected {%s, %ld}", i,
           grade_err_name(results[i].status), results[i].value, grade_err_name(status),
           status == 0 ? VALUE(i) : 0);
  }
  EXPECT_EQ("gather: g->failed", 3, gather.failed);
}

GRADE_TEST(every_result_is_in_before_done, .points = 2, .clauses = "co.4 co.9",
           .section = "02-completion-order#all-done",
           .hint = "done comes after the n-th end (gather: every result stored) or the n-th "
                   "report (as_completed: handed to consume), never one early.")
{
  uint64_t kinds[] = {FAKE};
  size_t order[] = {1, 3, 0, 2};

  ops_init(kinds, 1, 4);
  EXPECT_ERR("co_gather()", 0, co_gather(grade_loop(), &gather, &kind, 4, results, on_gathered));
  for (size_t j = 0; j < 4; j++) {
    finish(order[j], order[j] == 2 ? UV_EIO : 0);
    grade_run(); /* one end per turn */
  }
  EXPECT_EQ("gather: done calls", 1, done_calls);
  for (size_t i = 0; i < 4; i++)
    EXPECT(results_at_done[i].status == (i == 2 ? UV_EIO : 0) &&
               (i == 2 || results_at_done[i].value == VALUE(i)),
           "gather: when done ran, results[%zu] was {%s, %ld}; expected operation %zu's result", i,
           grade_err_name(results_at_done[i].status), results_at_done[i].value, i);
  EXPECT_EQ("gather: g->failed when done ran", 1, failed_at_done);
  as_completed(4, NULL);
  for (size_t j = 0; j < 4; j++) {
    finish(order[j], 0);
    grade_run();
  }
  EXPECT_EQ("as_completed: done calls", 2, done_calls);
  EXPECT_EQ("as_completed: reports handed to consume when done ran", 4, seen_at_done);
}

GRADE_TEST(failures_in_every_position_are_kept, .points = 2, .clauses = "co.3 co.5",
           .section = "02-completion-order#failures",
           .hint = "A failure is a result like any other wherever it is: first or last in input "
                   "order, first or last to end. Count every one, stop nothing.")
{
  uint64_t kinds[] = {FAKE};
  size_t order[] = {4, 2, 1, 3, 0}; /* the last in input order fails first */

  ops_init(kinds, 1, 5);
  EXPECT_ERR("co_gather()", 0, co_gather(grade_loop(), &gather, &kind, 5, results, on_gathered));
  for (size_t j = 0; j < 5; j++) {
    finish(order[j], order[j] % 2 == 0 ? UV_ECONNRESET : 0);
    grade_run();
  }
  EXPECT_EQ("gather: done calls", 1, done_calls);
  EXPECT_EQ("gather: g->failed (operations 0, 2 and 4 failed)", 3, gather.failed);
  for (size_t i = 0; i < 5; i++)
    EXPECT(results[i].status == (i % 2 == 0 ? UV_ECONNRESET : 0) &&
               (i % 2 == 0 || results[i].value == VALUE(i)),
           "gather: results[%zu] = {%s, %ld}; expected operation %zu's own result", i,
           grade_err_name(results[i].status), results[i].value, i);
  as_completed(5, NULL);
  for (size_t j = 0; j < 5; j++)
    finish(order[j], order[j] % 2 == 0 ? UV_ECONNRESET : 0);
  grade_run();
  EXPECT_STREQ("as_completed: operations in the order consume saw them",
               "consume:4 consume:2 consume:1 consume:3 consume:0", grade_trace_str("consume"));
  expect_reports(5);
  for (size_t j = 0; j < 5; j++)
    EXPECT_ERR("as_completed: a report's status", seen[j].index % 2 == 0 ? UV_ECONNRESET : 0,
               seen[j].status);
  EXPECT_EQ("as_completed: done calls", 2, done_calls);
}

GRADE_TEST(out_of_memory_starts_nothing_and_calls_nothing_back, .points = 1, .clauses = "co.11",
           .section = "02-completion-order#operations",
           .hint = "Allocate before starting anything or creating the timer; when the allocation "
                   "fails, return UV_ENOMEM with nothing open and never call back, not even "
                   "inside the call.")
{
  uint64_t kinds[] = {FAKE};
  co_timeout_t timeout = {.ms = 5, .policy = CO_CANCEL};

  ops_init(kinds, 1, 3);
  grade_fail_alloc(0);
  EXPECT_ERR("co_gather() when memory runs out", UV_ENOMEM,
             co_gather(grade_loop(), &gather, &kind, 3, results, never_gathered));
  EXPECT_ERR("co_as_completed() when memory runs out", UV_ENOMEM,
             co_as_completed(grade_loop(), &queue, &kind, 3, &timeout, never_consume, never_done));
  grade_fail_alloc(-1);
  EXPECT_EQ("operations started by the failed calls", 0, fakes.started);
  EXPECT_EQ("timers left by the failed calls", 0, timers_alive());
  grade_run();
}

/* $begin test-unused-timeout */
GRADE_TEST(done_does_not_wait_for_an_unused_timeout, .points = 2, .clauses = "co.10",
           .section = "02-completion-order#all-done",
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

GRADE_TEST(no_operations_done_on_a_later_turn, .points = 2, .clauses = "co.4 co.9 co.10",
           .section = "02-completion-order#all-done",
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
  done_calls = 0;
  as_completed(0, NULL); /* no timer either: only the lab's own later turn can call done */
  EXPECT_EQ("as_completed without a timeout: done calls inside the call", 0, done_calls);
  grade_run();
  EXPECT_EQ("as_completed without a timeout: done calls", 1, done_calls);
}

GRADE_TEST(one_operation_is_report_1_of_1, .points = 1, .clauses = "co.3 co.5",
           .section = "02-completion-order#progress",
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

static void gather_again(co_gather_t *g)
{
  on_gathered(g);
  if (done_calls == 1)
    EXPECT_ERR("co_gather() again, from done", 0,
               co_gather(grade_loop(), g, &kind, 2, results, gather_again));
}

static void queue_again(co_queue_t *q)
{
  on_done(q);
  if (done_calls == 1) {
    seen_count = 0;
    EXPECT_ERR("co_as_completed() again, from done", 0,
               co_as_completed(grade_loop(), q, &kind, 2, NULL, consume, queue_again));
  }
}

GRADE_TEST(gather_and_queue_start_again_from_done, .points = 2, .clauses = "co.12 co.3 co.5",
           .section = "02-completion-order#all-done",
           .hint = "done may start the same gather or queue again: set every field but data in "
                   "each call (g->failed too), and free the batch before calling done, never "
                   "after: once done has run, the struct is the next call's.")
{
  uint64_t kinds[] = {FAKE};

  ops_init(kinds, 1, 3);
  EXPECT_ERR("co_gather()", 0, co_gather(grade_loop(), &gather, &kind, 3, results, gather_again));
  finish(2, 0);
  finish(1, UV_EIO);
  finish(0, 0);
  grade_run();
  EXPECT_EQ("gather: done calls so far", 1, done_calls);
  EXPECT_EQ("first gather: g->failed when done ran (operation 1 failed)", 1, failed_at_done);
  finish(1, 0);
  finish(0, 0);
  grade_run();
  EXPECT_EQ("gather: done calls (one per gather)", 2, done_calls);
  EXPECT_EQ("second gather: g->failed when done ran (nothing failed)", 0, failed_at_done);
  for (size_t i = 0; i < 2; i++)
    EXPECT(results_at_done[i].status == 0 && results_at_done[i].value == VALUE(i),
           "second gather: results[%zu] = {%s, %ld}; expected {0, %ld}", i,
           grade_err_name(results_at_done[i].status), results_at_done[i].value, VALUE(i));
  done_calls = 0;
  EXPECT_ERR("co_as_completed()", 0,
             co_as_completed(grade_loop(), &queue, &kind, 3, NULL, consume, queue_again));
  finish(2, 0);
  finish(0, 0);
  finish(1, 0);
  grade_run();
  EXPECT_EQ("as_completed: done calls so far", 1, done_calls);
  EXPECT_EQ("second as_completed: reports so far", 0, seen_count);
  finish(1, 0);
  finish(0, UV_EIO);
  grade_run();
  EXPECT_EQ("as_completed: done calls (one per call)", 2, done_calls);
  EXPECT_EQ("second as_completed: reports", 2, seen_count);
  EXPECT(seen[0].index == 1 && seen[0].k == 1 && seen[0].n == 2 && seen[0].value == VALUE(1),
         "second as_completed: report 1 is operation %zu, %zu/%zu, value %ld; expected "
         "operation 1, 1/2, value %ld",
         seen[0].index, seen[0].k, seen[0].n, seen[0].value, VALUE(1));
  EXPECT(seen[1].index == 0 && seen[1].k == 2 && seen[1].status == UV_EIO,
         "second as_completed: report 2 is operation %zu, k = %zu, %s; expected operation 0, "
         "k = 2, UV_EIO",
         seen[1].index, seen[1].k, grade_err_name(seen[1].status));
}

/* 10,000 fakes ended in the order of a permutation: as_completed hands them
 * over in that order, gather aligns them; then 10,000 timers with 17
 * distinct delays, all due before the loop runs (so one turn runs them, on
 * any machine), which end by delay and, for equal delays, in start order. */
GRADE_TEST(ten_thousand_operations, .points = 2, .clauses = "co.3 co.5",
           .section = "02-completion-order#completion-queue",
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
  grade_run_late(16); /* every timer ends in the first turn */
  expect_reports(N);
  for (uint64_t d = 0; d < 17; d++)
    for (size_t i = 0; i < N; i++)
      CHECK(delays[i] != d || seen[j++].index == i,
            "timers: report %zu is operation %zu; expected %zu (delay %llu ms, equal "
            "delays in start order)",
            j, seen[j - 1].index, i, (unsigned long long) d);
  EXPECT_EQ("done calls", 3, done_calls);
}

GRADE_TEST(rejects_bad_arguments, .points = 1, .clauses = "co.11",
           .section = "02-completion-order#operations",
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
  bad_policy.policy = CO_CANCEL + 1;
  EXPECT_ERR("co_as_completed() with a policy past CO_CANCEL", UV_EINVAL,
             co_as_completed(loop, &queue, &kind, 2, &bad_policy, never_consume, never_done));
  EXPECT_ERR("co_as_completed() with CO_CANCEL and kind->cancel NULL", UV_EINVAL,
             co_as_completed(loop, &queue, &no_cancel, 2, &cancel, never_consume, never_done));
  EXPECT_ERR("co_gather() without kind", UV_EINVAL,
             co_gather(loop, &gather, NULL, 2, results, never_gathered));
  EXPECT_ERR("co_gather() with kind->start NULL", UV_EINVAL,
             co_gather(loop, &gather, &no_start, 2, results, never_gathered));
  EXPECT_ERR("co_gather() without results", UV_EINVAL,
             co_gather(loop, &gather, &kind, 2, NULL, never_gathered));
  EXPECT_ERR("co_gather() of one operation without results", UV_EINVAL,
             co_gather(loop, &gather, &kind, 1, NULL, never_gathered));
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
          &keep_running_reports_the_rest_as_timed_out_and_waits_for_them,
          &a_result_queued_before_the_timeout_keeps_its_value,
          &a_result_the_timeout_beats_is_dropped,
          &a_straggler_ends_without_a_report_or_an_inline_done,
          &cancel_stops_each_running_operation_once,
          &gather_done_never_runs_inside_co_complete,
          &every_start_failing_is_reported_on_a_later_turn,
          &reports_follow_co_complete_when_operations_end_in_start,
          &every_result_is_in_before_done,
          &failures_in_every_position_are_kept,
          &out_of_memory_starts_nothing_and_calls_nothing_back,
          &done_does_not_wait_for_an_unused_timeout,
          &no_operations_done_on_a_later_turn,
          &one_operation_is_report_1_of_1,
          &gather_and_queue_start_again_from_done,
          &ten_thousand_operations,
          &rejects_bad_arguments)
/* clang-format on */
