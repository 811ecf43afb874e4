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
 * Contract (each clause has a graded test that names it: tools/clauses.sh):
 *  [sem.1] bf_sem_init() sets every field of sem, whatever it held, to limit
 *          free permits and an empty line; it returns UV_EINVAL when
 *          limit < 1 (a semaphore of 0 permits would never grant anything).
 *          A semaphore nobody queues on, holds or awaits a callback from may
 *          be initialised again.
 *  [sem.2] bf_sem_acquire() queues w for one permit. cb(w, 0) runs once, on
 *          a later loop turn, when w is granted one: w then holds it until
 *          bf_sem_release(w).
 *  [sem.3] At most limit waiters own a permit at once (granted or holding),
 *          and a permit is never free while a waiter is queued: the owners
 *          are exactly min(limit, owners + queued). sem->available counts
 *          the free permits, sem->waiting the queued waiters.
 *  [sem.4] Fair: permits go to waiters in the order they called acquire; a
 *          cancelled waiter leaves the others' order unchanged.
 *  [sem.5] Hand-off: a release while waiters are queued gives the permit to
 *          the first of them, so an acquire made after the release queues
 *          behind it (no barging).
 *  [sem.6] No callback ever runs inside bf_sem_acquire(), bf_sem_release()
 *          or bf_sem_cancel(). A release that grants work which completes at
 *          once therefore never deepens the stack.
 *  [sem.7] bf_sem_cancel() of a queued waiter, wherever it is in line,
 *          takes it out of the line and returns 0; cb(w, UV_ECANCELED) runs
 *          once, on a later turn. No permit changes hands.
 *  [sem.8] bf_sem_cancel() returns UV_EBUSY when w owns a permit (granted,
 *          its cb not yet run, or holding: it releases instead) and
 *          UV_EINVAL when w is not queued (never acquired, released, already
 *          cancelled, its cb run or not). Then nothing changes: no callback
 *          more, none less.
 *  [sem.9] bf_sem_acquire() returns UV_EINVAL when cb is NULL and UV_EBUSY
 *          when w is queued, owns a permit or has a callback pending. Then
 *          nothing changes and cb is never called for that call.
 *  [sem.10] bf_sem_release() returns UV_EINVAL when w holds no permit (never
 *          acquired, still queued, its grant not yet delivered, already
 *          released, cancelled). Then nothing changes.
 *  [sem.11] A waiter starts zeroed (BF_IDLE); w->state says where it is (the
 *          enum below). Once its cb ran (and, after a grant, it released) it
 *          may acquire again or be freed, from inside its cb too; it must
 *          stay valid until then. The caller sets data.
 *
 * The semaphore owns no handle: nothing to close. Do not free it while any
 * waiter is queued, holds a permit or has a callback pending.
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

/* Returns 0 or UV_EINVAL ([sem.1]). */
int bf_sem_init(uv_loop_t *loop, bf_sem_t *sem, long limit);

/* Queues w for one permit; cb runs later ([sem.2]).
 * Returns 0, UV_EINVAL or UV_EBUSY ([sem.9]). */
int bf_sem_acquire(bf_sem_t *sem, bf_waiter_t *w, bf_sem_cb cb);

/* Gives back the permit w holds: to the first waiter if there is one, else
 * to the pool ([sem.5]). Returns 0 or UV_EINVAL ([sem.10]). */
int bf_sem_release(bf_waiter_t *w);

/* Takes a queued waiter out of the line; its cb later gets UV_ECANCELED
 * ([sem.7]). Returns 0, UV_EBUSY or UV_EINVAL ([sem.8]). */
int bf_sem_cancel(bf_waiter_t *w);

#endif /* BF_SEM_H */
