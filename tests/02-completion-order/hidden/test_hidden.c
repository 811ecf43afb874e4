/* test_hidden.c — hidden graded tests for lab 02 (co.h).
 *
 * Not shipped in student handouts: they run in the instructor's repository
 * and in the gradebook, and are reported as hidden. They probe what a student
 * should find by reading the contract in co.h, not the public tests: a
 * gather and a queue whose fields hold garbage, each started again from its
 * own done; a timeout that beats a result already on its way, under
 * CO_CANCEL; an operation that refuses to be cancelled.
 *
 * The operations are fakes (ap_fake_t, ended when the test says) or manual
 * ones (the test calls co_complete; their cancel refuses with UV_EBUSY).
 * expire_timeout() blocks the loop thread until the timeout is due, so the
 * next loop turn runs it before anything else: no verdict depends on load.
 */
#include <string.h>

#include "co.h"
#include "../expire.h"
#include "grade.h"

enum { N = 4 };

typedef struct hop {
  ap_fake_t fake;
  co_completion_t *c;
  int manual;
} hop_t;

static hop_t hops[N];
static ap_fakes_t fakes;
static co_item_t seen[8];
static size_t seen_count;
static int done_calls;
static co_queue_t queue;
static co_gather_t gather;
static co_result_t results[N];

static void on_fake(ap_fake_t *fake, int status, long value)
{
  co_complete(AP_CONTAINER_OF(fake, hop_t, fake)->c, status, value);
}

static int start_hop(uv_loop_t *loop, size_t index, void *ctx, co_completion_t *c)
{
  (void) loop, (void) ctx;
  hops[index].c = c;
  if (!hops[index].manual)
    ap_fake_start(&fakes, &hops[index].fake, (long) index, on_fake);
  return 0;
}

static int cancel_hop(uv_loop_t *loop, size_t index, void *ctx, co_completion_t *c)
{
  (void) loop, (void) ctx, (void) c;
  ap_trace_add(grade_trace(), "cancel", (long) index, 0);
  if (hops[index].manual)
    return UV_EBUSY;
  return ap_fake_complete(&hops[index].fake, UV_ECANCELED, 0);
}

static const co_kind_t kind = {start_hop, cancel_hop, NULL};

static void hops_init(int manual0)
{
  ap_fakes_init(&fakes, grade_loop(), grade_trace(), NULL);
  for (size_t i = 0; i < N; i++)
    hops[i].manual = i == 0 && manual0;
}

static void finish(size_t index, int status)
{
  EXPECT_ERR("the test ending a started fake operation", 0,
             ap_fake_complete(&hops[index].fake, status, status == 0 ? 100 + (long) index : 0));
}

static void consume(co_queue_t *q, const co_item_t *item)
{
  EXPECT(q == &queue, "consume got a queue pointer that is not the caller's");
  ap_trace_add(grade_trace(), "consume", (long) item->index, (long) item->k);
  if (seen_count < AP_COUNT_OF(seen))
    seen[seen_count] = *item;
  seen_count++;
}

static void on_done(co_queue_t *q)
{
  (void) q;
  ap_trace_add(grade_trace(), "all-done", 0, 0);
  done_calls++;
}

/* ---- Garbage, then again from done ---------------------------------------- */
static void gather_again(co_gather_t *g)
{
  done_calls++;
  if (done_calls == 1) {
    EXPECT_EQ("first gather: g->failed (operation 1 failed)", 1, g->failed);
    EXPECT_ERR("co_gather() again, from done", 0,
               co_gather(grade_loop(), g, &kind, 2, results, gather_again));
  }
}

static void queue_again(co_queue_t *q)
{
  on_done(q);
  if (done_calls == 3) {
    EXPECT_EQ("first as_completed: q->timed_out", 3, q->timed_out);
    seen_count = 0;
    EXPECT_ERR("co_as_completed() again, from done, without a timeout", 0,
               co_as_completed(grade_loop(), q, &kind, 2, NULL, consume, queue_again));
  }
}

GRADE_TEST(gathers_and_queues_over_garbage_and_again_from_done, .points = 2,
           .clauses = "co.12 co.3 co.7", .section = "02-completion-order#lab",
           .hint = "co_gather and co_as_completed must set every field but data themselves "
                   "(failed, timed_out, the queue's head and counters...): the caller may hand "
                   "over garbage, or the struct it just used, from done.")
{
  co_timeout_t timeout = {.ms = 5, .policy = CO_KEEP_RUNNING};

  hops_init(0);
  memset(&gather, 0xa5, sizeof(gather));
  gather.data = NULL;
  EXPECT_ERR("co_gather() over garbage", 0,
             co_gather(grade_loop(), &gather, &kind, 3, results, gather_again));
  finish(2, 0);
  finish(1, UV_EIO);
  finish(0, 0);
  grade_run();
  EXPECT_EQ("gather: done calls so far", 1, done_calls);
  finish(1, 0);
  finish(0, 0);
  grade_run();
  EXPECT_EQ("gather: done calls (one per gather)", 2, done_calls);
  EXPECT_EQ("second gather: g->failed (nothing failed)", 0, gather.failed);
  EXPECT(results[0].value == 100 && results[1].status == 0 && results[1].value == 101,
         "second gather: results[0..1] = {%s, %ld} {%s, %ld}; expected {0, 100} {0, 101}",
         grade_err_name(results[0].status), results[0].value, grade_err_name(results[1].status),
         results[1].value);

  memset(&queue, 0xa5, sizeof(queue));
  queue.data = NULL;
  EXPECT_ERR("co_as_completed() over garbage", 0,
             co_as_completed(grade_loop(), &queue, &kind, 3, &timeout, consume, queue_again));
  grade_run(); /* nothing ends before the timeout */
  finish(0, 0);
  finish(1, 0);
  finish(2, 0);
  grade_run();
  EXPECT_EQ("as_completed: done calls so far", 3, done_calls);
  EXPECT_EQ("second as_completed: reports so far", 0, seen_count);
  finish(1, 0);
  finish(0, UV_EIO);
  grade_run();
  EXPECT_EQ("as_completed: done calls (one per call)", 4, done_calls);
  EXPECT_EQ("second as_completed: reports", 2, seen_count);
  EXPECT(seen[0].index == 1 && seen[0].k == 1 && seen[0].n == 2 && seen[0].value == 101,
         "second as_completed: report 1 is operation %zu, %zu/%zu, value %ld; expected "
         "operation 1, 1/2, value 101",
         seen[0].index, seen[0].k, seen[0].n, seen[0].value);
  EXPECT(seen[1].index == 0 && seen[1].k == 2 && seen[1].status == UV_EIO,
         "second as_completed: report 2 is operation %zu, k = %zu, %s; expected operation 0, "
         "k = 2, UV_EIO",
         seen[1].index, seen[1].k, grade_err_name(seen[1].status));
  EXPECT_EQ("second as_completed: q->timed_out (no timeout)", 0, queue.timed_out);
}

/* ---- A timeout that beats a result on its way, under CO_CANCEL -------------- */
GRADE_TEST(a_cancel_that_comes_too_late_changes_no_report, .points = 1, .clauses = "co.7 co.8",
           .section = "02-completion-order#timeouts",
           .hint = "An operation that has not called co_complete when the timeout runs is timed "
                   "out and cancelled, even if its end is already on its way: cancel may fail, "
                   "its co_complete then comes anyway, and must change nothing.")
{
  co_timeout_t timeout = {.ms = 5, .policy = CO_CANCEL};

  hops_init(0);
  EXPECT_ERR("co_as_completed()", 0,
             co_as_completed(grade_loop(), &queue, &kind, 3, &timeout, consume, on_done));
  finish(0, 0);      /* delivered on the next turn, after the timeout */
  expire_timeout(5); /* the timeout is due: the next turn runs it first */
  grade_run();
  EXPECT_STREQ("operations in the order consume saw them", "consume:0 consume:1 consume:2",
               grade_trace_str("consume"));
  for (size_t j = 0; j < 3; j++)
    EXPECT(seen[j].status == UV_ETIMEDOUT && seen[j].k == j + 1,
           "report %zu (operation %zu): %s, %zu/3; expected UV_ETIMEDOUT, %zu/3", j + 1,
           seen[j].index, grade_err_name(seen[j].status), seen[j].k, j + 1);
  EXPECT_EQ("q->timed_out", 3, queue.timed_out);
  EXPECT_EQ("cancel calls (one per operation that had not called co_complete)", 3,
            ap_trace_count(grade_trace(), "cancel"));
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_EQ("reports", 3, seen_count);
}

/* ---- An operation that cannot be cancelled ---------------------------------- */
GRADE_TEST(an_operation_that_refuses_cancel_is_waited_for, .points = 1, .clauses = "co.8 co.9",
           .section = "02-completion-order#all-done",
           .hint = "An error from cancel changes nothing: the operation still ends later, done "
                   "waits for it, and its end reports nothing and calls back nothing inline.")
{
  co_timeout_t timeout = {.ms = 5, .policy = CO_CANCEL};

  hops_init(1); /* operation 0 is manual: its cancel returns UV_EBUSY */
  EXPECT_ERR("co_as_completed()", 0,
             co_as_completed(grade_loop(), &queue, &kind, 2, &timeout, consume, on_done));
  grade_run(); /* the timeout: both timed out and cancelled, operation 1 ends */
  EXPECT_STREQ("operations in the order consume saw them", "consume:0 consume:1",
               grade_trace_str("consume"));
  EXPECT(ap_trace_count(grade_trace(), "cancel") == 2 &&
             ap_trace_find(grade_trace(), "cancel", 0, 0) >= 0 &&
             ap_trace_find(grade_trace(), "cancel", 1, 0) >= 0,
         "expected one cancel call on each operation, in any order; they were: %s",
         grade_trace_str("cancel"));
  EXPECT_EQ("done calls while operation 0 (its cancel failed) still runs", 0, done_calls);
  co_complete(hops[0].c, 0, 100);
  EXPECT_EQ("consume calls made inside its late co_complete", 2, seen_count);
  EXPECT_EQ("done calls made inside its late co_complete", 0, done_calls);
  grade_run();
  EXPECT_EQ("reports", 2, seen_count);
  EXPECT_EQ("done calls", 1, done_calls);
}

GRADE_HIDDEN(&gathers_and_queues_over_garbage_and_again_from_done,
             &a_cancel_that_comes_too_late_changes_no_report,
             &an_operation_that_refuses_cancel_is_waited_for);
