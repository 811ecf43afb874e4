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
 * Usage rules:
 *  - A step calls its done callback exactly once, on a later loop turn.
 *  - exit runs exactly once after an enter that reported 0, whatever the
 *    body reports, and never after an enter that reported an error: a failed
 *    enter releases whatever it made half-way before it reports.
 *  - exit receives the body's status and reports the status the block goes
 *    on with: the same status (let it through), 0 (suppress it), or its own
 *    release error, which replaces it.
 *  - final runs exactly once, after the last step has completed; final may
 *    free the res_using_t and reuse the resource.
 *  - If res_using() or res_stack_init() returns an error, no step runs and
 *    final is never called.
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
 * __aexit__. Each step reports through done exactly once, on a later turn. */
typedef struct res_ops {
  /* Acquires r: done(r, 0) when r is held; done(r, error) when it is not,
   * after everything made half-way has been released. */
  void (*enter)(res_t *r, res_cb done);
  /* Releases r, which is held. status is the error pending from the block.
   * done(r, outcome) once r is released; outcome as in the usage rules. */
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
 * outcome: enter's error, or what exit reported. Returns 0, or UV_EINVAL
 * (u, r, r->ops, body or final is NULL). */
int res_using(res_using_t *u, res_t *r, res_body_fn body, res_final_cb final);

/* ---- The exit stack -------------------------------------------------------- */
/* $begin res-stack-type */
/* N resources as one: enter acquires items[0..n) in order; exit releases
 * them in reverse, handing each exit the outcome of the one before. If
 * items[k] fails to enter, items[k-1] .. items[0] are released (they see the
 * error) and the stack's enter reports the error. */
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

/* Returns 0, or UV_EINVAL (items NULL, or n == 0: an empty stack would
 * have to report inside the call). */
int res_stack_init(res_stack_t *s, uv_loop_t *loop, res_t **items, size_t n);

#endif /* RES_H */
