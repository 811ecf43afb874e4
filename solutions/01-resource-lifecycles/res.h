/* res.h — lab 01: resources whose acquire and release both take time, used
 * through a "using" block and an exit stack.
 *
 * The asyncio version:
 *     async with connect(port) as conn:        # enter, then body, then exit
 *         await conn.echo(b"ping")
 *
 *     async with AsyncExitStack() as stack:    # N resources, released in reverse
 *         a = await stack.enter_async_context(connect(port))
 *         f = await stack.enter_async_context(open_writer(path))
 *
 * A resource is a res_t with a small table of two async steps, enter and
 * exit. res_using() runs enter, then your body, then exit, then final. An
 * exit stack (res_stack_t) is itself a resource: its enter acquires N
 * resources in order, its exit releases them in reverse.
 *
 * Contract (each clause has a graded test that names it: tools/clauses.sh):
 *  [res.1] A step (ops->enter, ops->exit, so res_enter() and res_exit())
 *          calls its done exactly once, on a later loop turn, never inside
 *          the call that started it. The stack, the connection and the file
 *          keep this rule on every path, errors included.
 *  [res.2] enter reports 0 when r is held, or an error once everything it
 *          made half-way has been released (then nothing is held).
 *  [res.3] res_using() starts enter (res_enter) before it returns, and
 *          nothing else: body, exit and final never run inside res_using().
 *  [res.4] The body runs once, only after enter reported 0. exit runs exactly
 *          once after the body's done, whatever the body reported, and never
 *          after an enter that reported an error: then neither body nor exit
 *          runs, and final receives enter's error.
 *  [res.5] exit receives the body's status and reports the status the block
 *          goes on with: the same status (let it through), 0 (suppress it),
 *          or its own release error, which replaces it. final receives
 *          exactly what exit reported.
 *  [res.6] final runs exactly once, after the last step has completed, and
 *          the block touches neither u nor r after final returns: final may
 *          free u, and may start a new block on the same resource (with the
 *          same u or another).
 *  [res.7] res_using() returns UV_EINVAL when u, r, r->ops, body or final is
 *          NULL; then no step runs and final is never called.
 *  [res.8] The caller sets u->data; the block works whatever the other
 *          fields of u held before res_using(). A block keeps its state in u and r only: blocks
 *          on different resources may run at the same time.
 *  [res.9] The stack's enter acquires items[0..n) in order, each entered
 *          only after the one before reported 0, and reports 0 when all are
 *          held. Its exit releases them in reverse, handing the first
 *          release the status the stack's exit received and each next one
 *          the outcome of the one before, and reports the last outcome.
 *  [res.10] If items[k] fails to enter, no item after it is entered and
 *          items[k-1] .. items[0] are released (never items[k]), the first
 *          of them handed the enter error and each next one the outcome of
 *          the one before. The stack's enter then reports the last outcome,
 *          or the enter error when a release suppressed it (0): a stack that
 *          holds nothing never reports 0. k may be any position, 0 included.
 *  [res.11] res_stack_init() returns 0, or UV_EINVAL when s or items is NULL,
 *          n == 0 (an empty stack would have to report inside the call), or
 *          an item is NULL or has no ops; then the stack must not be used.
 *  [res.12] The caller sets s->res.id, trace and data; the stack works
 *          whatever its other fields held before res_stack_init(). A stack may be used again
 *          once its block's final ran: each enter starts from nothing held
 *          and no earlier error, whatever the last use did.
 *  [res.13] Every step, the stack's items' too, runs through res_enter() and
 *          res_exit(): they record "enter", "entered" (value: the status),
 *          "exit" (value: the status received) and "exited" (value: the
 *          outcome) in the resource's trace.
 */
#ifndef RES_H
#define RES_H

#include "ap.h"

typedef struct res res_t;
typedef struct res_using res_using_t;

/* A step's completion: status is 0 or a negative UV_E* code. */
typedef void (*res_cb)(res_t *r, int status);

/* $begin res-ops */
/* What a kind of resource does on entry and on exit: __aenter__ and
 * __aexit__. Each step reports through done exactly once, on a later turn
 * ([res.1]). */
typedef struct res_ops {
  /* Acquires r: done(r, 0) when r is held; done(r, error) when it is not,
   * after everything made half-way has been released. */
  void (*enter)(res_t *r, res_cb done);
  /* Releases r, which is held. status is the error pending from the block.
   * done(r, outcome) once r is released; outcome as in [res.5]. */
  void (*exit)(res_t *r, int status, res_cb done);
} res_ops_t;
/* $end res-ops */

struct res {
  void *data;           /* yours */
  const res_ops_t *ops; /* set by the resource's init function */
  uv_loop_t *loop;      /* set by the resource's init function */
  long id;              /* names the resource in traces */
  ap_trace_t *trace;    /* optional: "enter", "entered", "exit", "exited" */
  void *owner;          /* the block or stack running r's steps */
  /* private */
  res_cb step_done; /* the completion res_enter/res_exit relay to */
  ap_soon_t soon;   /* res_report_later: calls later_cb(r, later_status) */
  res_cb later_cb;
  int later_status;
};

/* Runs r's enter step; done(r, status) runs once, on a later turn. Records
 * "enter" and, on completion, "entered" (value: the status) in r->trace. */
void res_enter(res_t *r, res_cb done);
/* Runs r's exit step with the block's pending status; records "exit" (value:
 * the status received) and "exited" (value: the outcome). */
void res_exit(res_t *r, int status, res_cb done);
/* For step implementations: calls done(r, status) on a later turn, for a step
 * that fails before it could start anything asynchronous. */
void res_report_later(res_t *r, res_cb done, int status);
/* Records (what, r->id, value) in r->trace when there is one. */
void res_trace(res_t *r, const char *what, long value);

/* ---- The using block ------------------------------------------------------ */
/* The body's completion, and the body itself: it does its work with u->res
 * held and calls done(u, status) exactly once. */
typedef void (*res_body_cb)(res_using_t *u, int status);
typedef void (*res_body_fn)(res_using_t *u, res_body_cb done);
typedef void (*res_final_cb)(res_using_t *u, int status);

/* $begin res-using-type */
struct res_using {
  void *data; /* yours */
  res_t *res; /* read-only: the resource in use */
  /* private */
  res_body_fn body;
  res_final_cb final;
};
/* $end res-using-type */

/* Enters r, runs body, exits r, then calls final(u, status) with the
 * outcome: enter's error, or what exit reported ([res.3] to [res.6], [res.8]).
 * Returns 0, or UV_EINVAL ([res.7]). */
int res_using(res_using_t *u, res_t *r, res_body_fn body, res_final_cb final);

/* ---- The exit stack -------------------------------------------------------- */
/* $begin res-stack-type */
/* N resources as one: enter acquires items[0..n) in order; exit releases
 * them in reverse, handing each exit the outcome of the one before ([res.9]).
 * If items[k] fails to enter, items[k-1] .. items[0] are released (they see
 * the error) and the stack's enter reports an error ([res.10]). */
typedef struct res_stack {
  res_t res; /* use the stack like any resource */
  /* private */
  res_t **items;
  size_t n;
  size_t held;     /* items[0..held) are acquired */
  int status;      /* the status handed from one exit to the next */
  int enter_error; /* set while unwinding a failed enter */
  res_cb done;     /* the stack's own step completion */
} res_stack_t;
/* $end res-stack-type */

/* Makes s a resource over items[0..n) ([res.12]). Returns 0 or UV_EINVAL
 * ([res.11]). */
int res_stack_init(res_stack_t *s, uv_loop_t *loop, res_t **items, size_t n);

#endif /* RES_H */
