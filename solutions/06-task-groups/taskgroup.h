/* taskgroup.h — lab 06: a task group, one failure boundary for several
 * operations that form one parent operation.
 *
 * The asyncio version:
 *     async with asyncio.timeout(2):
 *         async with asyncio.TaskGroup() as tg:
 *             tg.create_task(fetch(a))
 *             tg.create_task(fetch(b))
 *
 * Usage rules: tg_start() opens a group; children join it with a kind's
 * start function (tg_timer_start, tg_work_start, tg_group_start, or your own
 * kind through tg_add); tg_wait() says "the body of the async-with block is
 * done". A cancel is a request, the child's exit is the answer.
 *
 * Contract (each clause has a graded test that names it: tools/clauses.sh):
 *  [tg.1] tg_start() opens a group with status 0, others 0 and no child;
 *         deadline_ms > 0 starts the group's one timer, 0 means no deadline.
 *         It returns UV_EINVAL when done is NULL (nothing is opened).
 *  [tg.2] tg_add() makes child a running member and returns 0, while the
 *         body runs and after tg_wait() alike, as long as the group has not
 *         begun to finish. It returns UV_EINVAL when ops or ops->cancel is
 *         NULL or the group is finishing or finished, else UV_ECANCELED while
 *         the group is cancelling (before tg_wait() too). A start function
 *         that returns an error started nothing and left nothing open: that
 *         child never exits.
 *  [tg.3] A child exits exactly once, through tg_exit(), from its own last
 *         callback. From its exit on, the group never calls its cancel.
 *  [tg.4] done runs exactly once, after tg_wait() was called and every child
 *         has exited, and after the group's timer is closed; on a later loop
 *         turn, never inside tg_wait(), tg_cancel(), tg_exit() or a start
 *         function (a group with no child included).
 *  [tg.5] The first child error, in any position and at any time (before
 *         tg_wait() too), cancels the group at once: ops->cancel is called
 *         exactly once on each child still running, and on no other. The
 *         group then waits for every exit; done still waits for tg_wait().
 *  [tg.6] done's status is the first of: a child's error, UV_ETIMEDOUT (the
 *         deadline), UV_ECANCELED (tg_cancel()); 0 if none came. others
 *         counts the child errors after it, cancelling included. UV_ECANCELED
 *         from a child is never an error, even when the child stopped on its
 *         own: it cancels nothing and is not counted.
 *  [tg.7] The deadline fires at most once: then the status is UV_ETIMEDOUT
 *         and the group cancels as in [tg.5]. Once the group cancels (for any
 *         cause) the deadline is stopped: it never fires later nor replaces
 *         the status. The timer is closed before done, fired or not.
 *  [tg.8] tg_wait() returns 0 the first time and UV_EALREADY after that.
 *  [tg.9] tg_cancel() returns 0 and cancels the group as in [tg.5] with
 *         UV_ECANCELED, before tg_wait() or after it; it returns UV_EALREADY,
 *         and changes nothing, when the group is cancelling already (a
 *         tg_cancel(), its first error or its deadline) or finishing.
 *  [tg.10] A kind's cancel never exits the child inside it. The timer kind:
 *         a timer exits with its status after ms; cancelling a pending one
 *         returns 0 and it exits UV_ECANCELED; one that fired (its exit on
 *         the way) returns UV_EALREADY and keeps its status.
 *  [tg.11] The work kind: fn's return value is the child's exit status.
 *         tg_work_start() returns UV_EINVAL when fn is NULL (nothing joins).
 *         Cancelling a queued job returns 0: fn never runs and the child
 *         exits UV_ECANCELED. A running job returns UV_EBUSY: the child exits
 *         when fn returns, with fn's result.
 *  [tg.12] The group kind: tg_group_start() joins inner to parent, then opens
 *         it (inner->id = id; the parent's trace if inner->trace is NULL); on
 *         an error inner is not opened. inner exits into parent once, after
 *         its own finish, with its own status: the parent counts it as one
 *         child, never its others. Cancelling it is tg_cancel(inner): 0, or
 *         UV_EALREADY when inner is cancelling or finishing already.
 *  [tg.13] The caller sets data, id and trace; tg_start() and the start
 *         functions set every other field, whatever it held. Child memory
 *         must stay valid until done runs. done may free the group and every
 *         child, or start the group again; the lab touches none of them
 *         after done returns.
 *  [tg.14] The trace events below, when g->trace is set.
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

/* Trace events, when g->trace is set (the grader reads them): "open" (id
 * g->id, value deadline_ms) in tg_start; "add" (the child's id, value g->id)
 * as a child joins; "cancel" (the child's id, value what its cancel returned)
 * after each cancel call; "exit" (the child's id, value its status) as
 * tg_exit starts; "deadline" (g->id, UV_ETIMEDOUT) as the deadline fires;
 * "finish" (g->id, the status) right before done.
 *
 * Opens a group. deadline_ms > 0 cancels it that long from now (status
 * UV_ETIMEDOUT); 0 means no deadline. Returns 0 or UV_EINVAL ([tg.1]). */
int tg_start(uv_loop_t *loop, tg_t *g, uint64_t deadline_ms, tg_done_cb done);

/* The body is done: done runs once every child has exited (on a later turn,
 * even if none is left). Returns 0, or UV_EALREADY if called before ([tg.8]). */
int tg_wait(tg_t *g);

/* Cancels the group from outside (status UV_ECANCELED unless an error came
 * first). Returns 0, or UV_EALREADY if it is cancelling or finishing ([tg.9]). */
int tg_cancel(tg_t *g);

/* ---- Writing a child kind ------------------------------------------------- */

/* Makes child a running member of g. Call it before starting the operation.
 * Returns 0, UV_ECANCELED (the group is cancelling: start nothing) or
 * UV_EINVAL (ops without cancel, or the group no longer takes children): see
 * clause tg.2. */
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
