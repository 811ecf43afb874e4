/* taskgroup.h — lab 06: a task group, one failure boundary for several
 * operations that form one parent operation.
 *
 * The asyncio version:
 *     async with asyncio.timeout(2):
 *         async with asyncio.TaskGroup() as tg:
 *             tg.create_task(fetch(a))
 *             tg.create_task(fetch(b))
 *
 * Usage rules:
 *  - tg_start() opens a group; children join it with a kind's start function
 *    (tg_timer_start, tg_work_start, tg_group_start, or your own kind through
 *    tg_add); tg_wait() says "the body of the async-with block is done".
 *  - done runs exactly once, on a later loop turn, after tg_wait() was called
 *    and every child has exited, and after the group's own timer is closed:
 *    done may free the group and every child.
 *  - The first child error (or the deadline, or tg_cancel) cancels every child
 *    still running, through its kind's cancel function. The group still waits
 *    for each of them: a cancel is a request, the child's exit is the answer.
 *  - done's status is the first error: a child's (never UV_ECANCELED), or
 *    UV_ETIMEDOUT if the deadline came first, or UV_ECANCELED if tg_cancel()
 *    came first. others counts the child errors after it (UV_ECANCELED is
 *    never counted: it is the answer to our own request).
 *  - Child memory belongs to the caller and must stay valid until done runs.
 *  - If a start function returns an error, nothing was started and the child
 *    will never exit.
 */
#ifndef TASKGROUP_H
#define TASKGROUP_H

#include "ap.h"

typedef struct tg tg_t;
typedef struct tg_child tg_child_t;
typedef void (*tg_done_cb)(tg_t *g, int status, int others);

/* $begin tg-ops */
/* What a child kind tells the group: how to ask one of its children to stop. */
typedef struct tg_child_ops {
  const char *kind; /* "timer", "work", "group", ... */
  /* Asks the child to stop early. Never calls tg_exit() itself: the child
   * exits later, from its own callback, exactly once. Returns 0 (it will
   * exit soon, normally with UV_ECANCELED), UV_EBUSY (it cannot be stopped:
   * it will exit when it is done) or UV_EALREADY (it is finishing already:
   * its exit, with its own result, is on the way). */
  int (*cancel)(tg_child_t *child);
} tg_child_ops_t;
/* $end tg-ops */

/* One member of a group. Embed it in your operation's struct. */
struct tg_child {
  void *data; /* yours */
  long id;    /* read-only: names the child in the trace */
  /* private */
  const tg_child_ops_t *ops;
  tg_t *group;
  tg_child_t *prev, *next; /* the group's list of running children */
};

enum tg_state { TG_OPEN, TG_WAITING, TG_CLOSING, TG_FINISHED };

/* $begin tg-struct */
struct tg {
  void *data;        /* yours */
  long id;           /* yours: names the group in the trace */
  ap_trace_t *trace; /* optional: open, add, cancel, exit, deadline, finish */
  /* read-only */
  int status;     /* the first error so far, 0 if none */
  int others;     /* child errors after the first */
  size_t running; /* children that have not exited */
  int cancelling; /* the group is stopping its children */
  enum tg_state state;
  /* private */
  uv_loop_t *loop;
  tg_done_cb done;
  uv_timer_t deadline;  /* the group's one handle, closed before done */
  tg_child_t *children; /* running children */
  tg_child_t as_child;  /* when nested: this group's place in its parent */
};
/* $end tg-struct */

/* Opens a group. deadline_ms > 0 cancels it that long from now (status
 * UV_ETIMEDOUT); 0 means no deadline. Returns 0 or UV_EINVAL (done is NULL). */
int tg_start(uv_loop_t *loop, tg_t *g, uint64_t deadline_ms, tg_done_cb done);

/* The body is done: done runs once every child has exited (on a later turn,
 * even if none is left). Returns 0, or UV_EALREADY if called before. */
int tg_wait(tg_t *g);

/* Cancels the group from outside (status UV_ECANCELED unless an error came
 * first). Returns 0, or UV_EALREADY if it is cancelling or finished. */
int tg_cancel(tg_t *g);

/* ---- Writing a child kind ------------------------------------------------- */

/* Makes child a running member of g. Call it before starting the operation.
 * Returns 0, UV_ECANCELED (the group is cancelling: start nothing) or
 * UV_EINVAL (ops without cancel, or the group no longer takes children). */
int tg_add(tg_t *g, tg_child_t *child, long id, const tg_child_ops_t *ops);

/* The child's one report, from its last callback, once it holds no handle or
 * request any more. The group may run done (and free everything) later. */
void tg_exit(tg_child_t *child, int status);

/* ---- Child kinds ----------------------------------------------------------- */

/* A timer child: exits with status after ms. Cancelling stops and closes the
 * timer (exit UV_ECANCELED); a timer that already fired keeps its result. */
typedef struct tg_timer {
  tg_child_t child;
  uv_timer_t timer; /* private */
  int status;       /* private: what the child exits with */
} tg_timer_t;

/* Returns 0, UV_ECANCELED or UV_EINVAL (see tg_add). */
int tg_timer_start(tg_t *g, tg_timer_t *t, long id, uint64_t ms, int status);

/* A thread-pool child: fn(arg) runs on a pool thread and returns the child's
 * status. A queued job is cancelled (exit UV_ECANCELED, fn never runs); a
 * running one cannot be: the group waits for it. */
typedef int (*tg_work_fn)(void *arg);
typedef struct tg_work {
  tg_child_t child;
  uv_work_t req; /* private */
  tg_work_fn fn; /* private */
  void *arg;     /* private */
  int result;    /* private: fn's return value */
} tg_work_t;

/* Returns 0, UV_ECANCELED or UV_EINVAL (fn is NULL, or see tg_add). */
int tg_work_start(tg_t *g, tg_work_t *w, long id, tg_work_fn fn, void *arg);

/* A group as a child: opens inner (as tg_start, with inner->id = id and, if
 * inner->trace is NULL, the parent's trace) and adds it to parent. Add inner's
 * children, then call tg_wait(inner); inner exits into parent with its own
 * status. Cancelling it cancels inner.
 * Returns 0, UV_ECANCELED or UV_EINVAL (see tg_add). */
int tg_group_start(tg_t *parent, tg_t *inner, long id, uint64_t deadline_ms);

#endif /* TASKGROUP_H */
