/* test_taskgroup.c — graded tests for lab 06 (task groups).
 *
 * Every order here is exact without a clock: fake children complete when the
 * test says so (their result arrives through call-soon, in FIFO order), timers
 * started in one turn fire in deadline order, a thread-pool job blocks on a
 * semaphore until the test posts it, and the pool has one thread when a test
 * needs a job to stay queued. The trace holds the group's own events:
 * "open", "add", "cancel" (value: what the kind's cancel returned), "exit" (value:
 * the child's status), "deadline", "finish" (value: the group's status).
 */
#include <stdlib.h>

#include "grade.h"
#include "taskgroup.h"

/* ---- A child kind of the tests' own: a fake operation -------------------- */

/* $begin test-fake-kind */
typedef struct fake_child {
  tg_child_t child;
  ap_fake_t op;
  int cancel_status; /* what it exits with when cancelled; 0: UV_ECANCELED */
  int busy;          /* 1: cannot be cancelled, like a running job */
} fake_child_t;

static ap_fakes_t fakes;

static void fake_finished(ap_fake_t *op, int status, long value)
{
  (void) value;
  tg_exit(&AP_CONTAINER_OF(op, fake_child_t, op)->child, status);
}

/* Cancelling completes the fake; one whose result is on its way already
 * cannot be completed twice, so its own result stands. */
static int fake_cancel(tg_child_t *child)
{
  fake_child_t *f = AP_CONTAINER_OF(child, fake_child_t, child);
  int status = f->cancel_status != 0 ? f->cancel_status : UV_ECANCELED;

  if (f->busy)
    return UV_EBUSY;
  return ap_fake_complete(&f->op, status, 0) == 0 ? 0 : UV_EALREADY;
}

static const tg_child_ops_t fake_ops = {"fake", fake_cancel};
/* $end test-fake-kind */

static void fake_spawn(tg_t *g, fake_child_t *f, long id)
{
  EXPECT_ERR("tg_add() of a fake child", 0, tg_add(g, &f->child, id, &fake_ops));
  ap_fake_start(&fakes, &f->op, id, fake_finished);
}

/* ---- The parent's report --------------------------------------------------- */

static int done_calls;
static int done_status;
static int done_others;
static int timers_open_at_done;
static int requests_at_done;

static void count_timers(uv_handle_t *h, void *arg)
{
  if (uv_handle_get_type(h) == UV_TIMER)
    ++*(int *) arg;
}

static void on_done(tg_t *g, int status, int others)
{
  (void) g;
  done_calls++;
  done_status = status;
  done_others = others;
  timers_open_at_done = 0;
  uv_walk(grade_loop(), count_timers, &timers_open_at_done);
  requests_at_done = (int) grade_loop()->active_reqs.count;
}

static void open_group(tg_t *g, long id, uint64_t deadline_ms)
{
  g->id = id;
  g->trace = grade_trace();
  ap_fakes_init(&fakes, grade_loop(), NULL, NULL);
  EXPECT_ERR("tg_start()", 0, tg_start(grade_loop(), g, deadline_ms, on_done));
}

/* ---- Reading the trace ----------------------------------------------------- */

static long count_of(const char *what, long id)
{
  long n = 0;

  for (long i = 0; (i = ap_trace_find(grade_trace(), what, id, (size_t) i)) >= 0; i++)
    n++;
  return n;
}

static long value_at(long index)
{
  return grade_trace()->events[index].value;
}

/* The child exited exactly once, with status; returns where. */
static long expect_one_exit(long id, int status)
{
  long exit_at = ap_trace_find(grade_trace(), "exit", id, 0);

  EXPECT(count_of("exit", id) == 1,
         "child %ld: expected exactly one \"exit\", saw %ld; "
         "trace: %s",
         id, count_of("exit", id), grade_trace_str(""));
  EXPECT_ERR("the child's exit status", status, (int) value_at(exit_at));
  return exit_at;
}

/* The child was asked to stop after event `after`, then exited once with status. */
static void expect_cancelled(long id, long after, int status)
{
  long cancel_at = ap_trace_find(grade_trace(), "cancel", id, 0);

  EXPECT(cancel_at > after && count_of("cancel", id) == 1,
         "child %ld: expected one \"cancel\" after event %ld; trace: %s", id, after,
         grade_trace_str(""));
  EXPECT(expect_one_exit(id, status) > cancel_at,
         "child %ld: expected its \"exit\" after its \"cancel\"; trace: %s", id,
         grade_trace_str(""));
}

/* done ran once, with status and others, after everything else of the group. */
static void expect_finished_last(long id, int status, int others)
{
  ap_trace_t *t = grade_trace();

  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_ERR("done's status", status, done_status);
  EXPECT_EQ("done's count of other errors", others, done_others);
  EXPECT(ap_trace_find(t, "finish", id, 0) == (long) t->count - 1,
         "expected \"finish:%ld\" as the last event; trace: %s", id, grade_trace_str(""));
  EXPECT_EQ("timers still open when done ran", 0, timers_open_at_done);
  EXPECT_EQ("requests still pending when done ran", 0, requests_at_done);
}

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
  EXPECT_ERR("tg_wait()", 0, tg_wait(&body_group));
  EXPECT_EQ("done calls right after tg_wait()", 0, done_calls);
}

GRADE_TEST(parent_completes_once_and_last, .points = 3, .section = "06-task-groups#finishing",
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
  EXPECT_ERR("tg_wait() on an empty group", 0, tg_wait(&empty));
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

GRADE_TEST(first_failure_cancels_siblings, .points = 3, .section = "06-task-groups#first-failure",
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
  EXPECT_ERR("tg_wait()", 0, tg_wait(&late_group));
  ap_fake_complete(&f[1].op, UV_EIO, 0);
  ap_soon(grade_loop(), &late_soon, add_while_cancelling);
  grade_run();
  failed_at = expect_one_exit(2, UV_EIO);
  expect_cancelled(1, failed_at, UV_ECANCELED);
  expect_cancelled(3, failed_at, UV_ECANCELED);
  expect_cancelled(4, failed_at, UV_ECANCELED);
  expect_finished_last(0, UV_EIO, 0);
  EXPECT_ERR("tg_add() after the first failure (asyncio: the group is shutting down)", UV_ECANCELED,
             late_add_result);
}

/* ---- Error aggregation ----------------------------------------------------- */

GRADE_TEST(first_error_and_count_of_others, .points = 3, .section = "06-task-groups#errors",
           .hint = "Keep the FIRST error; count later ones in others. UV_ECANCELED answers our "
                   "own cancel: never an error. An error raised while cancelling is one.")
{
  fake_child_t f[5] = {0};
  tg_t g = {0};

  open_group(&g, 0, 0);
  f[3].cancel_status = UV_EPIPE; /* child 4 fails while it is being cancelled */
  for (long i = 0; i < 5; i++)
    fake_spawn(&g, &f[i], i + 1);
  tg_wait(&g);
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

GRADE_TEST(deadline_cancels_the_group, .points = 3, .section = "06-task-groups#deadline",
           .hint = "When the deadline timer fires, the status becomes UV_ETIMEDOUT and the "
                   "running children are cancelled the same way as on a failure.")
{
  fake_child_t quick = {0}, stuck = {0};
  tg_timer_t slow;
  tg_t g = {0};
  long deadline_at;

  open_group(&g, 7, 20);
  fake_spawn(&g, &quick, 1);
  fake_spawn(&g, &stuck, 2);
  EXPECT_ERR("tg_timer_start()", 0, tg_timer_start(&g, &slow, 3, 1000, 0));
  tg_wait(&g);
  ap_fake_complete(&quick.op, 0, 0);
  grade_run();
  deadline_at = ap_trace_find(grade_trace(), "deadline", 7, 0);
  EXPECT(deadline_at > expect_one_exit(1, 0),
         "expected \"deadline:7\" after child 1's exit; trace: %s", grade_trace_str(""));
  expect_cancelled(2, deadline_at, UV_ECANCELED);
  expect_cancelled(3, deadline_at, UV_ECANCELED);
  expect_finished_last(7, UV_ETIMEDOUT, 0);
}

GRADE_TEST(unexpired_deadline_is_closed, .points = 2, .section = "06-task-groups#deadline",
           .hint = "The deadline timer is the group's own handle: close it (not just stop it) "
                   "before done, also when it never fired.")
{
  fake_child_t f[2] = {0};
  tg_t g = {0};

  open_group(&g, 0, 60000);
  fake_spawn(&g, &f[0], 1);
  fake_spawn(&g, &f[1], 2);
  tg_wait(&g);
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

GRADE_TEST(deadline_stops_at_first_failure, .points = 2, .section = "06-task-groups#deadline",
           .hint = "Stop the deadline timer when the cancellation starts: a deadline passing "
                   "while the group waits for a busy child must not replace the first error.")
{
  fake_child_t failing = {0};
  tg_t g = {0};

  open_group(&g, 0, 20);
  fake_spawn(&g, &failing, 1);
  stubborn.busy = 1;
  fake_spawn(&g, &stubborn, 2);
  tg_wait(&g);
  ap_fake_complete(&failing.op, UV_EIO, 0);
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

GRADE_TEST(running_job_is_waited_for, .points = 3, .section = "06-task-groups#thread-pool",
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
  tg_wait(&g);
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
  EXPECT_ERR("tg_wait(inner)", 0, tg_wait(&n->inner));
  fake_spawn(&n->outer, &n->outer_fake, 1);
}

/* Runs the nested groups of open_nested until both finish; which fails at once. */
static void run_nested(nested_t *n, fake_child_t *which)
{
  open_nested(n, 0);
  tg_wait(&n->outer);
  ap_fake_complete(&which->op, UV_EIO, 0);
  grade_run();
}

GRADE_TEST(nested_failure_propagates_up, .points = 2, .section = "06-task-groups#nesting",
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

GRADE_TEST(nested_group_cancelled_by_parent, .points = 2, .section = "06-task-groups#nesting",
           .hint = "Cancelling a group child is tg_cancel() on the inner group: it cancels its "
                   "own children, finishes with UV_ECANCELED, and only then exits.")
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
}

/* ---- Cancellation racing with completion ----------------------------------- */

/* $begin test-race */
GRADE_TEST(cancel_racing_with_completion, .points = 3, .section = "06-task-groups#races",
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
  tg_wait(&g);
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

GRADE_TEST(timer_fired_before_its_cancel, .points = 2, .section = "06-task-groups#races",
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
  tg_wait(&g);
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

GRADE_TEST(nothing_after_finish, .points = 2, .section = "06-task-groups#clean-cancellation",
           .hint = "done is the group's last word: every child has exited, every timer (the "
                   "deadline's too) is closed, every request has completed before it runs.")
{
  nested_t n = {0};
  tg_work_t job;
  tg_timer_t slow;

  open_nested(&n, 60000); /* deadlines that never fire: their timers must close too */
  EXPECT_ERR("tg_work_start()", 0, tg_work_start(&n.outer, &job, 2, job_returns_zero, NULL));
  EXPECT_ERR("tg_timer_start()", 0, tg_timer_start(&n.outer, &slow, 3, 1000, 0));
  tg_wait(&n.outer);
  ap_fake_complete(&n.outer_fake.op, UV_EIO, 0);
  grade_run();
  expect_cancelled(10, 0, UV_ECANCELED);
  expect_cancelled(3, 0, UV_ECANCELED);
  EXPECT_EQ("exits of job 2", 1, count_of("exit", 2));
  expect_finished_last(100, UV_EIO, 0);
}

GRADE_LAB("06-task-groups", &parent_completes_once_and_last, &first_failure_cancels_siblings,
          &first_error_and_count_of_others, &deadline_cancels_the_group,
          &unexpired_deadline_is_closed, &deadline_stops_at_first_failure,
          &running_job_is_waited_for, &nested_failure_propagates_up,
          &nested_group_cancelled_by_parent, &cancel_racing_with_completion,
          &timer_fired_before_its_cancel, &nothing_after_finish)
