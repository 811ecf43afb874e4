/* rawq.h — the raw-libuv baselines' completion queue: ap_soon's mechanism
 * written for one purpose, with none of its generality.
 *
 * A check handle drains the queue after each poll; an idle handle, active
 * while the queue is not empty, keeps the poll from blocking. Only what was
 * queued before a drain began runs in it, so a completion that queues the
 * next job defers it to the next turn, as ap_soon does.
 *
 * Usage rules:
 *  - The baseline writes its own check callback (the drain): it pops
 *    rawq_batch(q) nodes, completes each one directly (no call through a
 *    pointer per job), then calls rawq_settle(q, all_done).
 *  - Header-only and static inline, so that each baseline compiles to the
 *    plain loop a hand-written program would have.
 *  - rawq_settle(q, 1) closes both handles; the loop ends once they are
 *    closed.
 */
#ifndef BENCH_RAWQ_H
#define BENCH_RAWQ_H

#include <stddef.h>
#include <uv.h>

typedef struct rawq_node rawq_node_t;
struct rawq_node {
  rawq_node_t *next;
};

typedef struct rawq {
  uv_check_t check;
  uv_idle_t idle;
  rawq_node_t *head;
  rawq_node_t *tail;
  size_t queued;
} rawq_t;

static inline void rawq__idle(uv_idle_t *idle)
{
  (void) idle; /* only here so that the poll does not block */
}

static inline void rawq_init(uv_loop_t *loop, rawq_t *q, uv_check_cb drain)
{
  q->head = q->tail = NULL;
  q->queued = 0;
  uv_check_init(loop, &q->check);
  uv_idle_init(loop, &q->idle);
  uv_check_start(&q->check, drain);
  uv_unref((uv_handle_t *) &q->check);
}

static inline void rawq_push(rawq_t *q, rawq_node_t *node)
{
  node->next = NULL;
  if (q->tail != NULL)
    q->tail->next = node;
  else
    q->head = node;
  q->tail = node;
  if (q->queued++ == 0)
    uv_idle_start(&q->idle, rawq__idle);
}

/* How many nodes this drain may pop: those queued before it began. */
static inline size_t rawq_batch(const rawq_t *q)
{
  return q->queued;
}

static inline rawq_node_t *rawq_pop(rawq_t *q)
{
  rawq_node_t *node = q->head;

  q->head = node->next;
  if (q->head == NULL)
    q->tail = NULL;
  q->queued--;
  return node;
}

/* After a drain: an empty queue must not keep the poll from blocking; when
 * the baseline says it is all done, both handles are closed (the loop then
 * ends). Returns all_done. */
static inline int rawq_settle(rawq_t *q, int all_done)
{
  if (q->queued == 0)
    uv_idle_stop(&q->idle);
  if (all_done) {
    uv_close((uv_handle_t *) &q->check, NULL);
    uv_close((uv_handle_t *) &q->idle, NULL);
  }
  return all_done;
}

#endif /* BENCH_RAWQ_H */
