/* kit.h — lab 06's tests: a child kind of their own, the parent's report,
 * and how they read the trace (public and hidden tests share it).
 *
 * The fake child completes when the test says so (ap_fake_t: its result
 * arrives through call-soon, in FIFO order). on_done records what done got
 * and what was still open then; done running inside a call of the test's
 * (tg_exit from a fake, tg_wait, tg_cancel) is recorded too (tg.4).
 */
#ifndef TG_TESTS_KIT_H
#define TG_TESTS_KIT_H

#include "grade.h"
#include "taskgroup.h"

/* ---- A child kind of the tests' own: a fake operation -------------------- */

/* $begin test-fake-kind */
typedef struct fake_child {
  tg_child_t child;
  ap_fake_t op;
  int cancel_status; /* what it exits with when cancelled; 0: UV_ECANCELED */
  int busy;          /* 1: cannot be cancelled, like a running job */
  tg_t *group;       /* the group it joined, whose status its cancel records */
  int status_at_cancel; /* the group's status when its cancel was called */
} fake_child_t;

static ap_fakes_t fakes;

/* The call of the test's that is running, when done must not run (tg.4). */
static const char *inside;
static const char *done_inside;

static inline void fake_finished(ap_fake_t *op, int status, long value)
{
  (void) value;
  inside = "tg_exit()";
  tg_exit(&AP_CONTAINER_OF(op, fake_child_t, op)->child, status);
  inside = NULL;
}

/* Cancelling completes the fake; one whose result is on its way already
 * cannot be completed twice, so its own result stands. */
static inline int fake_cancel(tg_child_t *child)
{
  fake_child_t *f = AP_CONTAINER_OF(child, fake_child_t, child);
  int status = f->cancel_status != 0 ? f->cancel_status : UV_ECANCELED;

  if (f->group != NULL) /* NULL: the test added it with tg_add() itself */
    f->status_at_cancel = f->group->status; /* read-only: why it is cancelled */
  if (f->busy)
    return UV_EBUSY;
  return ap_fake_complete(&f->op, status, 0) == 0 ? 0 : UV_EALREADY;
}

static const tg_child_ops_t fake_ops = {"fake", fake_cancel};
/* $end test-fake-kind */

static inline void fake_spawn(tg_t *g, fake_child_t *f, long id)
{
  EXPECT_ERR("tg_add() of a fake child", 0, tg_add(g, &f->child, id, &fake_ops));
  f->group = g;
  ap_fake_start(&fakes, &f->op, id, fake_finished);
}

/* ---- A child that exits in the first turn's timer phase ------------------
 *
 * A fake's result arrives after the timers of its turn, so a group deadline
 * that a loaded machine let come due before the loop's first turn would beat
 * it. This kind exits from a 0 ms timer started after tg_start(): both timers
 * count from the same cached loop time, so it fires first in the same timer
 * phase, whatever the wall clock did. It ends on its own: cancel is UV_EBUSY. */
typedef struct first_turn_child {
  tg_child_t child;
  uv_timer_t timer;
  int status;
} first_turn_child_t;

static inline int first_turn_cancel(tg_child_t *child)
{
  (void) child;
  return UV_EBUSY;
}

static const tg_child_ops_t first_turn_ops = {"first-turn", first_turn_cancel};

static inline void first_turn_fired(uv_timer_t *timer)
{
  first_turn_child_t *c = AP_CONTAINER_OF(timer, first_turn_child_t, timer);

  uv_close((uv_handle_t *) timer, NULL);
  inside = "tg_exit()";
  tg_exit(&c->child, c->status);
  inside = NULL;
}

static inline void first_turn_spawn(tg_t *g, first_turn_child_t *c, long id, int status)
{
  EXPECT_ERR("tg_add() of a first-turn child", 0, tg_add(g, &c->child, id, &first_turn_ops));
  c->status = status;
  uv_timer_init(grade_loop(), &c->timer);
  uv_timer_start(&c->timer, first_turn_fired, 0, 0);
}

/* ---- The parent's report --------------------------------------------------- */

static int done_calls;
static int done_status;
static int done_others;
static int timers_open_at_done;
static int requests_at_done;

/* A timer of the test's own that may outlive the group sets data to this. */
static char test_timer_mark;

static inline void count_timers(uv_handle_t *h, void *arg)
{
  if (uv_handle_get_type(h) == UV_TIMER && h->data != &test_timer_mark)
    ++*(int *) arg;
}

static inline void on_done(tg_t *g, int status, int others)
{
  (void) g;
  if (inside != NULL)
    done_inside = inside;
  done_calls++;
  done_status = status;
  done_others = others;
  timers_open_at_done = 0;
  uv_walk(grade_loop(), count_timers, &timers_open_at_done);
  requests_at_done = (int) grade_loop()->active_reqs.count;
}

/* tg_wait() and tg_cancel(), with done watched for running inside them. */
static inline int wait_group(tg_t *g)
{
  int err;

  inside = "tg_wait()";
  err = tg_wait(g);
  inside = NULL;
  return err;
}

static inline int cancel_group(tg_t *g)
{
  int err;

  inside = "tg_cancel()";
  err = tg_cancel(g);
  inside = NULL;
  return err;
}

static inline void open_group(tg_t *g, long id, uint64_t deadline_ms)
{
  g->id = id;
  g->trace = grade_trace();
  ap_fakes_init(&fakes, grade_loop(), NULL, NULL);
  EXPECT_ERR("tg_start()", 0, tg_start(grade_loop(), g, deadline_ms, on_done));
}

/* ---- Reading the trace ----------------------------------------------------- */

static inline long count_of(const char *what, long id)
{
  long n = 0;

  for (long i = 0; (i = ap_trace_find(grade_trace(), what, id, (size_t) i)) >= 0; i++)
    n++;
  return n;
}

static inline long value_at(long index)
{
  return grade_trace()->events[index].value;
}

/* The child exited exactly once, with status; returns where. */
static inline long expect_one_exit(long id, int status)
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
static inline void expect_cancelled(long id, long after, int status)
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
static inline void expect_finished_last(long id, int status, int others)
{
  ap_trace_t *t = grade_trace();

  EXPECT(done_inside == NULL, "done ran inside %s: it must run on a later loop turn", done_inside);
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_ERR("done's status", status, done_status);
  EXPECT_EQ("done's count of other errors", others, done_others);
  EXPECT(ap_trace_find(t, "finish", id, 0) == (long) t->count - 1,
         "expected \"finish:%ld\" as the last event; trace: %s", id, grade_trace_str(""));
  EXPECT_EQ("timers still open when done ran", 0, timers_open_at_done);
  EXPECT_EQ("requests still pending when done ran", 0, requests_at_done);
}

#endif /* TG_TESTS_KIT_H */
