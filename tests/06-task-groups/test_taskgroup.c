/* test_taskgroup.c — graded tests for lab 06 (task groups).
 *
 * Every order here is exact without a clock: fake children complete when the
 * test says so (their result arrives through call-soon, in FIFO order), timers
 * started in one turn fire in deadline order (a child that must beat the
 * group's deadline exits from the first turn's timer phase: kit.h), a thread-pool job blocks on a
 * semaphore until the test posts it, and the pool has one thread when a test
 * needs a job to stay queued. The trace holds the group's own events:
 * "open", "add", "cancel" (value: what the kind's cancel returned), "exit" (value:
 * the child's status), "deadline", "finish" (value: the group's status).
 */
#include <stdlib.h>
#include <string.h>

#include "grade.h"
#include "kit.h"

/* ---- Completes once and last ----------------------------------------------- */

static tg_t body_group;
static tg_timer_t late_timer;
static ap_soon_t body_soon;

/* The end of the async-with body: children exited already, one more joins. */
static void body_ends(ap_soon_t *soon)
{
  (void) soon;
  EXPECT_EQ("done calls before tg_wait (the body is still running)", 0, done_calls);
  EXPECT_ERR("tg_timer_start() while the body runs", 0,
             tg_timer_start(&body_group, &late_timer, 4, 1, 0));
  EXPECT_ERR("tg_wait()", 0, wait_group(&body_group));
  EXPECT_EQ("done calls right after tg_wait()", 0, done_calls);
}

GRADE_TEST(parent_completes_once_and_last, .points = 3, .clauses = "tg.2 tg.4 tg.8 tg.10 tg.14",
           .section = "06-task-groups#finishing",
           .hint = "Finish only when tg_wait() was called AND no child runs, once: close the "
                   "deadline timer and report from its close callback, never inside tg_wait().")
{
  fake_child_t f[3] = {0};
  tg_t empty = {0};

  open_group(&body_group, 0, 0);
  for (long i = 0; i < 3; i++)
    fake_spawn(&body_group, &f[i], i + 1);
  for (long i = 0; i < 3; i++)
    ap_fake_complete(&f[i].op, 0, 0);
  ap_soon(grade_loop(), &body_soon, body_ends); /* runs after the three exits */
  grade_run();
  expect_one_exit(4, 0);
  expect_finished_last(0, 0, 0);

  done_calls = 0;
  open_group(&empty, 9, 0);
  EXPECT_ERR("tg_wait() on an empty group", 0, wait_group(&empty));
  EXPECT_EQ("done calls inside tg_wait() of an empty group", 0, done_calls);
  grade_run();
  expect_finished_last(9, 0, 0);
}

/* ---- The first failure cancels the siblings -------------------------------- */

static tg_t late_group;
static fake_child_t late_child;
static ap_soon_t late_soon;
static int late_add_result;

static void add_while_cancelling(ap_soon_t *soon)
{
  (void) soon;
  late_add_result = tg_add(&late_group, &late_child.child, 99, &fake_ops);
}

/* Due with the slow timer child, started after it: if that child still waits
 * for its own expiry, this fires first in the same timer phase, before the
 * child's close callback. Unreferenced: it never keeps the loop alive. */
static uv_timer_t slow_sentinel;

static void slow_sentinel_fired(uv_timer_t *timer)
{
  ap_trace_add(grade_trace(), "sentinel", 4, 0);
  uv_close((uv_handle_t *) timer, NULL);
}

static void start_sentinel(uint64_t ms)
{
  uv_timer_init(grade_loop(), &slow_sentinel);
  slow_sentinel.data = &test_timer_mark; /* not the group's: done may see it open */
  uv_timer_start(&slow_sentinel, slow_sentinel_fired, ms, 0);
  uv_unref((uv_handle_t *) &slow_sentinel);
}

/* The sentinel must not have fired before the slow child's exit. */
static void expect_exit_before_sentinel(long id)
{
  long sentinel_at = ap_trace_find(grade_trace(), "sentinel", 4, 0);

  EXPECT(sentinel_at < 0 || sentinel_at > ap_trace_find(grade_trace(), "exit", id, 0),
         "child %ld, a pending timer, waited for its own expiry: cancelling it stops and "
         "closes it; trace: %s",
         id, grade_trace_str(""));
  if (!uv_is_closing((uv_handle_t *) &slow_sentinel)) {
    uv_close((uv_handle_t *) &slow_sentinel, NULL);
    grade_run();
  }
}

GRADE_TEST(first_failure_cancels_siblings, .points = 3, .clauses = "tg.2 tg.3 tg.5 tg.10",
           .section = "06-task-groups#first-failure",
           .hint = "On the first error, call every running child's ops->cancel once, then keep "
                   "waiting: each cancelled child still exits (UV_ECANCELED) before done runs.")
{
  fake_child_t f[3] = {0};
  tg_timer_t slow;
  long failed_at;

  open_group(&late_group, 0, 0);
  for (long i = 0; i < 3; i++)
    fake_spawn(&late_group, &f[i], i + 1);
  EXPECT_ERR("tg_timer_start()", 0, tg_timer_start(&late_group, &slow, 4, 1000, 0));
  start_sentinel(1000);
  EXPECT_ERR("tg_wait()", 0, wait_group(&late_group));
  ap_fake_complete(&f[1].op, UV_EIO, 0);
  ap_soon(grade_loop(), &late_soon, add_while_cancelling);
  grade_run();
  failed_at = expect_one_exit(2, UV_EIO);
  expect_cancelled(1, failed_at, UV_ECANCELED);
  expect_cancelled(3, failed_at, UV_ECANCELED);
  expect_cancelled(4, failed_at, UV_ECANCELED);
  EXPECT_ERR("what the pending timer's cancel returned", 0,
             (int) value_at(ap_trace_find(grade_trace(), "cancel", 4, 0)));
  expect_exit_before_sentinel(4);
  expect_finished_last(0, UV_EIO, 0);
  EXPECT_ERR("tg_add() after the first failure (asyncio: the group is shutting down)", UV_ECANCELED,
             late_add_result);
}

/* ---- Error aggregation ----------------------------------------------------- */

GRADE_TEST(done_gets_the_first_error_and_counts_the_others, .points = 3, .clauses = "tg.6",
           .section = "06-task-groups#errors",
           .hint = "Keep the FIRST error; count later ones in others. UV_ECANCELED answers our "
                   "own cancel: never an error. An error raised while cancelling is one.")
{
  fake_child_t f[5] = {0};
  tg_t g = {0};

  open_group(&g, 0, 0);
  f[3].cancel_status = UV_EPIPE; /* child 4 fails while it is being cancelled */
  for (long i = 0; i < 5; i++)
    fake_spawn(&g, &f[i], i + 1);
  wait_group(&g);
  ap_fake_complete(&f[0].op, 0, 0);
  ap_fake_complete(&f[1].op, UV_EIO, 0);        /* the first error */
  ap_fake_complete(&f[2].op, UV_ECONNRESET, 0); /* same turn, just after it */
  grade_run();
  expect_one_exit(3, UV_ECONNRESET);
  expect_one_exit(4, UV_EPIPE);
  expect_one_exit(5, UV_ECANCELED);
  expect_finished_last(0, UV_EIO, 2);
}

/* ---- Deadline -------------------------------------------------------------- */

GRADE_TEST(deadline_cancels_the_group, .points = 3, .clauses = "tg.5 tg.7",
           .section = "06-task-groups#deadline",
           .hint = "When the deadline timer fires, the status becomes UV_ETIMEDOUT and the "
                   "running children are cancelled the same way as on a failure.")
{
  first_turn_child_t quick;
  fake_child_t stuck = {0};
  tg_timer_t slow;
  tg_t g = {0};
  long deadline_at;

  open_group(&g, 7, 20);
  first_turn_spawn(&g, &quick, 1, 0); /* exits before the deadline, however late */
  fake_spawn(&g, &stuck, 2);
  EXPECT_ERR("tg_timer_start()", 0, tg_timer_start(&g, &slow, 3, 1000, 0));
  wait_group(&g);
  grade_run();
  deadline_at = ap_trace_find(grade_trace(), "deadline", 7, 0);
  EXPECT(deadline_at > expect_one_exit(1, 0),
         "expected \"deadline:7\" after child 1's exit; trace: %s", grade_trace_str(""));
  expect_cancelled(2, deadline_at, UV_ECANCELED);
  expect_cancelled(3, deadline_at, UV_ECANCELED);
  EXPECT_ERR("the group's status when child 2's cancel was called (the deadline fired)",
             UV_ETIMEDOUT, stuck.status_at_cancel);
  expect_finished_last(7, UV_ETIMEDOUT, 0);
}

GRADE_TEST(unexpired_deadline_is_closed, .points = 2, .clauses = "tg.4 tg.7",
           .section = "06-task-groups#deadline",
           .hint = "The deadline timer is the group's own handle: close it (not just stop it) "
                   "before done, also when it never fired.")
{
  fake_child_t f[2] = {0};
  tg_t g = {0};

  open_group(&g, 0, 60000);
  fake_spawn(&g, &f[0], 1);
  fake_spawn(&g, &f[1], 2);
  wait_group(&g);
  ap_fake_complete(&f[0].op, 0, 0);
  ap_fake_complete(&f[1].op, 0, 0);
  grade_run();
  EXPECT_EQ("\"deadline\" events", 0, ap_trace_count(grade_trace(), "deadline"));
  expect_finished_last(0, 0, 0);
}

static fake_child_t stubborn;
static ap_sleep_t stubborn_sleep;

static void stubborn_ends(ap_sleep_t *req, int status)
{
  (void) req, (void) status;
  ap_fake_complete(&stubborn.op, 0, 0);
}

GRADE_TEST(deadline_stops_at_first_failure, .points = 2, .clauses = "tg.7",
           .section = "06-task-groups#deadline",
           .hint = "Stop the deadline timer when the cancellation starts: a deadline passing "
                   "while the group waits for a busy child must not replace the first error.")
{
  first_turn_child_t failing;
  tg_t g = {0};

  open_group(&g, 0, 20);
  first_turn_spawn(&g, &failing, 1, UV_EIO); /* fails before the deadline, however late */
  stubborn.busy = 1;
  fake_spawn(&g, &stubborn, 2);
  wait_group(&g);
  /* Child 2 ends at 40 ms, after the 20 ms deadline would have fired. */
  ap_sleep_start(grade_loop(), &stubborn_sleep, 40, stubborn_ends);
  grade_run();
  EXPECT_ERR("what child 2's cancel returned", UV_EBUSY,
             (int) value_at(ap_trace_find(grade_trace(), "cancel", 2, 0)));
  EXPECT_EQ("\"deadline\" events", 0, ap_trace_count(grade_trace(), "deadline"));
  expect_one_exit(2, 0);
  expect_finished_last(0, UV_EIO, 0);
}

/* ---- A running thread-pool job cannot be cancelled -------------------------- */

static uv_sem_t job_started, job_gate;
static int queued_job_ran;
static int release_polls;
static ap_soon_t release_soon;

static int blocking_job(void *arg)
{
  (void) arg;
  uv_sem_post(&job_started);
  uv_sem_wait(&job_gate);
  return 0;
}

static int queued_job(void *arg)
{
  (void) arg;
  queued_job_ran = 1;
  return 0;
}

/* Lets the running job end, once the group has tried to cancel it. */
static void release_job(ap_soon_t *soon)
{
  if (ap_trace_find(grade_trace(), "cancel", 1, 0) < 0 && ++release_polls < 1000) {
    ap_soon(grade_loop(), soon, release_job);
    return;
  }
  ap_trace_add(grade_trace(), "release", 1, 0);
  uv_sem_post(&job_gate);
}

GRADE_TEST(running_job_is_waited_for, .points = 3, .clauses = "tg.11",
           .section = "06-task-groups#thread-pool",
           .hint = "uv_cancel returns UV_EBUSY for a running job: return that, never exit the "
                   "child from its cancel; it exits later with the job's own result.")
{
  tg_work_t running, queued;
  fake_child_t failing = {0};
  tg_t g = {0};
  long cancel_at, release_at;

  setenv("UV_THREADPOOL_SIZE", "1", 1); /* this test's process has not used the pool yet */
  uv_sem_init(&job_started, 0);
  uv_sem_init(&job_gate, 0);
  open_group(&g, 0, 0);
  EXPECT_ERR("tg_work_start()", 0, tg_work_start(&g, &running, 1, blocking_job, NULL));
  uv_sem_wait(&job_started); /* job 1 holds the only pool thread now */
  EXPECT_ERR("tg_work_start()", 0, tg_work_start(&g, &queued, 2, queued_job, NULL));
  fake_spawn(&g, &failing, 3);
  wait_group(&g);
  ap_fake_complete(&failing.op, UV_EIO, 0);
  ap_soon(grade_loop(), &release_soon, release_job);
  grade_run();
  cancel_at = ap_trace_find(grade_trace(), "cancel", 1, 0);
  release_at = ap_trace_find(grade_trace(), "release", 1, 0);
  EXPECT(cancel_at >= 0 && cancel_at < release_at,
         "expected \"cancel:1\" before the test released job 1; trace: %s", grade_trace_str(""));
  EXPECT_ERR("what the running job's cancel returned", UV_EBUSY, (int) value_at(cancel_at));
  EXPECT(expect_one_exit(1, 0) > release_at,
         "job 1 must exit after it was released, with its own result; trace: %s",
         grade_trace_str(""));
  expect_cancelled(2, 0, UV_ECANCELED);
  EXPECT_ERR("what the queued job's cancel returned", 0,
             (int) value_at(ap_trace_find(grade_trace(), "cancel", 2, 0)));
  EXPECT_EQ("the queued job ran", 0, queued_job_ran);
  expect_finished_last(0, UV_EIO, 0);
  uv_sem_destroy(&job_started);
  uv_sem_destroy(&job_gate);
}

/* ---- Nested groups --------------------------------------------------------- */

typedef struct nested {
  tg_t outer, inner;
  fake_child_t outer_fake, inner_fake;
  tg_timer_t inner_timer;
} nested_t;

/* outer (100): inner (10) and fake 1; inner: fake 11 and timer 12. The outer
 * body is left open for the caller to add more and call tg_wait. */
static void open_nested(nested_t *n, uint64_t deadline_ms)
{
  open_group(&n->outer, 100, deadline_ms);
  EXPECT_ERR("tg_group_start()", 0, tg_group_start(&n->outer, &n->inner, 10, deadline_ms));
  fake_spawn(&n->inner, &n->inner_fake, 11);
  EXPECT_ERR("tg_timer_start()", 0, tg_timer_start(&n->inner, &n->inner_timer, 12, 1000, 0));
  EXPECT_ERR("tg_wait(inner)", 0, wait_group(&n->inner));
  fake_spawn(&n->outer, &n->outer_fake, 1);
}

/* Runs the nested groups of open_nested until both finish; which fails at once. */
static void run_nested(nested_t *n, fake_child_t *which)
{
  open_nested(n, 0);
  wait_group(&n->outer);
  ap_fake_complete(&which->op, UV_EIO, 0);
  grade_run();
}

GRADE_TEST(nested_failure_propagates_up, .points = 2, .clauses = "tg.12",
           .section = "06-task-groups#nesting",
           .hint = "When the inner group finishes it exits into its parent with its own status "
                   "(tg_exit(&inner->as_child, status)); that error cancels the parent's children.")
{
  nested_t n = {0};
  long failed_at, inner_exit;

  run_nested(&n, &n.inner_fake);
  failed_at = expect_one_exit(11, UV_EIO);
  expect_cancelled(12, failed_at, UV_ECANCELED);
  inner_exit = expect_one_exit(10, UV_EIO);
  EXPECT(ap_trace_find(grade_trace(), "finish", 10, 0) < inner_exit &&
             ap_trace_find(grade_trace(), "exit", 12, 0) < inner_exit,
         "the inner group exits after its children and its own finish; trace: %s",
         grade_trace_str(""));
  expect_cancelled(1, inner_exit, UV_ECANCELED);
  expect_finished_last(100, UV_EIO, 0);
}

/* An inner group cancelled from outside, still waiting for a busy child,
 * when its parent is cancelled: its cancel answers UV_EALREADY. */
static void expect_inner_cancelling_answers_ealready(void)
{
  tg_t outer = {0}, inner = {0};
  fake_child_t busy = {0};

  done_calls = 0;
  open_group(&outer, 200, 0);
  EXPECT_ERR("tg_group_start()", 0, tg_group_start(&outer, &inner, 20, 0));
  busy.busy = 1;
  fake_spawn(&inner, &busy, 21);
  EXPECT_ERR("tg_wait(inner)", 0, wait_group(&inner));
  EXPECT_ERR("tg_wait()", 0, wait_group(&outer));
  EXPECT_ERR("tg_cancel(inner)", 0, cancel_group(&inner));
  EXPECT_ERR("tg_cancel(outer)", 0, cancel_group(&outer));
  EXPECT_ERR("what the cancel of an inner group cancelling already returned", UV_EALREADY,
             (int) value_at(ap_trace_find(grade_trace(), "cancel", 20, 0)));
  ap_fake_complete(&busy.op, 0, 0);
  grade_run();
  expect_one_exit(20, UV_ECANCELED);
  expect_finished_last(200, UV_ECANCELED, 0);
}

GRADE_TEST(nested_group_cancelled_by_parent, .points = 2, .clauses = "tg.9 tg.12",
           .section = "06-task-groups#nesting",
           .hint = "Cancelling a group child is tg_cancel() on the inner group: it cancels its "
                   "own children, finishes with UV_ECANCELED, and only then exits. An inner "
                   "group stopping already answers UV_EALREADY.")
{
  nested_t n = {0};
  long failed_at, inner_cancel;

  run_nested(&n, &n.outer_fake);
  failed_at = expect_one_exit(1, UV_EIO);
  expect_cancelled(10, failed_at, UV_ECANCELED);
  inner_cancel = ap_trace_find(grade_trace(), "cancel", 10, 0);
  EXPECT_ERR("what the inner group's cancel returned", 0, (int) value_at(inner_cancel));
  expect_cancelled(11, failed_at, UV_ECANCELED);
  expect_cancelled(12, failed_at, UV_ECANCELED);
  EXPECT(ap_trace_find(grade_trace(), "finish", 10, 0) <
             ap_trace_find(grade_trace(), "exit", 10, 0),
         "the inner group exits after it finished; trace: %s", grade_trace_str(""));
  expect_finished_last(100, UV_EIO, 0);
  expect_inner_cancelling_answers_ealready();
}

/* ---- Cancellation racing with completion ----------------------------------- */

/* $begin test-race */
GRADE_TEST(a_child_completing_as_it_is_cancelled_keeps_its_result, .points = 3,
           .clauses = "tg.3 tg.6", .section = "06-task-groups#races",
           .hint = "A cancel is a request, not an outcome: record nothing when you call "
                   "ops->cancel. The child that completed in the same turn exits once, with "
                   "its own result.")
{
  fake_child_t f[3] = {0};
  tg_t g = {0};
  long failed_at;

  open_group(&g, 0, 0);
  for (long i = 0; i < 3; i++)
    fake_spawn(&g, &f[i], i + 1);
  wait_group(&g);
  ap_fake_complete(&f[0].op, UV_EIO, 0); /* both results are on their way ... */
  ap_fake_complete(&f[1].op, 0, 0);      /* ... when child 1's failure cancels child 2 */
  grade_run();
  failed_at = expect_one_exit(1, UV_EIO);
  EXPECT(ap_trace_find(grade_trace(), "cancel", 2, 0) > failed_at,
         "expected child 2 to be cancelled; trace: %s", grade_trace_str(""));
  expect_one_exit(2, 0);
  expect_cancelled(3, failed_at, UV_ECANCELED);
  expect_finished_last(0, UV_EIO, 0);
}
/* $end test-race */

static fake_child_t trigger;
static uv_timer_t trigger_timer;

static void fail_trigger(uv_timer_t *timer)
{
  ap_fake_complete(&trigger.op, UV_EIO, 0); /* delivered later in this same loop turn */
  uv_close((uv_handle_t *) timer, NULL);
}

GRADE_TEST(a_fired_timer_keeps_its_result_when_cancelled, .points = 2, .clauses = "tg.10",
           .section = "06-task-groups#races",
           .hint = "A timer that fired this turn is closing (uv_is_closing): do not close it "
                   "again (libuv asserts) nor change its result; return UV_EALREADY.")
{
  tg_timer_t fired, slow;
  tg_t g = {0};
  long failed_at;

  open_group(&g, 0, 0);
  EXPECT_ERR("tg_timer_start()", 0, tg_timer_start(&g, &fired, 1, 5, 0));
  EXPECT_ERR("tg_timer_start()", 0, tg_timer_start(&g, &slow, 2, 1000, 0));
  fake_spawn(&g, &trigger, 3);
  wait_group(&g);
  /* Same deadline as timer 1, started after it: fires just after it. */
  uv_timer_init(grade_loop(), &trigger_timer);
  uv_timer_start(&trigger_timer, fail_trigger, 5, 0);
  grade_run();
  failed_at = expect_one_exit(3, UV_EIO);
  EXPECT_ERR("what the fired timer's cancel returned", UV_EALREADY,
             (int) value_at(ap_trace_find(grade_trace(), "cancel", 1, 0)));
  EXPECT(expect_one_exit(1, 0) > failed_at, "timer 1 exits after the failure; trace: %s",
         grade_trace_str(""));
  expect_cancelled(2, failed_at, UV_ECANCELED);
  expect_finished_last(0, UV_EIO, 0);
}

/* ---- Clean cancellation: nothing after done, nothing left open -------------- */

static int job_returns_zero(void *arg)
{
  (void) arg;
  return 0;
}

GRADE_TEST(done_comes_last_with_nothing_left_open, .points = 2, .clauses = "tg.4 tg.11 tg.12",
           .section = "06-task-groups#clean-cancellation",
           .hint = "done is the group's last word: every child has exited, every timer (the "
                   "deadline's too) is closed, every request has completed before it runs.")
{
  nested_t n = {0};
  tg_work_t job;
  tg_timer_t slow;

  open_nested(&n, 60000); /* deadlines that never fire: their timers must close too */
  EXPECT_ERR("tg_work_start()", 0, tg_work_start(&n.outer, &job, 2, job_returns_zero, NULL));
  EXPECT_ERR("tg_timer_start()", 0, tg_timer_start(&n.outer, &slow, 3, 1000, 0));
  wait_group(&n.outer);
  /* The job ends before the failure, so the cancel never meets it half-done on a
   * worker (running_job_is_waited_for tests that): whatever the threads' timing,
   * this test sees the same group. */
  while (count_of("exit", 2) == 0)
    uv_run(grade_loop(), UV_RUN_ONCE);
  ap_fake_complete(&n.outer_fake.op, UV_EIO, 0);
  grade_run();
  expect_cancelled(10, 0, UV_ECANCELED);
  expect_cancelled(3, 0, UV_ECANCELED);
  EXPECT_EQ("exits of job 2", 1, count_of("exit", 2));
  expect_finished_last(100, UV_EIO, 0);
}

/* ---- A failure before tg_wait ------------------------------------------------ */

static tg_t early_group;
static fake_child_t early[3];
static tg_timer_t early_timer, refused_timer;
static tg_t refused_inner;
static fake_child_t refused_fake;
static ap_soon_t early_soon;
static int early_polls;

/* The body, still running, once every child has exited: done waits for tg_wait. */
static void early_body_ends(ap_soon_t *soon)
{
  if (ap_trace_count(grade_trace(), "exit") < 4 && ++early_polls < 1000) {
    ap_soon(grade_loop(), soon, early_body_ends);
    return;
  }
  EXPECT_EQ("done calls before tg_wait (every child exited, the body still runs)", 0, done_calls);
  EXPECT_ERR("tg_wait()", 0, wait_group(&early_group));
}

/* Right after child 2's failure, in the body: the siblings are being cancelled. */
static void early_body_sees_the_failure(ap_soon_t *soon)
{
  for (long id = 1; id <= 4; id++)
    EXPECT(id == 2 || count_of("cancel", id) == 1,
           "child %ld: expected one \"cancel\" as soon as child 2 failed, before tg_wait(); "
           "trace: %s",
           id, grade_trace_str(""));
  EXPECT_ERR("tg_add() after a failure, before tg_wait()", UV_ECANCELED,
             tg_add(&early_group, &refused_fake.child, 5, &fake_ops));
  EXPECT_ERR("tg_timer_start() after a failure", UV_ECANCELED,
             tg_timer_start(&early_group, &refused_timer, 6, 1, 0));
  EXPECT_ERR("tg_group_start() after a failure", UV_ECANCELED,
             tg_group_start(&early_group, &refused_inner, 7, 1000));
  ap_soon(grade_loop(), soon, early_body_ends);
}

GRADE_TEST(a_failure_before_tg_wait_cancels_at_once, .points = 3, .clauses = "tg.2 tg.4 tg.5 tg.10",
           .section = "06-task-groups#first-failure",
           .hint = "A failure cancels the running children when it happens, while the body still "
                   "runs; done still waits for tg_wait(). A start function that returns an error "
                   "opens nothing (add the child first, then init its handle).")
{
  open_group(&early_group, 0, 0);
  for (long i = 0; i < 3; i++)
    fake_spawn(&early_group, &early[i], i + 1);
  EXPECT_ERR("tg_timer_start()", 0, tg_timer_start(&early_group, &early_timer, 4, 1000, 0));
  ap_fake_complete(&early[1].op, UV_EIO, 0);
  ap_soon(grade_loop(), &early_soon, early_body_sees_the_failure);
  grade_run();
  expect_cancelled(1, 0, UV_ECANCELED);
  expect_cancelled(3, 0, UV_ECANCELED);
  expect_cancelled(4, 0, UV_ECANCELED);
  EXPECT_EQ("\"add\" events of refused children", 0,
            count_of("add", 5) + count_of("add", 6) + count_of("add", 7));
  expect_finished_last(0, UV_EIO, 0);
}

/* ---- UV_ECANCELED from a child that stopped on its own ---------------------- */

static fake_child_t own_last;
static ap_soon_t own_soon;

static void own_last_ends(ap_soon_t *soon)
{
  (void) soon;
  EXPECT_ERR("the test ending child 2 (the group must not have cancelled it)", 0,
             ap_fake_complete(&own_last.op, 0, 0));
}

GRADE_TEST(a_child_that_stops_on_its_own_cancels_nothing, .points = 2, .clauses = "tg.6 tg.12",
           .section = "06-task-groups#errors",
           .hint = "UV_ECANCELED is never an error, whoever asked for it: a child (or an inner "
                   "group cancelled with tg_cancel) that exits with it cancels nothing.")
{
  fake_child_t first = {0}, inner_child = {0};
  tg_t g = {0}, inner = {0};

  open_group(&g, 0, 0);
  fake_spawn(&g, &first, 1);
  fake_spawn(&g, &own_last, 2);
  EXPECT_ERR("tg_group_start()", 0, tg_group_start(&g, &inner, 10, 0));
  fake_spawn(&inner, &inner_child, 11);
  EXPECT_ERR("tg_wait(inner)", 0, wait_group(&inner));
  EXPECT_ERR("tg_wait()", 0, wait_group(&g));
  ap_fake_complete(&first.op, UV_ECANCELED, 0); /* it stopped on its own */
  EXPECT_ERR("tg_cancel(inner) from outside", 0, cancel_group(&inner));
  ap_soon(grade_loop(), &own_soon, own_last_ends);
  grade_run();
  expect_one_exit(1, UV_ECANCELED);
  expect_cancelled(11, 0, UV_ECANCELED);
  expect_one_exit(10, UV_ECANCELED);
  expect_one_exit(2, 0);
  EXPECT_EQ("\"cancel\" events of the outer group's children", 0,
            count_of("cancel", 1) + count_of("cancel", 2) + count_of("cancel", 10));
  expect_finished_last(0, 0, 0);
}

/* ---- tg_cancel and the deadline, in both orders ----------------------------- */

static tg_t order_group;
static fake_child_t order_busy;
static ap_sleep_t order_sleep;
static int order_cancel_result;

/* Busy child's end, 40 ms after the start: past the group's deadline. */
static void busy_ends_with_cancel(ap_sleep_t *req, int status)
{
  (void) req, (void) status;
  order_cancel_result = cancel_group(&order_group);
  ap_fake_complete(&order_busy.op, UV_EIO, 0);
}

static void busy_ends(ap_sleep_t *req, int status)
{
  (void) req, (void) status;
  ap_fake_complete(&order_busy.op, 0, 0);
}

/* A group with a deadline, a busy child ending at 40 ms and a child that
 * fails (UV_EPIPE) when it is cancelled. */
static void open_order_group(long id, uint64_t deadline_ms, fake_child_t *failing,
                             ap_sleep_cb busy_end)
{
  memset(&order_busy, 0, sizeof order_busy);
  done_calls = 0;
  open_group(&order_group, id, deadline_ms);
  order_busy.busy = 1;
  fake_spawn(&order_group, &order_busy, id + 1);
  failing->cancel_status = UV_EPIPE;
  fake_spawn(&order_group, failing, id + 2);
  EXPECT_ERR("tg_wait()", 0, wait_group(&order_group));
  ap_sleep_start(grade_loop(), &order_sleep, 40, busy_end);
}

GRADE_TEST(tg_cancel_and_the_deadline_in_both_orders, .points = 3, .clauses = "tg.6 tg.7 tg.9",
           .section = "06-task-groups#deadline",
           .hint = "Whichever comes first, tg_cancel or the deadline, sets the status and starts "
                   "the cancellation; the deadline is then stopped and a later tg_cancel returns "
                   "UV_EALREADY. Errors of cancelled children count in others.")
{
  fake_child_t failing = {0}, failing2 = {0};

  /* tg_cancel first: the 20 ms deadline passes while the busy child runs. */
  open_order_group(0, 20, &failing, busy_ends);
  EXPECT_ERR("tg_cancel()", 0, cancel_group(&order_group));
  EXPECT_ERR("a second tg_cancel()", UV_EALREADY, cancel_group(&order_group));
  grade_run();
  EXPECT_EQ("\"deadline\" events after tg_cancel()", 0, ap_trace_count(grade_trace(), "deadline"));
  expect_one_exit(2, UV_EPIPE);
  EXPECT_ERR("the group's status when child 2's cancel was called (after tg_cancel)", UV_ECANCELED,
             failing.status_at_cancel);
  expect_finished_last(0, UV_ECANCELED, 1);

  /* The deadline first (5 ms); tg_cancel when the busy child ends (40 ms). */
  open_order_group(20, 5, &failing2, busy_ends_with_cancel);
  grade_run();
  EXPECT_ERR("tg_cancel() after the deadline", UV_EALREADY, order_cancel_result);
  EXPECT_EQ("\"deadline\" events", 1, count_of("deadline", 20));
  expect_one_exit(21, UV_EIO);
  expect_finished_last(20, UV_ETIMEDOUT, 2);
}

/* ---- tg_cancel in each state of the group ----------------------------------- */

static tg_t closing_group;
static fake_child_t closing_child, closing_refused;
static ap_soon_t closing_soon;
static int closing_cancel, closing_add;

/* After the last child's exit, in the same turn: the group is finishing. */
static void cancel_while_finishing(ap_soon_t *soon)
{
  (void) soon;
  closing_cancel = cancel_group(&closing_group);
  closing_add = tg_add(&closing_group, &closing_refused.child, 2, &fake_ops);
}

GRADE_TEST(tg_cancel_answers_in_each_state, .points = 2, .clauses = "tg.2 tg.4 tg.9",
           .section = "06-task-groups#nesting",
           .hint = "tg_cancel returns 0 while the group still runs (before tg_wait too) and "
                   "UV_EALREADY once it is cancelling or finishing; a finishing group takes no "
                   "child (UV_EINVAL) and keeps its status.")
{
  fake_child_t refused = {0};
  tg_t open = {0};

  open_group(&open, 0, 0);
  EXPECT_ERR("tg_cancel() before tg_wait(), no child yet", 0, cancel_group(&open));
  EXPECT_ERR("tg_add() after tg_cancel()", UV_ECANCELED,
             tg_add(&open, &refused.child, 1, &fake_ops));
  EXPECT_ERR("tg_wait() after tg_cancel()", 0, wait_group(&open));
  grade_run();
  expect_finished_last(0, UV_ECANCELED, 0);

  done_calls = 0;
  open_group(&closing_group, 10, 0);
  fake_spawn(&closing_group, &closing_child, 1);
  EXPECT_ERR("tg_wait()", 0, wait_group(&closing_group));
  ap_fake_complete(&closing_child.op, 0, 0);
  ap_soon(grade_loop(), &closing_soon, cancel_while_finishing);
  grade_run();
  EXPECT_ERR("tg_cancel() once the last child exited and tg_wait() was called", UV_EALREADY,
             closing_cancel);
  EXPECT_ERR("tg_add() to a finishing group", UV_EINVAL, closing_add);
  expect_finished_last(10, 0, 0);
}

/* ---- Arguments ---------------------------------------------------------------- */

GRADE_TEST(each_call_rejects_what_it_cannot_do, .points = 2, .clauses = "tg.1 tg.2 tg.8 tg.11",
           .section = "06-task-groups#lab",
           .hint = "tg_start without done, tg_add without ops or ops->cancel, tg_work_start "
                   "without fn: UV_EINVAL, and nothing joins or opens. A second tg_wait: "
                   "UV_EALREADY.")
{
  static const tg_child_ops_t no_cancel = {"broken", NULL};
  fake_child_t c = {0};
  tg_work_t w;
  tg_t g = {0}, refused = {0};

  EXPECT_ERR("tg_start() without done", UV_EINVAL, tg_start(grade_loop(), &refused, 0, NULL));
  open_group(&g, 0, 0);
  EXPECT_ERR("tg_add() without ops", UV_EINVAL, tg_add(&g, &c.child, 1, NULL));
  EXPECT_ERR("tg_add() with ops without cancel", UV_EINVAL, tg_add(&g, &c.child, 1, &no_cancel));
  EXPECT_ERR("tg_work_start() without fn", UV_EINVAL, tg_work_start(&g, &w, 2, NULL, NULL));
  EXPECT_ERR("tg_wait()", 0, wait_group(&g));
  EXPECT_ERR("a second tg_wait()", UV_EALREADY, wait_group(&g));
  grade_run();
  EXPECT_EQ("\"add\" events of refused children", 0, ap_trace_count(grade_trace(), "add"));
  expect_finished_last(0, 0, 0);
}

/* ---- Failures in every position --------------------------------------------- */

GRADE_TEST(a_failure_in_any_position_cancels_only_the_running, .points = 3,
           .clauses = "tg.3 tg.5 tg.6", .section = "06-task-groups#first-failure",
           .hint = "Remove a child from the running list when it exits, whether it is the first, "
                   "a middle or the last one added: the cancellation reaches every running child "
                   "once and no child that has exited.")
{
  /* Which children end well before the failure, and which one fails. */
  static const int ends_first[3][2] = {{4, 2}, {0, 4}, {0, 2}};
  static const int fails[3] = {0, 2, 4};

  for (int r = 0; r < 3; r++) {
    fake_child_t f[5] = {0};
    tg_t g = {0};
    long base = 10 * (r + 1);

    done_calls = 0;
    open_group(&g, base, 0);
    f[1].cancel_status = UV_EPIPE; /* an error after the first one, earlier in input order */
    for (long i = 0; i < 5; i++)
      fake_spawn(&g, &f[i], base + i + 1);
    EXPECT_ERR("tg_wait()", 0, wait_group(&g));
    ap_fake_complete(&f[ends_first[r][0]].op, 0, 0);
    ap_fake_complete(&f[ends_first[r][1]].op, 0, 0);
    ap_fake_complete(&f[fails[r]].op, UV_EIO, 0);
    grade_run();
    for (long i = 0; i < 5; i++) {
      long cancels = count_of("cancel", base + i + 1);
      long expected = i == 1 || i == 3;

      EXPECT(cancels == expected,
             "child %ld of 5 (child %d failed after %d and %d ended): expected %ld \"cancel\", "
             "saw %ld; trace: %s",
             i + 1, fails[r] + 1, ends_first[r][0] + 1, ends_first[r][1] + 1, expected, cancels,
             grade_trace_str(""));
    }
    expect_finished_last(base, UV_EIO, 1);
  }
}

/* ---- A job's own error -------------------------------------------------------- */

static int job_fails(void *arg)
{
  (void) arg;
  return UV_EIO;
}

GRADE_TEST(a_failing_job_fails_the_group, .points = 2, .clauses = "tg.11 tg.5",
           .section = "06-task-groups#thread-pool",
           .hint = "A job that ran exits with fn's return value, not with the after-work status "
                   "(0 whenever fn ran): its error is the group's first error.")
{
  fake_child_t sibling = {0};
  tg_work_t job;
  tg_t g = {0};

  open_group(&g, 0, 0);
  EXPECT_ERR("tg_work_start()", 0, tg_work_start(&g, &job, 1, job_fails, NULL));
  fake_spawn(&g, &sibling, 2);
  EXPECT_ERR("tg_wait()", 0, wait_group(&g));
  grade_run();
  expect_cancelled(2, expect_one_exit(1, UV_EIO), UV_ECANCELED);
  expect_finished_last(0, UV_EIO, 0);
}

/* ---- After done: free or start again ---------------------------------------- */

typedef struct heap_group {
  tg_t g;
  tg_timer_t timer;
  fake_child_t fake;
} heap_group_t;

static int heap_done_calls;

static void free_in_done(tg_t *g, int status, int others)
{
  (void) status, (void) others;
  heap_done_calls++;
  free(g->data);
}

static tg_t again;
static tg_timer_t again_timer;
static fake_child_t again_fakes[2];
static int again_status[2], again_others[2], again_calls;

static void start_again_in_done(tg_t *g, int status, int others)
{
  int run = again_calls++;

  if (run >= 2)
    return;
  again_status[run] = status;
  again_others[run] = others;
  if (run == 1)
    return;
  EXPECT_ERR("tg_start() again, from done", 0, tg_start(grade_loop(), g, 0, start_again_in_done));
  EXPECT_ERR("tg_timer_start() in the second run", 0,
             tg_timer_start(g, &again_timer, 3, 1, UV_EPIPE));
  EXPECT_ERR("tg_wait() in the second run", 0, tg_wait(g));
}

GRADE_TEST(done_may_free_or_restart_the_group, .points = 3, .clauses = "tg.4 tg.13",
           .section = "06-task-groups#finishing",
           .hint = "done is the group's last word: touch nothing of the group after calling it, "
                   "and let tg_start set every field, so that done may free the group or start "
                   "it again.")
{
  heap_group_t *h = malloc(sizeof *h);

  EXPECT(h != NULL, "out of memory in the test");
  memset(h, 0, sizeof *h);
  h->g.data = h;
  h->g.trace = grade_trace();
  ap_fakes_init(&fakes, grade_loop(), NULL, NULL);
  EXPECT_ERR("tg_start()", 0, tg_start(grade_loop(), &h->g, 60000, free_in_done));
  EXPECT_ERR("tg_timer_start()", 0, tg_timer_start(&h->g, &h->timer, 1, 1000, 0));
  fake_spawn(&h->g, &h->fake, 2);
  EXPECT_ERR("tg_wait()", 0, tg_wait(&h->g));
  ap_fake_complete(&h->fake.op, UV_EIO, 0);
  grade_run();
  EXPECT_EQ("done calls of the group that done frees", 1, heap_done_calls);

  again.trace = grade_trace();
  EXPECT_ERR("tg_start()", 0, tg_start(grade_loop(), &again, 0, start_again_in_done));
  again_fakes[1].cancel_status = UV_ECONNRESET;
  fake_spawn(&again, &again_fakes[0], 1);
  fake_spawn(&again, &again_fakes[1], 2);
  EXPECT_ERR("tg_wait()", 0, tg_wait(&again));
  ap_fake_complete(&again_fakes[0].op, UV_EIO, 0);
  grade_run();
  EXPECT_EQ("done calls (one per run)", 2, again_calls);
  EXPECT_ERR("the first run's status", UV_EIO, again_status[0]);
  EXPECT_EQ("the first run's other errors", 1, again_others[0]);
  EXPECT_ERR("the second run's status (its timer child's)", UV_EPIPE, again_status[1]);
  EXPECT_EQ("the second run's other errors", 0, again_others[1]);
}

/* ---- An inner group is one child of its parent ------------------------------ */

GRADE_TEST(an_inner_group_counts_as_one_child, .points = 2, .clauses = "tg.6 tg.12",
           .section = "06-task-groups#nesting",
           .hint = "The inner group exits into its parent once, with its status; its own count "
                   "of other errors stays its own.")
{
  fake_child_t inner_fakes[2] = {0}, outer_fake = {0};
  tg_t outer = {0}, inner = {0};

  open_group(&outer, 100, 0);
  EXPECT_ERR("tg_group_start()", 0, tg_group_start(&outer, &inner, 10, 0));
  inner_fakes[1].cancel_status = UV_EPIPE; /* the inner group's other error */
  fake_spawn(&inner, &inner_fakes[0], 11);
  fake_spawn(&inner, &inner_fakes[1], 12);
  EXPECT_ERR("tg_wait(inner)", 0, wait_group(&inner));
  fake_spawn(&outer, &outer_fake, 1);
  EXPECT_ERR("tg_wait()", 0, wait_group(&outer));
  ap_fake_complete(&inner_fakes[0].op, UV_EIO, 0);
  grade_run();
  expect_one_exit(12, UV_EPIPE);
  EXPECT_ERR("the inner group's \"finish\" status", UV_EIO,
             (int) value_at(ap_trace_find(grade_trace(), "finish", 10, 0)));
  expect_cancelled(1, expect_one_exit(10, UV_EIO), UV_ECANCELED);
  expect_finished_last(100, UV_EIO, 0);
}

GRADE_LAB("06-task-groups", &parent_completes_once_and_last, &first_failure_cancels_siblings,
          &done_gets_the_first_error_and_counts_the_others, &deadline_cancels_the_group,
          &unexpired_deadline_is_closed, &deadline_stops_at_first_failure,
          &running_job_is_waited_for, &nested_failure_propagates_up,
          &nested_group_cancelled_by_parent,
          &a_child_completing_as_it_is_cancelled_keeps_its_result,
          &a_fired_timer_keeps_its_result_when_cancelled, &done_comes_last_with_nothing_left_open,
          &a_failure_before_tg_wait_cancels_at_once, &a_child_that_stops_on_its_own_cancels_nothing,
          &tg_cancel_and_the_deadline_in_both_orders, &tg_cancel_answers_in_each_state,
          &each_call_rejects_what_it_cannot_do, &a_failure_in_any_position_cancels_only_the_running,
          &a_failing_job_fails_the_group, &done_may_free_or_restart_the_group,
          &an_inner_group_counts_as_one_child)
