/* children.c — lab 06: three kinds of child, each with its own way to stop.
 *
 *  - timer:  a handle. Cancelling stops and closes it; the child exits from
 *            the close callback, like every handle-owning child.
 *  - work:   a thread-pool request. A queued job can be taken back
 *            (uv_cancel returns 0, the after-work callback gets
 *            UV_ECANCELED); a running one cannot (UV_EBUSY): the group
 *            waits for it and gets its real result.
 *  - group:  a whole task group as one child. Cancelling it cancels its
 *            children; it exits when it finishes, with its own status.
 *
 * The rule for every kind: a cancel never exits the child itself. It asks;
 * the child exits exactly once, later, from its own last callback.
 */
#include "taskgroup.h"

/* ---- Timer child ----------------------------------------------------------- */

static void timer_closed(uv_handle_t *handle)
{
  tg_timer_t *t = AP_CONTAINER_OF(handle, tg_timer_t, timer);

  tg_exit(&t->child, t->status);
}

static void timer_fired(uv_timer_t *timer)
{
  uv_close((uv_handle_t *) timer, timer_closed);
}

/* $begin tg-timer-cancel */
static int timer_cancel(tg_child_t *child)
{
  tg_timer_t *t = AP_CONTAINER_OF(child, tg_timer_t, child);

  // TODO: taskgroup.h, tg_child_ops_t.cancel: its three answers, for a timer
  // (#protocol, #races).
  return AP_TODO();
}
/* $end tg-timer-cancel */

static const tg_child_ops_t timer_ops = {"timer", timer_cancel};

int tg_timer_start(tg_t *g, tg_timer_t *t, long id, uint64_t ms, int status)
{
  int err = tg_add(g, &t->child, id, &timer_ops);

  if (err != 0)
    return err;
  t->status = status;
  /* Neither call can fail on an initialised loop with a callback (1.44). */
  uv_timer_init(g->loop, &t->timer);
  uv_timer_start(&t->timer, timer_fired, ms, 0);
  return 0;
}

/* ---- Thread-pool child ----------------------------------------------------- */

static void work_run(uv_work_t *req)
{
  tg_work_t *w = AP_CONTAINER_OF(req, tg_work_t, req);

  w->result = w->fn(w->arg); /* on a pool thread: touch nothing else */
}

/* $begin tg-work-after */
static void work_after(uv_work_t *req, int status)
{
  tg_work_t *w = AP_CONTAINER_OF(req, tg_work_t, req);

  // TODO: taskgroup.h: a child exits once, with its real outcome (#thread-pool).
  AP_TODO();
}
/* $end tg-work-after */

/* $begin tg-work-cancel */
static int work_cancel(tg_child_t *child)
{
  tg_work_t *w = AP_CONTAINER_OF(child, tg_work_t, child);

  // TODO: taskgroup.h, tg_child_ops_t.cancel: for a pool job; a cancel never exits
  // the child (#thread-pool).
  return AP_TODO();
}
/* $end tg-work-cancel */

static const tg_child_ops_t work_ops = {"work", work_cancel};

int tg_work_start(tg_t *g, tg_work_t *w, long id, tg_work_fn fn, void *arg)
{
  int err;

  if (fn == NULL)
    return UV_EINVAL;
  err = tg_add(g, &w->child, id, &work_ops);
  if (err != 0)
    return err;
  w->fn = fn;
  w->arg = arg;
  w->result = 0;
  /* Fails only without a work callback, and work_run is always there. */
  uv_queue_work(g->loop, &w->req, work_run, work_after);
  return 0;
}

/* ---- A group as a child ---------------------------------------------------- */

/* $begin tg-group-child */
static void inner_done(tg_t *inner, int status, int others)
{
  // TODO: taskgroup.h: a group as a child of another (#nesting).
  AP_TODO();
}

static int group_cancel(tg_child_t *child)
{
  tg_t *inner = AP_CONTAINER_OF(child, tg_t, as_child);

  // TODO: taskgroup.h: a group as a child of another (#nesting).
  return AP_TODO();
}
/* $end tg-group-child */

static const tg_child_ops_t group_ops = {"group", group_cancel};

int tg_group_start(tg_t *parent, tg_t *inner, long id, uint64_t deadline_ms)
{
  int err = tg_add(parent, &inner->as_child, id, &group_ops);

  if (err != 0)
    return err;
  inner->id = id;
  if (inner->trace == NULL)
    inner->trace = parent->trace;
  return tg_start(parent->loop, inner, deadline_ms, inner_done); /* cannot fail */
}
