/* co.h — lab 02: the same n operations, their results handed over in input
 * order (gather) or in completion order (as_completed).
 *
 * The asyncio versions:
 *     results = await asyncio.gather(*aws, return_exceptions=True)
 *     for k, fut in enumerate(asyncio.as_completed(aws, timeout=t), 1):
 *         use(await fut); print(f"{k}/{len(aws)}")
 *
 * An operation is anything a co_kind_t can start: a timer, a fake operation,
 * a request to a server. The lab never looks inside it.
 *
 * Usage rules for an operation (the kind's start and cancel functions):
 *  - start(loop, index, ctx, c) starts operation index and returns 0, or a
 *    negative error: then the operation never ran and that error is its
 *    result (like a task that raised at once).
 *  - A started operation calls co_complete(c, status, value) exactly once, on
 *    a later loop turn (never inside start or cancel); after that call it
 *    must not touch c again.
 *  - cancel(loop, index, ctx, c) asks a running operation to stop early. It
 *    still ends with its one co_complete, later (usually UV_ECANCELED). An
 *    operation that cannot stop (a running thread-pool job) returns an error
 *    and simply completes when it is done.
 *
 * Contract of the lab (each clause has a graded test that names it:
 * tools/clauses.sh):
 *  [co.1] co_gather and co_as_completed call kind->start once per operation,
 *         in input order, before they return, and never run the loop.
 *  [co.2] A start error is that operation's result, like any other: its
 *         results[i].status, its report (counted in g->failed, in k).
 *  [co.3] gather: results[i] receives operation i's status and value,
 *         whatever order the operations end in; g->failed counts the
 *         non-zero statuses. A failure, in any position, stops nothing.
 *  [co.4] gather: done runs exactly once, after all n have ended and every
 *         result is in results[]; never inside co_gather (n == 0, every
 *         start failed) nor inside co_complete (the last one to end).
 *  [co.5] as_completed: consume runs once per operation, in the order the
 *         operations called co_complete (a start error counts as ending
 *         inside co_as_completed, at its place in input order), with its
 *         index, status and value; item->k = 1, 2, ..., n and item->n = n.
 *  [co.6] consume never runs inside co_as_completed nor inside co_complete:
 *         reports are handed over on a later loop turn, oldest first.
 *  [co.7] Timeout: when it expires, every operation that has not called
 *         co_complete by then is reported with UV_ETIMEDOUT, in input order,
 *         after every report of an operation that ended before it, and
 *         counted in q->timed_out. Nothing more is reported about it: its
 *         later co_complete is dropped.
 *  [co.8] CO_KEEP_RUNNING never calls cancel. CO_CANCEL calls kind->cancel
 *         once on each operation that has not called co_complete when the
 *         timeout expires (in no particular order), and on no other; an
 *         error from cancel changes nothing (the operation ends later).
 *  [co.9] as_completed: done runs exactly once, after the n-th report, after
 *         every operation has called co_complete (stragglers after a
 *         timeout too), and after every handle the lab opened is closed;
 *         never inside co_as_completed nor inside co_complete.
 *  [co.10] Once every operation has its report (n == 0 and every start
 *         failing included), the timeout no longer matters: done does not
 *         wait for it to expire.
 *  [co.11] co_gather returns UV_EINVAL (kind, kind->start or done NULL, or
 *         n > 0 and results NULL) or UV_ENOMEM; co_as_completed returns
 *         UV_EINVAL (kind, kind->start, consume or done NULL; a policy that
 *         is not one of the two; CO_CANCEL without kind->cancel), UV_ENOMEM
 *         or a uv_timer_init error. On an error nothing is started, nothing
 *         is left open or allocated and nothing is ever called back.
 *  [co.12] The caller sets data; the lab sets every other field of g or q,
 *         whatever it held. done may free g or q, or start them again (from
 *         done too); the lab touches neither after done returns.
 */
#ifndef CO_H
#define CO_H

#include "ap.h"

/* $begin co-kind */
typedef struct co_completion co_completion_t;

/* Starts operation index. Returns 0 or a negative libuv error. */
typedef int (*co_start_fn)(uv_loop_t *loop, size_t index, void *ctx, co_completion_t *c);
/* Asks operation index to stop. Returns 0, or an error when it cannot. */
typedef int (*co_cancel_fn)(uv_loop_t *loop, size_t index, void *ctx, co_completion_t *c);

/* A kind of operation: how to start one, how to cancel one. */
typedef struct co_kind {
  co_start_fn start;
  co_cancel_fn cancel; /* may be NULL unless a timeout uses CO_CANCEL */
  void *ctx;           /* passed to start and cancel */
} co_kind_t;

/* An operation calls this once, when it ends: status 0 or its error. */
void co_complete(co_completion_t *c, int status, long value);
/* $end co-kind */

/* ---- Internals shared by gather and as_completed -------------------------- */
typedef struct co_batch co_batch_t;
typedef void (*co_end_fn)(co_batch_t *b, co_completion_t *c, int status, long value);

/* One per operation, owned by the lab (in the batch's array). */
struct co_completion {
  void *data;   /* the operation's own: e.g. its state */
  size_t index; /* read-only: the operation's input position */
  /* private */
  co_batch_t *batch;
  co_completion_t *next; /* link in the completion queue */
  int status;
  long value;
  int ended;    /* co_complete has been called */
  int reported; /* its report (result or timeout) is queued */
};

/* n operations of one kind, started in input order, each ending once. */
struct co_batch {
  uv_loop_t *loop;
  co_kind_t kind;
  co_completion_t *ops; /* n completions, calloc'd, freed by co__batch_free */
  size_t n;
  size_t ended;     /* operations that called co_complete */
  co_end_fn on_end; /* runs inside co_complete */
};

/* Returns 0 or UV_ENOMEM. */
int co__batch_init(co_batch_t *b, uv_loop_t *loop, const co_kind_t *kind, size_t n,
                   co_end_fn on_end);
void co__batch_start(co_batch_t *b);
void co__batch_free(co_batch_t *b);

/* ---- gather: every result, in input order --------------------------------- */
typedef struct co_result {
  int status; /* 0, or the operation's error */
  long value; /* meaningful when status is 0 */
} co_result_t;

typedef struct co_gather co_gather_t;
typedef void (*co_gather_cb)(co_gather_t *g);

struct co_gather {
  void *data;    /* yours */
  size_t failed; /* read-only: results with a non-zero status */
  /* private */
  co_batch_t batch;
  co_result_t *results;
  co_gather_cb done;
  ap_soon_t soon;
};

/* Starts n operations; results[i] receives operation i's result, whatever
 * the order they end in. A failure does not stop the others: done runs once
 * all n have ended, like gather(..., return_exceptions=True).
 * Returns 0, UV_EINVAL or UV_ENOMEM ([co.11]). */
int co_gather(uv_loop_t *loop, co_gather_t *g, const co_kind_t *kind, size_t n,
              co_result_t *results, co_gather_cb done);

/* ---- as_completed: each result as soon as it is there --------------------- */
/* $begin co-queue-types */
/* What to do with operations still running when the timeout expires. Both
 * report them as timed out; they differ in what happens to them next. */
typedef enum co_policy {
  CO_KEEP_RUNNING = 1, /* let them finish; their results are dropped */
  CO_CANCEL            /* call the kind's cancel on each of them */
} co_policy_t;

typedef struct co_timeout {
  uint64_t ms; /* from the call to co_as_completed */
  co_policy_t policy;
} co_timeout_t;

/* One report handed to the consumer. */
typedef struct co_item {
  size_t index; /* which operation: its input position */
  int status;   /* 0, its error, or UV_ETIMEDOUT */
  long value;   /* meaningful when status is 0 */
  size_t k;     /* progress: this is report k of n, k = 1..n */
  size_t n;
} co_item_t;
/* $end co-queue-types */

typedef struct co_queue co_queue_t;
typedef void (*co_consume_cb)(co_queue_t *q, const co_item_t *item);
typedef void (*co_queue_cb)(co_queue_t *q);

struct co_queue {
  void *data;       /* yours */
  size_t timed_out; /* read-only: operations reported as timed out */
  /* private */
  co_batch_t batch;
  co_completion_t *head; /* reports not yet handed to consume, oldest first */
  co_completion_t *tail;
  size_t queued;   /* reports ever queued: at most one per operation */
  size_t consumed; /* reports handed to consume */
  co_consume_cb consume;
  co_queue_cb done;
  co_policy_t policy;
  uv_timer_t timer; /* the timeout, when there is one */
  int timer_live;   /* timer initialised and its close callback not run */
  ap_soon_t drain;
  int drain_pending; /* drain queued with ap_soon and not yet run */
};

/* Starts n operations and hands each one's report to consume, once, in the
 * order they end: consume(q, item) runs n times with item->k = 1, 2, ..., n.
 * With a timeout (may be NULL: none), operations still running when it
 * expires are reported with UV_ETIMEDOUT, in input order, and then treated
 * by timeout->policy; nothing is reported about them afterwards. done runs
 * once, after the n-th report and after every operation has ended.
 * Returns 0, UV_EINVAL, UV_ENOMEM or a uv_timer_init error ([co.11]). */
int co_as_completed(uv_loop_t *loop, co_queue_t *q, const co_kind_t *kind, size_t n,
                    const co_timeout_t *timeout, co_consume_cb consume, co_queue_cb done);

#endif /* CO_H */
