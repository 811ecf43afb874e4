/* taskgroup.c — lab 06: the group itself (the child kinds are in children.c).
 *
 * A group is a counter of running children, a list to reach them when it
 * must cancel them, the first error, and one timer for its deadline. Three
 * events drive it: a child exits (tg_exit), the deadline fires, the caller
 * cancels. The first error, the deadline or a cancel starts the cancellation
 * protocol once: every running child is asked to stop, and the group goes on
 * counting exits. It finishes only when the body is done (tg_wait) and the
 * last child has exited; it then closes its timer and reports from the close
 * callback, so nothing of the group is left in the loop when done runs.
 */
#include "taskgroup.h"

static void trace(tg_t *g, const char *what, long id, long value)
{
  if (g->trace != NULL)
    ap_trace_add(g->trace, what, id, value);
}

static void link_child(tg_t *g, tg_child_t *child)
{
  child->prev = NULL;
  child->next = g->children;
  if (g->children != NULL)
    g->children->prev = child;
  g->children = child;
}

static void unlink_child(tg_t *g, tg_child_t *child)
{
  if (child->prev != NULL)
    child->prev->next = child->next;
  else
    g->children = child->next;
  if (child->next != NULL)
    child->next->prev = child->prev;
}

/* $begin tg-on-closed */
static void on_closed(uv_handle_t *handle)
{
  tg_t *g = AP_CONTAINER_OF(handle, tg_t, deadline);

  g->state = TG_FINISHED;
  trace(g, "finish", g->id, g->status);
  g->done(g, g->status, g->others);
}
/* $end tg-on-closed */

/* $begin tg-maybe-finish */
/* The group ends when the body is done and no child is left. */
static void maybe_finish(tg_t *g)
{
  // TODO: taskgroup.h: done once, after the body ended and the last child exited,
  // never inside tg_wait (#finishing).
  AP_TODO();
}
/* $end tg-maybe-finish */

/* $begin tg-cancel-children */
/* The cancellation protocol, started once: ask every running child to stop,
 * then keep counting exits as usual. No child exits inside its cancel. */
static void cancel_children(tg_t *g)
{
  // TODO: taskgroup.h: the first failure cancels the rest; a cancel is a request
  // (#first-failure, #protocol).
  AP_TODO();
}
/* $end tg-cancel-children */

/* $begin tg-record-error */
/* Returns 1 when status is the group's first error. UV_ECANCELED is the
 * answer to our own request, never an error of the child. */
static int record_error(tg_t *g, int status)
{
  // TODO: taskgroup.h: the first error, and how many others (#errors).
  return AP_TODO();
}
/* $end tg-record-error */

/* $begin tg-exit */
void tg_exit(tg_child_t *child, int status)
{
  tg_t *g = child->group;

  trace(g, "exit", child->id, status);
  // TODO: taskgroup.h, tg_exit (#first-failure, #finishing).
  AP_TODO();
}
/* $end tg-exit */

/* $begin tg-on-deadline */
static void on_deadline(uv_timer_t *timer)
{
  tg_t *g = AP_CONTAINER_OF(timer, tg_t, deadline);

  trace(g, "deadline", g->id, UV_ETIMEDOUT);
  // TODO: taskgroup.h [tg.7]: cancels as a first failure does (#deadline).
  AP_TODO();
}
/* $end tg-on-deadline */

int tg_cancel(tg_t *g)
{
  // TODO: taskgroup.h [tg.9]: one of three causes (#deadline).
  return AP_TODO();
}

/* $begin tg-start */
int tg_start(uv_loop_t *loop, tg_t *g, uint64_t deadline_ms, tg_done_cb done)
{
  int err;

  if (done == NULL)
    return UV_EINVAL;
  err = uv_timer_init(loop, &g->deadline);
  if (err != 0)
    return err;
  g->loop = loop;
  g->done = done;
  g->status = g->others = 0;
  g->running = 0;
  g->cancelling = 0;
  g->state = TG_OPEN;
  g->children = NULL;
  trace(g, "open", g->id, (long) deadline_ms);
  if (deadline_ms > 0)
    uv_timer_start(&g->deadline, on_deadline, deadline_ms, 0);
  return 0;
}
/* $end tg-start */

int tg_add(tg_t *g, tg_child_t *child, long id, const tg_child_ops_t *ops)
{
  if (ops == NULL || ops->cancel == NULL || g->state >= TG_CLOSING)
    return UV_EINVAL;
  if (g->cancelling)
    return UV_ECANCELED; /* asyncio: "TaskGroup is shutting down" */
  child->id = id;
  child->ops = ops;
  child->group = g;
  link_child(g, child);
  g->running++;
  trace(g, "add", id, g->id);
  return 0;
}

int tg_wait(tg_t *g)
{
  if (g->state != TG_OPEN)
    return UV_EALREADY;
  g->state = TG_WAITING;
  /* No child left: maybe_finish closes the timer, so done still runs later. */
  maybe_finish(g);
  return 0;
}
