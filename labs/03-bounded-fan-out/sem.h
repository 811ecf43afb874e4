/* sem.h — lab 03: a fair counting semaphore on the event loop.
 *
 * The asyncio version:
 *     sem = asyncio.Semaphore(limit)
 *     async with sem:          # acquire ... release, even on failure
 *         await fetch(item)
 *
 * A waiter is one claim on one permit; the caller owns its memory, usually
 * embedded in the struct of the work it guards.
 *
 * Usage rules:
 *  - bf_sem_acquire() queues the waiter. Its callback runs once, on a later
 *    loop turn: status 0 when the permit is granted (the waiter now holds it
 *    and must give it back with bf_sem_release()), or UV_ECANCELED after
 *    bf_sem_cancel() took it out of the queue.
 *  - Fair: permits go to waiters in the order they called acquire. A release
 *    hands its permit straight to the first waiter, so an acquire made after
 *    the release cannot take it first.
 *  - No callback ever runs inside acquire, release or cancel. A release
 *    that grants work which completes at once therefore never deepens the
 *    stack.
 *  - A waiter starts zeroed (BF_IDLE). It may be reused once its callback
 *    ran and it released what it was granted; it must stay valid until then.
 *  - The semaphore owns no handle: nothing to close. Do not free it while
 *    any waiter is queued, holds a permit or has a callback pending.
 */
#ifndef BF_SEM_H
#define BF_SEM_H

#include "ap.h"

typedef struct bf_sem bf_sem_t;
typedef struct bf_waiter bf_waiter_t;
typedef void (*bf_sem_cb)(bf_waiter_t *w, int status);

/* Where a waiter is in its life. */
enum {
  BF_IDLE = 0, /* holds nothing, wants nothing */
  BF_QUEUED,   /* in the queue, no permit yet */
  BF_GRANTED,  /* owns a permit; cb(w, 0) is on its way */
  BF_HELD,     /* owns a permit; cb ran */
  BF_CANCELLED /* out of the queue; cb(w, UV_ECANCELED) is on its way */
};

/* $begin sem-types */
struct bf_waiter {
  void *data; /* yours */
  int state;  /* read-only: BF_IDLE ... BF_CANCELLED */
  /* private */
  bf_sem_t *sem;
  bf_sem_cb cb;
  bf_waiter_t *prev; /* the queue, while BF_QUEUED */
  bf_waiter_t *next;
  ap_soon_t soon; /* delivers cb */
};

struct bf_sem {
  uv_loop_t *loop; /* read-only */
  long limit;      /* read-only: permits in all */
  long available;  /* read-only: permits nobody owns */
  long waiting;    /* read-only: waiters queued */
  /* private */
  bf_waiter_t *head; /* first in line */
  bf_waiter_t *tail;
};
/* $end sem-types */

/* Returns 0, or UV_EINVAL when limit < 1 (a semaphore of 0 permits would
 * never grant anything: every acquire would wait forever). */
int bf_sem_init(uv_loop_t *loop, bf_sem_t *sem, long limit);

/* Queues w for one permit; cb runs later (see the rules above).
 * Returns 0, UV_EINVAL (cb is NULL) or UV_EBUSY (w is already queued, holds
 * a permit or has a callback pending). On error cb is never called. */
int bf_sem_acquire(bf_sem_t *sem, bf_waiter_t *w, bf_sem_cb cb);

/* Gives back the permit w holds: to the first waiter if there is one, else
 * to the pool. Returns 0, or UV_EINVAL when w holds no permit (never
 * acquired, still queued, its grant not yet delivered, already released). */
int bf_sem_release(bf_waiter_t *w);

/* Takes a queued waiter out of the line; its cb later gets UV_ECANCELED.
 * Returns 0; UV_EBUSY when w already owns a permit (release it instead);
 * UV_EINVAL when w is not waiting at all. */
int bf_sem_cancel(bf_waiter_t *w);

#endif /* BF_SEM_H */
