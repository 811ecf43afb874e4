/* test_hidden.c — hidden graded tests for lab 06 (taskgroup.h).
 *
 * Not shipped in student handouts: they run in the instructor's repository
 * and in the gradebook, and are reported as hidden. They probe what a student
 * should find by reading the contract in taskgroup.h, not the public tests:
 * groups and children whose private fields hold garbage, run twice; an inner
 * group that is already stopping when its parent cancels it; a deadline that
 * fires while the body still runs, in a parent and in an inner group.
 *
 * Orders are forced as in the public tests: fakes end when the test says,
 * timers started in one turn fire in deadline order.
 */
#include <string.h>

#include "../kit.h"

/* ---- Garbage in every private field, and a second run ----------------------- */

static int job_returns_zero(void *arg)
{
  (void) arg;
  return 0;
}

typedef struct mess {
  tg_t outer, inner;
  fake_child_t fake, inner_fake;
  tg_timer_t timer;
  tg_work_t job;
} mess_t;

/* Fills everything with 0xa5, then sets only what the caller owns. */
static void dirty(mess_t *m)
{
  memset(m, 0xa5, sizeof *m);
  m->outer.trace = m->inner.trace = NULL;
  m->outer.data = m->inner.data = NULL;
  m->fake.cancel_status = m->inner_fake.cancel_status = 0;
  m->fake.busy = m->inner_fake.busy = 0;
}

/* outer (base): fake base+1, timer base+2 (timer_status after delay_ms), job
 * base+3, inner base+10 (fake base+11). A run that fails its fake first
 * gives the timer a delay it cannot reach: with 1 ms the timer could fire in
 * the turn of the cancel or before it, as the loop's time happens to be, and
 * a wrong solution's verdict would depend on which. */
static void run_mess(mess_t *m, long base, int timer_status, uint64_t delay_ms)
{
  done_calls = 0;
  open_group(&m->outer, base, 60000);
  fake_spawn(&m->outer, &m->fake, base + 1);
  EXPECT_ERR("tg_timer_start()", 0,
             tg_timer_start(&m->outer, &m->timer, base + 2, delay_ms, timer_status));
  EXPECT_ERR("tg_work_start()", 0,
             tg_work_start(&m->outer, &m->job, base + 3, job_returns_zero, NULL));
  EXPECT_ERR("tg_group_start()", 0, tg_group_start(&m->outer, &m->inner, base + 10, 60000));
  fake_spawn(&m->inner, &m->inner_fake, base + 11);
  EXPECT_ERR("tg_wait(inner)", 0, wait_group(&m->inner));
  EXPECT_ERR("tg_wait()", 0, wait_group(&m->outer));
  ap_fake_complete(&m->inner_fake.op, 0, 0);
}

GRADE_TEST(garbage_fields_and_a_second_run, .points = 3, .clauses = "tg.1 tg.13",
           .section = "06-task-groups#lab",
           .hint = "tg_start and every start function set each private field (status, others, "
                   "cancelling, state, the list, a child's links), whatever the memory held: a "
                   "group and its children may run again.")
{
  static mess_t m;
  size_t cancels;

  dirty(&m);
  run_mess(&m, 0, 0, 60000);
  ap_fake_complete(&m.fake.op, UV_ENOENT, 0);
  grade_run();
  expect_finished_last(0, UV_ENOENT, 0);

  /* The same structs again, over what the first run left in them. */
  cancels = ap_trace_count(grade_trace(), "cancel");
  run_mess(&m, 100, 0, 1);
  ap_fake_complete(&m.fake.op, 0, 0);
  grade_run();
  EXPECT_EQ("\"cancel\" events in a second run where nothing failed", (long) cancels,
            (long) ap_trace_count(grade_trace(), "cancel"));
  expect_finished_last(100, 0, 0);

  /* And over garbage once more, the timer failing this time. */
  dirty(&m);
  run_mess(&m, 200, UV_EPIPE, 1);
  grade_run();
  expect_cancelled(201, expect_one_exit(202, UV_EPIPE), UV_ECANCELED);
  expect_finished_last(200, UV_EPIPE, 0);
}

/* ---- An inner group that is stopping already -------------------------------- */

GRADE_TEST(an_inner_group_stopping_already_answers_ealready, .points = 2, .clauses = "tg.9 tg.12",
           .section = "06-task-groups#nesting",
           .hint = "Cancelling a group child whose group is cancelling (its own error) or "
                   "finishing returns UV_EALREADY: it exits soon with its own status, which the "
                   "parent counts like any child's.")
{
  fake_child_t inner_fakes[2] = {0}, outer_fake = {0}, done_fake = {0}, late_fake = {0};
  tg_t outer = {0}, inner = {0}, outer2 = {0}, inner2 = {0};
  ap_trace_t own;

  /* Inner's own error first, then a sibling's in the same turn. */
  open_group(&outer, 100, 0);
  EXPECT_ERR("tg_group_start()", 0, tg_group_start(&outer, &inner, 10, 0));
  fake_spawn(&inner, &inner_fakes[0], 11);
  fake_spawn(&inner, &inner_fakes[1], 12);
  EXPECT_ERR("tg_wait(inner)", 0, wait_group(&inner));
  fake_spawn(&outer, &outer_fake, 1);
  EXPECT_ERR("tg_wait()", 0, wait_group(&outer));
  ap_fake_complete(&inner_fakes[0].op, UV_EIO, 0);
  ap_fake_complete(&outer_fake.op, UV_EPIPE, 0);
  grade_run();
  EXPECT_ERR("what the cancel of a cancelling inner group returned", UV_EALREADY,
             (int) value_at(ap_trace_find(grade_trace(), "cancel", 10, 0)));
  expect_one_exit(10, UV_EIO);
  expect_finished_last(100, UV_EPIPE, 1);

  /* Inner finishing (its last child exited), then a sibling fails; inner's
   * trace is its own: tg_group_start keeps it. */
  ap_trace_init(&own, grade_loop());
  done_calls = 0;
  open_group(&outer2, 200, 0);
  inner2.trace = &own;
  EXPECT_ERR("tg_group_start()", 0, tg_group_start(&outer2, &inner2, 20, 0));
  fake_spawn(&inner2, &done_fake, 21);
  EXPECT_ERR("tg_wait(inner)", 0, wait_group(&inner2));
  fake_spawn(&outer2, &late_fake, 2);
  EXPECT_ERR("tg_wait()", 0, wait_group(&outer2));
  ap_fake_complete(&done_fake.op, 0, 0);
  ap_fake_complete(&late_fake.op, UV_EIO, 0);
  grade_run();
  EXPECT_ERR("what the cancel of a finishing inner group returned", UV_EALREADY,
             (int) value_at(ap_trace_find(grade_trace(), "cancel", 20, 0)));
  expect_one_exit(20, 0);
  EXPECT(ap_trace_find(&own, "finish", 20, 0) >= 0 &&
             ap_trace_find(grade_trace(), "finish", 20, 0) < 0,
         "the inner group's events go to its own trace when it has one; parent's trace: %s",
         grade_trace_str(""));
  expect_finished_last(200, UV_EIO, 0);
  ap_trace_free(&own);
}

/* ---- A deadline while the body runs ----------------------------------------- */

static tg_t body_group;
static fake_child_t body_busy, refused;
static ap_sleep_t body_sleep;
static int body_add_result, body_done_calls, body_cancel_result;

/* 30 ms: the 10 ms deadline has fired; the body ends now. */
static void body_ends(ap_sleep_t *req, int status)
{
  (void) req, (void) status;
  body_add_result = tg_add(&body_group, &refused.child, 9, &fake_ops);
  body_cancel_result = cancel_group(&body_group);
  body_done_calls = done_calls;
  ap_fake_complete(&body_busy.op, 0, 0);
  EXPECT_ERR("tg_wait()", 0, wait_group(&body_group));
}

GRADE_TEST(a_deadline_while_the_body_runs, .points = 2, .clauses = "tg.2 tg.4 tg.7",
           .section = "06-task-groups#deadline",
           .hint = "The deadline counts from tg_start, not from tg_wait: it cancels the children "
                   "while the body still runs, refuses new ones, and done still waits for "
                   "tg_wait. An inner group's deadline is that group's error in its parent.")
{
  fake_child_t quiet = {0}, sibling = {0};
  tg_t inner = {0};

  open_group(&body_group, 0, 10);
  body_busy.busy = 1;
  fake_spawn(&body_group, &body_busy, 1);
  fake_spawn(&body_group, &quiet, 2);
  ap_sleep_start(grade_loop(), &body_sleep, 30, body_ends);
  grade_run();
  EXPECT_ERR("tg_add() after the deadline", UV_ECANCELED, body_add_result);
  EXPECT_ERR("tg_cancel() after the deadline", UV_EALREADY, body_cancel_result);
  EXPECT_EQ("done calls before tg_wait()", 0, body_done_calls);
  EXPECT(ap_trace_find(grade_trace(), "deadline", 0, 0) >= 0, "expected \"deadline:0\"; trace: %s",
         grade_trace_str(""));
  expect_cancelled(2, ap_trace_find(grade_trace(), "deadline", 0, 0), UV_ECANCELED);
  expect_finished_last(0, UV_ETIMEDOUT, 0);

  /* An inner group's deadline fails it, and so its parent. */
  done_calls = 0;
  open_group(&body_group, 100, 0);
  EXPECT_ERR("tg_group_start()", 0, tg_group_start(&body_group, &inner, 10, 5));
  fake_spawn(&inner, &quiet, 11);
  EXPECT_ERR("tg_wait(inner)", 0, wait_group(&inner));
  fake_spawn(&body_group, &sibling, 12);
  EXPECT_ERR("tg_wait()", 0, wait_group(&body_group));
  grade_run();
  expect_cancelled(12, expect_one_exit(10, UV_ETIMEDOUT), UV_ECANCELED);
  expect_finished_last(100, UV_ETIMEDOUT, 0);
}

GRADE_HIDDEN(&garbage_fields_and_a_second_run, &an_inner_group_stopping_already_answers_ealready,
             &a_deadline_while_the_body_runs);
