/* sem.c — lab 03: the fair semaphore.
 *
 * The queue is a doubly linked list threaded through the waiters, so a
 * cancel unlinks in O(1) and the semaphore allocates nothing. Every callback
 * goes through ap_soon(): acquire, release and cancel only move waiters
 * between states and queues, and return.
 *
 * Invariant: available > 0 only while nobody waits. A release with waiters
 * does not touch available at all; the permit changes owner directly.
 */
#include "sem.h"

static void enqueue(bf_sem_t *sem, bf_waiter_t *w)
{
  w->next = NULL;
  w->prev = sem->tail;
  if (sem->tail != NULL)
    sem->tail->next = w;
  else
    sem->head = w;
  sem->tail = w;
  sem->waiting++;
}

static void unlink_waiter(bf_sem_t *sem, bf_waiter_t *w)
{
  if (w->prev != NULL)
    w->prev->next = w->next;
  else
    sem->head = w->next;
  if (w->next != NULL)
    w->next->prev = w->prev;
  else
    sem->tail = w->prev;
  w->prev = w->next = NULL;
  sem->waiting--;
}

/* Runs on a later turn: tell the waiter what happened to it. */
static void deliver(ap_soon_t *soon)
{
  bf_waiter_t *w = AP_CONTAINER_OF(soon, bf_waiter_t, soon);

  if (w->state == BF_GRANTED) {
    w->state = BF_HELD;
    w->cb(w, 0);
  } else {
    w->state = BF_IDLE;
    w->cb(w, UV_ECANCELED);
  }
  /* w may be freed or reused by cb: do not touch it here. */
}

/* $begin sem-grant */
/* w now owns a permit; it learns so on a later turn. */
static void grant(bf_sem_t *sem, bf_waiter_t *w)
{
  /* SOLUTION BEGIN */
  w->state = BF_GRANTED;
  ap_soon(sem->loop, &w->soon, deliver);
  /* SOLUTION END */
  /* STARTER: // TODO: sem.h: a grant is delivered on a later turn (#later-turns). */
  /* STARTER: AP_TODO(); */
}
/* $end sem-grant */

int bf_sem_init(uv_loop_t *loop, bf_sem_t *sem, long limit)
{
  /* SOLUTION BEGIN */
  if (limit < 1)
    return UV_EINVAL;
  sem->loop = loop;
  sem->limit = sem->available = limit;
  sem->waiting = 0;
  sem->head = sem->tail = NULL;
  return 0;
  /* SOLUTION END */
  /* STARTER: // TODO: sem.h, bf_sem_init (#misuse). */
  /* STARTER: return AP_TODO(); */
}

/* $begin sem-acquire */
int bf_sem_acquire(bf_sem_t *sem, bf_waiter_t *w, bf_sem_cb cb)
{
  /* SOLUTION BEGIN */
  if (cb == NULL)
    return UV_EINVAL;
  if (w->state != BF_IDLE)
    return UV_EBUSY;
  w->sem = sem;
  w->cb = cb;
  /* Taking a free permit while others wait would be barging; the
   * invariant says it cannot happen, the test keeps it honest. */
  if (sem->available > 0 && sem->head == NULL) {
    sem->available--;
    grant(sem, w);
    return 0;
  }
  w->state = BF_QUEUED;
  enqueue(sem, w);
  return 0;
  /* SOLUTION END */
  /* STARTER: // TODO: sem.h, bf_sem_acquire: FIFO, no barging, no callback inside the call */
  /* STARTER: // (#the-semaphore, #misuse). */
  /* STARTER: return AP_TODO(); */
}
/* $end sem-acquire */

/* $begin sem-release */
int bf_sem_release(bf_waiter_t *w)
{
  /* SOLUTION BEGIN */
  bf_sem_t *sem = w->sem;
  bf_waiter_t *first;

  if (w->state != BF_HELD)
    return UV_EINVAL;
  w->state = BF_IDLE;
  first = sem->head;
  if (first == NULL) {
    sem->available++;
    return 0;
  }
  /* Hand-off: the permit goes to the first waiter without ever being
   * free, so nobody who arrives later can grab it in between. */
  unlink_waiter(sem, first);
  grant(sem, first);
  return 0;
  /* SOLUTION END */
  /* STARTER: // TODO: sem.h, bf_sem_release: the permit goes to the first waiter in line */
  /* STARTER: // (#fairness-and-handoff, #misuse). */
  /* STARTER: return AP_TODO(); */
}
/* $end sem-release */

/* $begin sem-cancel */
int bf_sem_cancel(bf_waiter_t *w)
{
  /* SOLUTION BEGIN */
  if (w->state == BF_GRANTED || w->state == BF_HELD)
    return UV_EBUSY;
  if (w->state != BF_QUEUED)
    return UV_EINVAL;
  unlink_waiter(w->sem, w);
  w->state = BF_CANCELLED;
  ap_soon(w->sem->loop, &w->soon, deliver);
  return 0;
  /* SOLUTION END */
  /* STARTER: // TODO: sem.h, bf_sem_cancel (#cancellation). */
  /* STARTER: return AP_TODO(); */
}
/* $end sem-cancel */
