/* test_fanout.c — graded tests for lab 03: the fair semaphore (sem.c),
 * fetch_all and the bounded stream (fanout.c).
 *
 * Nothing here reads a clock. Semaphore tests compare the order of grants
 * in the trace. Fan-out tests drive fake operations (ap_fake_t) that end
 * only when the test says so, and after every quiet loop count how many
 * run (an ap_gauge_t); the stack test compares addresses; the creation
 * test counts the bytes on the heap; the out-of-memory tests make the lab's
 * own allocations fail (grade_fail_alloc); the TCP test reads the echo
 * server's own counters.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SANITIZE_ADDRESS__)
/* From <sanitizer/allocator_interface.h>, which gcc does not install. */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include "echo.h"
#include "fanout.h"
#include "grade.h"

/* ---- semaphore fixtures ---------------------------------------------------- */

static bf_sem_t sem;
static bf_waiter_t waiters[8]; /* zeroed: every waiter starts BF_IDLE */
static int sem_calls;

static void on_sem(bf_waiter_t *w, int status)
{
  ap_trace_add(grade_trace(), status == 0 ? "grant" : "cancelled", (long) (w - waiters), status);
  sem_calls++;
}

static void acquire(int i)
{
  int err = bf_sem_acquire(&sem, &waiters[i], on_sem);

  EXPECT(err == 0, "bf_sem_acquire(waiter %d): expected 0, got %s", i, grade_err_name(err));
}

static void release(int i)
{
  int err = bf_sem_release(&waiters[i]);

  EXPECT(err == 0, "bf_sem_release(waiter %d), which holds a permit: expected 0, got %s", i,
         grade_err_name(err));
}

static void sem_start(long limit)
{
  EXPECT_ERR("bf_sem_init()", 0, bf_sem_init(grade_loop(), &sem, limit));
}

/* ---- fake operations -------------------------------------------------------- */

enum { MAX_ITEMS = 4096 };

static ap_fakes_t fakes;
static ap_fake_t fake_ops[MAX_ITEMS]; /* indexed by item */
static long running[MAX_ITEMS];       /* items whose fake runs now */
static size_t nrunning;
static ap_gauge_t inflight; /* raised by ap_fake_start, lowered on completion */
static ap_gauge_t alive;    /* items the stream took and has not finished */
static int done_calls;
static int done_status;

static void fake_finished(ap_fake_t *fake, int status, long value)
{
  ap_gauge_dec(&alive);
  bf_op_done(fake->data, status, value);
}

static void fake_start(bf_op_t *op)
{
  ap_fake_t *fake;

  EXPECT(op->item >= 0 && op->item < MAX_ITEMS, "op->item %ld is not an item given", op->item);
  fake = &fake_ops[op->item];
  fake->data = op;
  running[nrunning++] = op->item;
  ap_fake_start(&fakes, fake, op->item, fake_finished);
}

static void fakes_start(int traced)
{
  ap_fakes_init(&fakes, grade_loop(), traced ? grade_trace() : NULL, &inflight);
}

static int all_succeed(long item)
{
  (void) item;
  return 0;
}

/* Ends running[k] with status and value item * 10 (its callback comes on a
 * later turn). */
static void end_running(size_t k, int status)
{
  long item = running[k];

  running[k] = running[--nrunning];
  ap_fake_complete(&fake_ops[item], status, item * 10);
}

/* Runs the loop; then, while operations run, ends the one chosen by pick
 * (an index into running[]) with status_of(item) and value item * 10, and
 * runs the loop again. Every time the loop is quiet, exactly
 * min(limit, items not finished) must be in flight: never more, never less. */
static void drive(long limit, long total, size_t (*pick)(size_t step, size_t n),
                  int (*status_of)(long item))
{
  long finished = 0;

  grade_run();
  for (size_t step = 0; nrunning > 0; step++) {
    long want = total - finished < limit ? total - finished : limit;
    size_t k = pick(step, nrunning);
    long item = running[k];

    EXPECT(inflight.current == want,
           "after %ld of %ld operations ended, %ld were in flight; with limit %ld exactly %ld "
           "should be (never more, never fewer)",
           finished, total, inflight.current, limit, want);
    end_running(k, status_of(item));
    finished++;
    grade_run();
  }
  EXPECT_EQ("operations ended by the test", total, finished);
}

static size_t pick_scrambled(size_t step, size_t n)
{
  return (step * 7 + 3) % n;
}

static size_t pick_newest(size_t step, size_t n)
{
  (void) step;
  return n - 1;
}

static size_t pick_oldest(size_t step, size_t n)
{
  (void) step, (void) n;
  return 0;
}

static void record_done(int status)
{
  done_calls++;
  done_status = status;
}

static void never_called(const char *fn, int status)
{
  ck_abort_msg("done was called (status %s) although %s returned an error", grade_err_name(status),
               fn);
}

static void on_fetched(bf_fetch_t *f, int status)
{
  (void) f;
  record_done(status);
}

static void never_done(bf_fetch_t *f, int status)
{
  (void) f;
  never_called("bf_fetch_all()", status);
}

static void fetch(const long *items, size_t n, long limit, bf_result_t *results)
{
  static bf_fetch_t f;

  EXPECT_ERR("bf_fetch_all()", 0,
             bf_fetch_all(grade_loop(), &f, items, n, limit, fake_start, results, on_fetched));
}

static void items_upto(long *items, size_t n)
{
  for (size_t i = 0; i < n; i++)
    items[i] = (long) i;
}

/* fetch_all over the items 0 .. n-1 (n <= 64), completed in a scrambled order. */
static void fetch_scrambled(size_t n, long limit, bf_result_t *results, int (*status_of)(long item))
{
  long items[64];

  items_upto(items, n);
  fakes_start(0);
  fetch(items, n, limit, results);
  drive(limit, (long) n, pick_scrambled, status_of);
  EXPECT_EQ("done calls", 1, done_calls);
}

/* ---- the stream's source ------------------------------------------------------ */

static long source_next;
static long source_total;
static int source_error; /* returned instead of UV_EOF when set */
static long each_calls;
static long each_sum;

static int next_item(bf_stream_t *s, long *item)
{
  (void) s;
  if (source_next == source_total)
    return source_error != 0 ? source_error : UV_EOF;
  ap_gauge_inc(&alive);
  *item = source_next++;
  return 0;
}

static void on_each(bf_stream_t *s, long item, int status, long value)
{
  (void) s, (void) item, (void) status;
  each_calls++;
  each_sum += value;
}

static void on_streamed(bf_stream_t *s, int status)
{
  (void) s;
  record_done(status);
}

static void never_streamed(bf_stream_t *s, int status)
{
  (void) s;
  never_called("bf_stream_start()", status);
}

/* ---- the semaphore -------------------------------------------------------------- */

/* Needs only init, acquire and grant: the first semaphore test a student can pass. */
GRADE_TEST(sem_grants_free_permits_on_a_later_turn, .points = 1, .clauses = "sem.2 sem.6",
           .section = "03-bounded-fan-out#later-turns",
           .hint = "bf_sem_acquire takes a free permit (grant marks the waiter and delivers its "
                   "callback with ap_soon) or queues the waiter; it never calls back itself.")
{
  sem_start(2);
  acquire(0);
  acquire(1);
  acquire(2);
  EXPECT_EQ("callbacks run inside bf_sem_acquire()", 0, sem_calls);
  grade_run();
  EXPECT_STREQ("grants after the loop ran (limit 2, three waiters)", "grant:0 grant:1",
               grade_trace_str(""));
  EXPECT_EQ("permits free", 0, sem.available);
  EXPECT_EQ("waiters queued (waiter 2)", 1, sem.waiting);
}

GRADE_TEST(sem_callbacks_run_on_a_later_turn, .points = 2, .clauses = "sem.6 sem.7",
           .section = "03-bounded-fan-out#later-turns",
           .hint = "acquire, release and cancel only move waiters and permits; every callback "
                   "goes through ap_soon(), even a permit that was free at once.")
{
  sem_start(1);
  acquire(0);
  EXPECT_EQ("callbacks run inside bf_sem_acquire() (a permit was free)", 0, sem_calls);
  grade_run();
  EXPECT_STREQ("callbacks after the loop ran", "grant:0", grade_trace_str(""));
  acquire(1);
  release(0);
  EXPECT_EQ("callbacks run inside bf_sem_release() (handing off to waiter 1)", 1, sem_calls);
  grade_run();
  acquire(2);
  EXPECT_ERR("bf_sem_cancel(waiter 2), queued", 0, bf_sem_cancel(&waiters[2]));
  EXPECT_EQ("callbacks run inside bf_sem_cancel()", 2, sem_calls);
  grade_run();
  EXPECT_STREQ("callbacks", "grant:0 grant:1 cancelled:2", grade_trace_str(""));
  release(1);
}

GRADE_TEST(sem_grants_in_fifo_order, .points = 2, .clauses = "sem.4",
           .section = "03-bounded-fan-out#fairness-and-handoff",
           .hint = "Queue waiters at the tail and grant from the head: permits go out in the "
                   "order acquire was called.")
{
  sem_start(2);
  for (int i = 0; i < 6; i++)
    acquire(i);
  grade_run();
  release(1);
  release(0);
  grade_run();
  release(3);
  release(2);
  grade_run();
  release(5);
  release(4);
  grade_run();
  EXPECT_STREQ("grant order (limit 2, waiters 0..5 acquired in order)",
               "grant:0 grant:1 grant:2 grant:3 grant:4 grant:5", grade_trace_str(""));
  EXPECT_EQ("permits free at the end", 2, sem.available);
}

/* $begin test-no-barging */
GRADE_TEST(sem_release_hands_off_without_barging, .points = 3, .clauses = "sem.5",
           .section = "03-bounded-fan-out#fairness-and-handoff",
           .hint = "When someone waits, release must give the permit to the first waiter "
                   "directly, not back to the pool: an acquire made right after the release "
                   "must queue behind that waiter.")
{
  sem_start(1);
  acquire(0);
  grade_run();
  acquire(1);
  release(0);
  acquire(2); /* arrives after the release, before waiter 1 heard of its grant */
  grade_run();
  EXPECT_STREQ("grants after waiter 0 released and waiter 2 arrived", "grant:0 grant:1",
               grade_trace_str(""));
  EXPECT_EQ("waiters still queued (waiter 2)", 1, sem.waiting);
  release(1);
  grade_run();
  release(2);
  EXPECT_STREQ("grants", "grant:0 grant:1 grant:2", grade_trace_str(""));
  EXPECT_EQ("permits free at the end (limit 1)", 1, sem.available);
}
/* $end test-no-barging */

GRADE_TEST(sem_cancel_of_a_queued_waiter, .points = 2, .clauses = "sem.7 sem.8 sem.11",
           .section = "03-bounded-fan-out#cancellation",
           .hint = "Cancel unlinks a queued waiter and delivers UV_ECANCELED on a later turn; "
                   "a waiter that owns a permit cannot be cancelled (UV_EBUSY): it releases.")
{
  sem_start(1);
  acquire(0);
  grade_run();
  acquire(1);
  acquire(2);
  EXPECT_ERR("bf_sem_cancel(waiter 1), queued", 0, bf_sem_cancel(&waiters[1]));
  EXPECT_EQ("waiters queued after the cancel", 1, sem.waiting);
  EXPECT_ERR("bf_sem_cancel(waiter 1) again", UV_EINVAL, bf_sem_cancel(&waiters[1]));
  EXPECT_ERR("bf_sem_cancel(waiter 0), which holds the permit", UV_EBUSY,
             bf_sem_cancel(&waiters[0]));
  grade_run();
  release(0);
  grade_run();
  EXPECT_STREQ("callbacks", "grant:0 cancelled:1 grant:2", grade_trace_str(""));
  acquire(1); /* a cancelled waiter can queue again */
  release(2);
  grade_run();
  release(1);
  EXPECT_STREQ("callbacks", "grant:0 cancelled:1 grant:2 grant:1", grade_trace_str(""));
  EXPECT_EQ("permits free at the end (limit 1)", 1, sem.available);
}

/* The state a waiter must be in, by the name the header gives it. */
static void expect_state(int i, int expected, const char *when)
{
  static const char *const names[] = {"BF_IDLE", "BF_QUEUED", "BF_GRANTED", "BF_HELD",
                                      "BF_CANCELLED"};
  int state = waiters[i].state;

  EXPECT(state == expected, "waiter %d %s: state %s, expected %s", i, when,
         state >= 0 && state <= BF_CANCELLED ? names[state] : "(not a BF_ state)", names[expected]);
}

static void expect_cancel(int i, int expected, const char *when)
{
  int calls = sem_calls;
  int err = bf_sem_cancel(&waiters[i]);

  EXPECT(err == expected, "bf_sem_cancel(waiter %d) %s: expected %s, got %s", i, when,
         grade_err_name(expected), grade_err_name(err));
  EXPECT(sem_calls == calls, "bf_sem_cancel(waiter %d) %s called a waiter back inside the call", i,
         when);
}

GRADE_TEST(sem_cancel_answers_in_every_state, .points = 2, .clauses = "sem.7 sem.8",
           .section = "03-bounded-fan-out#cancellation",
           .hint = "Only a queued waiter can be cancelled (0, UV_ECANCELED later). One that owns "
                   "a permit is UV_EBUSY, even before its grant is delivered, and its grant still "
                   "comes; one that is not queued (never acquired, released, already cancelled) "
                   "is UV_EINVAL, and nothing changes: no second callback.")
{
  sem_start(1);
  expect_cancel(0, UV_EINVAL, "never acquired");
  acquire(0);
  expect_state(0, BF_GRANTED, "granted, its callback not yet run");
  expect_cancel(0, UV_EBUSY, "granted, its callback not yet run");
  grade_run();
  expect_state(0, BF_HELD, "after its grant was delivered");
  expect_cancel(0, UV_EBUSY, "holding the permit");
  acquire(1);
  acquire(2);
  acquire(3);
  expect_cancel(2, 0, "queued, second in line");
  expect_state(2, BF_CANCELLED, "cancelled, its callback not yet run");
  expect_cancel(2, UV_EINVAL, "cancelled a second time, before its callback ran");
  release(0); /* waiter 1 is granted */
  expect_cancel(1, UV_EBUSY, "granted by a release, its callback not yet run");
  grade_run();
  EXPECT_STREQ("callbacks (waiter 2 cancelled once, waiter 1 granted despite the cancel)",
               "grant:0 cancelled:2 grant:1", grade_trace_str(""));
  expect_state(2, BF_IDLE, "after its UV_ECANCELED was delivered");
  expect_cancel(2, UV_EINVAL, "cancelled, its callback run");
  expect_cancel(0, UV_EINVAL, "released");
  expect_cancel(3, 0, "queued, first in line");
  EXPECT_EQ("permits free after waiter 3 left the line (waiter 1 holds the only one)", 0,
            sem.available);
  EXPECT_EQ("waiters queued", 0, sem.waiting);
  grade_run();
  EXPECT_STREQ("callbacks", "grant:0 cancelled:2 grant:1 cancelled:3", grade_trace_str(""));
  release(1);
  EXPECT_EQ("permits free at the end (limit 1)", 1, sem.available);
}

GRADE_TEST(sem_cancel_keeps_the_rest_of_the_line, .points = 2, .clauses = "sem.4 sem.7",
           .section = "03-bounded-fan-out#cancellation",
           .hint = "Cancel must unlink a waiter from anywhere in the line (first, middle, last) "
                   "and leave the others linked in order: fix the neighbours' links, and the "
                   "head and the tail when it was first or last.")
{
  sem_start(1);
  acquire(0);
  grade_run();
  for (int i = 1; i <= 6; i++)
    acquire(i);
  expect_cancel(3, 0, "queued, in the middle of the line");
  expect_cancel(6, 0, "queued, last in line");
  expect_cancel(1, 0, "queued, first in line");
  EXPECT_EQ("waiters queued after three cancels (2, 4, 5)", 3, sem.waiting);
  acquire(7); /* joins the tail: after 5, where 6 was */
  grade_run();
  acquire(1); /* cancelled, its callback run: it queues again, at the tail */
  release(0);
  grade_run();
  release(2);
  grade_run();
  release(4);
  grade_run();
  release(5);
  grade_run();
  release(7);
  grade_run();
  release(1);
  grade_run();
  EXPECT_STREQ("grants in order (waiters 1, 3, 6 cancelled; 7 and then 1 queued after)",
               "grant:0 grant:2 grant:4 grant:5 grant:7 grant:1", grade_trace_str("grant"));
  EXPECT_EQ("permits free at the end (limit 1)", 1, sem.available);
  EXPECT_EQ("waiters queued at the end", 0, sem.waiting);
}

/* Owners: waiters granted a permit (delivered or not) and not released. */
static int owners(void)
{
  int n = 0;

  for (size_t i = 0; i < AP_COUNT_OF(waiters); i++)
    n += waiters[i].state == BF_GRANTED || waiters[i].state == BF_HELD;
  return n;
}

static int grants_delivered(void)
{
  return (int) ap_trace_count(grade_trace(), "grant");
}

static int releases;

static void release_counted(int i)
{
  release(i);
  releases++;
}

/* After every step: exactly min(limit, owners + queued) own a permit. */
static void expect_owners(long limit, int queued, const char *after)
{
  int want = (int) (limit < owners() + queued ? limit : owners() + queued);

  grade_run();
  EXPECT(grants_delivered() - releases == want,
         "after %s: %d waiters held a permit (limit %ld, %d wanting one); expected exactly %d, "
         "never more than the limit, never fewer while someone waits",
         after, grants_delivered() - releases, limit, owners() + queued, want);
  EXPECT(sem.available == limit - want, "after %s: sem.available is %ld, expected %ld", after,
         sem.available, limit - want);
}

GRADE_TEST(sem_owners_reach_the_limit_exactly, .points = 2, .clauses = "sem.3",
           .section = "03-bounded-fan-out#the-semaphore",
           .hint = "At every quiet point exactly min(limit, waiters wanting a permit) hold one. "
                   "A cancel hands out no permit and takes none back; a release with someone "
                   "queued gives its permit on, it never adds one to the pool as well.")
{
  sem_start(3);
  for (int i = 0; i < 5; i++)
    acquire(i);
  expect_owners(3, 2, "five acquires");
  expect_cancel(4, 0, "queued, last in line");
  expect_owners(3, 1, "a cancel of a queued waiter");
  release_counted(0);
  expect_owners(3, 0, "a release with waiter 3 queued");
  release_counted(1);
  expect_owners(3, 0, "a release with nobody queued");
  acquire(5);
  acquire(6);
  acquire(7);
  expect_cancel(6, 0, "queued, first in line, waiter 7 behind it");
  expect_owners(3, 1, "two acquires with one permit free, then a cancel");
  release_counted(2);
  release_counted(3);
  expect_owners(3, 0, "two releases");
  EXPECT_EQ("waiters queued", 0, sem.waiting);
  release_counted(5);
  release_counted(7);
  expect_owners(3, 0, "the last releases");
  EXPECT_EQ("permits free at the end (limit 3)", 3, sem.available);
}

static void expect_acquire(int i, int expected, const char *when)
{
  int calls = sem_calls;
  long waiting = sem.waiting, available = sem.available;
  int err = bf_sem_acquire(&sem, &waiters[i], on_sem);

  EXPECT(err == expected, "bf_sem_acquire(waiter %d) %s: expected %s, got %s", i, when,
         grade_err_name(expected), grade_err_name(err));
  EXPECT(sem.waiting == waiting && sem.available == available && sem_calls == calls,
         "the refused bf_sem_acquire(waiter %d) %s changed the semaphore (waiting %ld -> %ld, "
         "available %ld -> %ld) or called back",
         i, when, waiting, sem.waiting, available, sem.available);
}

static void expect_release(int i, int expected, const char *when)
{
  int calls = sem_calls;
  long waiting = sem.waiting, available = sem.available;
  int err = bf_sem_release(&waiters[i]);

  EXPECT(err == expected, "bf_sem_release(waiter %d) %s: expected %s, got %s", i, when,
         grade_err_name(expected), grade_err_name(err));
  EXPECT(sem.waiting == waiting && sem.available == available && sem_calls == calls,
         "the refused bf_sem_release(waiter %d) %s changed the semaphore (waiting %ld -> %ld, "
         "available %ld -> %ld) or called back",
         i, when, waiting, sem.waiting, available, sem.available);
}

GRADE_TEST(sem_refuses_a_waiter_in_the_wrong_state, .points = 2, .clauses = "sem.9 sem.10",
           .section = "03-bounded-fan-out#misuse",
           .hint = "Decide by the waiter's state before changing anything: acquire is UV_EBUSY "
                   "unless the waiter is idle (queued, granted, holding or cancelled with its "
                   "callback pending all count as in use); release is UV_EINVAL unless its grant "
                   "was delivered and not yet released.")
{
  sem_start(1);
  acquire(0);
  expect_acquire(0, UV_EBUSY, "granted, its callback not yet run");
  expect_release(0, UV_EINVAL, "granted, its callback not yet run");
  grade_run();
  expect_acquire(0, UV_EBUSY, "holding its permit");
  acquire(1);
  acquire(2);
  expect_acquire(1, UV_EBUSY, "queued");
  expect_release(1, UV_EINVAL, "queued");
  EXPECT_ERR("bf_sem_cancel(waiter 2), queued", 0, bf_sem_cancel(&waiters[2]));
  expect_acquire(2, UV_EBUSY, "cancelled, its callback not yet run");
  expect_release(2, UV_EINVAL, "cancelled, its callback not yet run");
  grade_run();
  expect_release(2, UV_EINVAL, "cancelled, its callback run");
  release(0);
  expect_release(0, UV_EINVAL, "already released");
  grade_run();
  EXPECT_STREQ("callbacks", "grant:0 cancelled:2 grant:1", grade_trace_str(""));
  release(1);
  EXPECT_EQ("permits free at the end (limit 1)", 1, sem.available);
}

/* Reuse from inside the callback: a grant releases and acquires again (up
 * to 3 grants per waiter); a cancelled waiter acquires again. */
static int rounds[8];

static void on_sem_again(bf_waiter_t *w, int status)
{
  int i = (int) (w - waiters);
  int err;

  on_sem(w, status);
  if (status == 0) {
    err = bf_sem_release(w);
    EXPECT(err == 0, "bf_sem_release(waiter %d) inside its own grant callback: expected 0, got %s",
           i, grade_err_name(err));
    if (++rounds[i] == 3)
      return;
  }
  err = bf_sem_acquire(&sem, w, on_sem_again);
  EXPECT(err == 0, "bf_sem_acquire(waiter %d) again inside its own %s callback: expected 0, got %s",
         i, status == 0 ? "grant" : "UV_ECANCELED", grade_err_name(err));
}

static void free_waiter(bf_waiter_t *w, int status)
{
  ap_trace_add(grade_trace(), status == 0 ? "freed-grant" : "freed-cancel", 9, status);
  if (status == 0)
    bf_sem_release(w);
  memset(w, 0x5a, sizeof(*w));
  free(w);
}

GRADE_TEST(sem_waiters_reused_or_freed_from_their_callbacks, .points = 2, .clauses = "sem.2 sem.11",
           .section = "03-bounded-fan-out#the-semaphore",
           .hint = "Finish with a waiter (its state, the queue) before you call it back: its "
                   "callback may release and acquire again with the same waiter, or free it. "
                   "Nothing may touch the waiter after its callback returned.")
{
  bf_waiter_t *heap[2];

  sem_start(2);
  for (int i = 0; i < 3; i++)
    EXPECT_ERR("bf_sem_acquire()", 0, bf_sem_acquire(&sem, &waiters[i], on_sem_again));
  EXPECT_ERR("bf_sem_acquire() of waiter 3", 0, bf_sem_acquire(&sem, &waiters[3], on_sem_again));
  EXPECT_ERR("bf_sem_cancel(waiter 3)", 0, bf_sem_cancel(&waiters[3]));
  grade_run();
  EXPECT_STREQ("grants (limit 2; each waiter releases and acquires again in its callback, 3 "
               "times; waiter 3 acquires again after its cancel)",
               "grant:0 grant:1 cancelled:3 grant:2 grant:0 grant:1 grant:3 grant:2 grant:0 "
               "grant:1 grant:3 grant:2 grant:3",
               grade_trace_str(""));
  EXPECT_EQ("permits free at the end (limit 2)", 2, sem.available);
  for (int k = 0; k < 2; k++) {
    heap[k] = calloc(1, sizeof(bf_waiter_t));
    EXPECT(heap[k] != NULL, "out of memory in the test");
    EXPECT_ERR("bf_sem_acquire() of a waiter on the heap", 0,
               bf_sem_acquire(&sem, heap[k], free_waiter));
  }
  acquire(4);
  acquire(5);
  EXPECT_ERR("bf_sem_cancel() of the queued waiter 5", 0, bf_sem_cancel(&waiters[5]));
  grade_run(); /* both heap waiters freed by their callbacks: 4 then gets a permit */
  EXPECT_STREQ("callbacks of the heap waiters (each released and freed in its grant)",
               "freed-grant:9 freed-grant:9", grade_trace_str("freed"));
  EXPECT(ap_trace_find(grade_trace(), "cancelled", 5, 0) >= 0 &&
             ap_trace_find(grade_trace(), "grant", 4, 0) >= 0,
         "expected waiter 5 cancelled and waiter 4 granted after the heap waiters; callbacks "
         "were: %s",
         grade_trace_str(""));
  release(4);
  EXPECT_EQ("permits free at the end (limit 2)", 2, sem.available);
}

GRADE_TEST(misuse_gets_clear_errors, .points = 2, .clauses = "sem.1 sem.9 sem.10 fan.1",
           .section = "03-bounded-fan-out#misuse",
           .hint = "Check before changing anything: a limit below 1 and a NULL callback are "
                   "UV_EINVAL; releasing a waiter that holds no permit is UV_EINVAL; "
                   "acquiring with a waiter already in use is UV_EBUSY.")
{
  static bf_stream_t s;
  static bf_fetch_t f;
  long items[2] = {0, 1};
  bf_result_t results[2];

  EXPECT_ERR("bf_sem_init() with limit 0", UV_EINVAL, bf_sem_init(grade_loop(), &sem, 0));
  EXPECT_ERR("bf_sem_init() with limit -3", UV_EINVAL, bf_sem_init(grade_loop(), &sem, -3));
  sem_start(1);
  EXPECT_ERR("bf_sem_release() of a waiter that never acquired", UV_EINVAL,
             bf_sem_release(&waiters[0]));
  EXPECT_ERR("bf_sem_acquire() without a callback", UV_EINVAL,
             bf_sem_acquire(&sem, &waiters[0], NULL));
  acquire(0);
  EXPECT_ERR("bf_sem_acquire() with a waiter already in use", UV_EBUSY,
             bf_sem_acquire(&sem, &waiters[0], on_sem));
  acquire(1);
  EXPECT_ERR("bf_sem_release() of a waiter still queued", UV_EINVAL, bf_sem_release(&waiters[1]));
  EXPECT_ERR("bf_sem_cancel() of a waiter never queued", UV_EINVAL, bf_sem_cancel(&waiters[2]));
  grade_run();
  release(0);
  EXPECT_ERR("bf_sem_release() twice", UV_EINVAL, bf_sem_release(&waiters[0]));
  grade_run();
  release(1);
  EXPECT_EQ("permits free at the end (limit 1)", 1, sem.available);
  EXPECT_ERR("bf_fetch_all() with limit 0", UV_EINVAL,
             bf_fetch_all(grade_loop(), &f, items, 2, 0, fake_start, results, never_done));
  EXPECT_ERR("bf_stream_start() with limit 0", UV_EINVAL,
             bf_stream_start(grade_loop(), &s, 0, next_item, fake_start, NULL, never_streamed));
  grade_run();
  EXPECT_EQ("operations started by the failed calls", 0, nrunning);
}

GRADE_TEST(sem_init_sets_every_field_over_garbage, .points = 1, .clauses = "sem.1 sem.3",
           .section = "03-bounded-fan-out#the-semaphore",
           .hint = "bf_sem_init must set every field itself (the permits, waiting, the line's head "
                   "and tail), whatever the struct held: the caller may hand over garbage.")
{
  memset(&sem, 0xa5, sizeof(sem));
  sem_start(1);
  EXPECT_EQ("sem.available after bf_sem_init (limit 1)", 1, sem.available);
  EXPECT_EQ("sem.waiting after bf_sem_init", 0, sem.waiting);
  acquire(0);
  acquire(1);
  EXPECT_EQ("sem.waiting with waiter 1 queued", 1, sem.waiting);
  grade_run();
  release(0);
  grade_run();
  EXPECT_STREQ("grants", "grant:0 grant:1", grade_trace_str("grant"));
  release(1);
  EXPECT_EQ("sem.available at the end (limit 1)", 1, sem.available);
  EXPECT_EQ("sem.waiting at the end", 0, sem.waiting);
}

/* ---- fetch_all -------------------------------------------------------------------- */

GRADE_TEST(fetch_in_flight_equals_the_limit, .points = 3, .clauses = "fan.2",
           .section = "03-bounded-fan-out#fetch-all",
           .hint = "fetch_all runs on the stream's slots: a slot holds one permit and runs one "
                   "item at a time, and a new slot is made only for a permit no slot holds. "
                   "Check stream_reserve, stream_take and fetch_next.")
{
  enum { N = 20, LIMIT = 3 };
  bf_result_t results[N];

  fetch_scrambled(N, LIMIT, results, all_succeed);
  EXPECT_EQ("peak in flight", LIMIT, inflight.peak);
  EXPECT_EQ("operations started", N, inflight.starts);
}

GRADE_TEST(fetch_limit_one_runs_in_sequence, .points = 2, .clauses = "fan.2 fan.4",
           .section = "03-bounded-fan-out#fetch-all",
           .hint = "With limit 1 there is one slot: it takes items[0], items[1], ... in input "
                   "order (fetch_next), each only after the one before ended.")
{
  long items[5] = {4, 2, 0, 3, 1};
  bf_result_t results[5];

  fakes_start(1);
  fetch(items, 5, 1, results);
  drive(1, 5, pick_oldest, all_succeed);
  EXPECT_STREQ("operations",
               "start:4 done:4 start:2 done:2 start:0 done:0 start:3 done:3 "
               "start:1 done:1",
               grade_trace_str(""));
}

GRADE_TEST(fetch_limit_of_n_or_more_runs_all_at_once, .points = 1, .clauses = "fan.2 fan.12",
           .section = "03-bounded-fan-out#fetch-all",
           .hint = "A limit of n or more must not hold anything back: every item starts at once.")
{
  static const long limits[] = {6, 100};
  long items[6];
  bf_result_t results[6];

  items_upto(items, 6);
  fakes_start(0);
  for (size_t i = 0; i < AP_COUNT_OF(limits); i++) {
    inflight.peak = 0;
    fetch(items, 6, limits[i], results);
    grade_run();
    EXPECT(nrunning == 6, "limit %ld: %zu of 6 operations started at once, expected all 6",
           limits[i], nrunning);
    drive(limits[i], 6, pick_newest, all_succeed);
    EXPECT_EQ("done calls", (long) i + 1, done_calls);
  }
}

GRADE_TEST(fetch_results_follow_input_order, .points = 2, .clauses = "fan.10",
           .section = "03-bounded-fan-out#fetch-all",
           .hint = "Store each outcome at op->index, the item's place in the list (fetch_store), "
                   "not in completion order.")
{
  long items[8] = {5, 3, 7, 0, 6, 1, 4, 2};
  bf_result_t results[8];

  fakes_start(0);
  fetch(items, 8, 3, results);
  drive(3, 8, pick_newest, all_succeed); /* newest first: far from input order */
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_ERR("done's status", 0, done_status);
  for (size_t i = 0; i < 8; i++)
    EXPECT(results[i].status == 0 && results[i].value == items[i] * 10,
           "results[%zu] (item %ld): expected status 0 and value %ld, got %s and %ld", i, items[i],
           items[i] * 10, grade_err_name(results[i].status), results[i].value);
}

static int some_fail(long item)
{
  if (item % 3 != 1)
    return 0;
  return item == 1 ? UV_ECONNREFUSED : UV_ETIMEDOUT;
}

GRADE_TEST(fetch_failed_items_cost_no_permit, .points = 3, .clauses = "fan.5", .timeout = 2,
           .section = "03-bounded-fan-out#fetch-all",
           .hint = "After items failed, fewer operations ran than the limit allows: a failed item "
                   "must not cost its slot the permit (the finally of async with). The slot goes "
                   "on to the next item whatever the status, or each failure shrinks the limit "
                   "for good.")
{
  enum { N = 10, LIMIT = 2 };
  bf_result_t results[N];

  fetch_scrambled(N, LIMIT, results, some_fail);
}

/* Each run: items 0 .. n-1; fails[k] is item k's status; order[] the order
 * in which the test ends them (one at a time, the loop run after each). */
static void fetch_in_order(size_t n, long limit, const int *fails, const long *order,
                           bf_result_t *results)
{
  long items[16];

  items_upto(items, n);
  fetch(items, n, limit, results);
  grade_run();
  for (size_t step = 0; step < n; step++) {
    size_t k = 0;

    while (k < nrunning && running[k] != order[step])
      k++;
    EXPECT(k < nrunning, "item %ld should be running (limit %ld over %zu items) and is not",
           order[step], limit, n);
    end_running(k, fails[order[step]]);
    grade_run();
  }
}

GRADE_TEST(fetch_reports_the_first_failure_in_input_order, .points = 2, .clauses = "fan.10",
           .section = "03-bounded-fan-out#fetch-all",
           .hint = "done's status is the status of the first item in input order that failed, "
                   "whenever it ended: not the first failure to end, not the last; 0 when none "
                   "failed. Keep the lowest failing index (fetch_store).")
{
  /* Failures first, in the middle, last in input order; the first to end
   * is never the first in input order when two fail. */
  static const struct {
    int fails[6];
    long order[6];
    int expected;
    const char *what;
  } runs[] = {
      {{UV_EIO, 0, 0, 0, 0, 0}, {1, 2, 3, 0, 4, 5}, UV_EIO, "only item 0 fails, fourth to end"},
      {{0, 0, 0, 0, 0, UV_EIO}, {0, 1, 2, 3, 4, 5}, UV_EIO, "only item 5, the last, fails"},
      {{0, 0, UV_EPIPE, 0, UV_EIO, 0},
       {1, 4, 0, 3, 2, 5},
       UV_EPIPE,
       "items 2 (UV_EPIPE) and 4 (UV_EIO) fail, item 4 first"},
      {{UV_ENOENT, 0, 0, 0, 0, UV_EIO},
       {1, 2, 3, 4, 5, 0},
       UV_ENOENT,
       "items 0 (UV_ENOENT) and 5 (UV_EIO) fail, item 0 last of all"},
  };
  bf_result_t results[6];

  fakes_start(0);
  for (size_t r = 0; r < AP_COUNT_OF(runs); r++) {
    done_calls = 0;
    fetch_in_order(6, 6, runs[r].fails, runs[r].order, results);
    EXPECT(done_calls == 1, "%s: done ran %d times, expected once", runs[r].what, done_calls);
    EXPECT(done_status == runs[r].expected, "%s: done's status was %s, expected %s", runs[r].what,
           grade_err_name(done_status), grade_err_name(runs[r].expected));
    for (size_t k = 0; k < 6; k++)
      EXPECT(results[k].status == runs[r].fails[k], "%s: results[%zu].status was %s, expected %s",
             runs[r].what, k, grade_err_name(results[k].status), grade_err_name(runs[r].fails[k]));
  }
}

GRADE_TEST(fan_outs_refuse_bad_arguments, .points = 1, .clauses = "fan.1",
           .section = "03-bounded-fan-out#misuse",
           .hint = "Check every argument fanout.h lists before taking, allocating or starting "
                   "anything: a limit below 1, a NULL next, start or done, and for fetch_all "
                   "items or results NULL when n > 0 (NULL is fine when n is 0).")
{
  static bf_stream_t s;
  static bf_fetch_t f;
  long items[2] = {0, 1};
  bf_result_t results[2];
  uv_loop_t *loop = grade_loop();

  source_total = 2;
  fakes_start(0);
  EXPECT_ERR("bf_stream_start() with limit -1", UV_EINVAL,
             bf_stream_start(loop, &s, -1, next_item, fake_start, on_each, never_streamed));
  EXPECT_ERR("bf_stream_start() without next", UV_EINVAL,
             bf_stream_start(loop, &s, 2, NULL, fake_start, on_each, never_streamed));
  EXPECT_ERR("bf_stream_start() without start", UV_EINVAL,
             bf_stream_start(loop, &s, 2, next_item, NULL, on_each, never_streamed));
  EXPECT_ERR("bf_stream_start() without done", UV_EINVAL,
             bf_stream_start(loop, &s, 2, next_item, fake_start, on_each, NULL));
  EXPECT_ERR("bf_fetch_all() with limit -1", UV_EINVAL,
             bf_fetch_all(loop, &f, items, 2, -1, fake_start, results, never_done));
  EXPECT_ERR("bf_fetch_all() without start", UV_EINVAL,
             bf_fetch_all(loop, &f, items, 2, 2, NULL, results, never_done));
  EXPECT_ERR("bf_fetch_all() without done", UV_EINVAL,
             bf_fetch_all(loop, &f, items, 2, 2, fake_start, results, NULL));
  EXPECT_ERR("bf_fetch_all() with n = 2 and items NULL", UV_EINVAL,
             bf_fetch_all(loop, &f, NULL, 2, 2, fake_start, results, never_done));
  EXPECT_ERR("bf_fetch_all() with n = 2 and results NULL", UV_EINVAL,
             bf_fetch_all(loop, &f, items, 2, 2, fake_start, NULL, never_done));
  grade_run();
  EXPECT_EQ("items the refused calls took from the source", 0, source_next);
  EXPECT_EQ("operations the refused calls started", 0, inflight.starts);
  EXPECT_ERR("bf_stream_start() without each (each may be NULL)", 0,
             bf_stream_start(loop, &s, 2, next_item, fake_start, NULL, on_streamed));
  EXPECT_ERR("bf_fetch_all() with n = 0, items and results NULL", 0,
             bf_fetch_all(loop, &f, NULL, 0, 2, fake_start, NULL, on_fetched));
  drive(2, 2, pick_oldest, all_succeed);
  EXPECT_EQ("done calls (both fan-outs)", 2, done_calls);
}

static void on_each_traced(bf_stream_t *s, long item, int status, long value)
{
  EXPECT(value == item * 10, "each got item %ld with value %ld, expected %ld", item, value,
         item * 10);
  ap_trace_add(grade_trace(), "each", item, status);
  on_each(s, item, status, value);
}

static bf_stream_t counted;

static void on_streamed_traced(bf_stream_t *s, int status)
{
  ap_trace_add(grade_trace(), "all-done", 0, status);
  on_streamed(s, status);
}

static void index_start(bf_op_t *op)
{
  EXPECT(op->index == op->item,
         "op->index is %ld for the item taken in place %ld: expected 0, 1, 2, ... in the "
         "order taken",
         op->index, op->item);
  fake_start(op);
}

GRADE_TEST(stream_reports_each_item_as_it_ends_and_done_last, .points = 2,
           .clauses = "fan.4 fan.7 fan.8", .section = "03-bounded-fan-out#limiting-creation",
           .hint = "each runs once per item, from that item's bf_op_done, so in the order items "
                   "end; done only after the last one. Number the items 0, 1, 2, ... as they are "
                   "taken (op->index), and keep started and finished counting.")
{
  enum { N = 9, LIMIT = 3 };
  static const long order[N] = {2, 0, 4, 1, 3, 7, 8, 5, 6};

  source_total = N;
  fakes_start(0);
  EXPECT_ERR("bf_stream_start()", 0,
             bf_stream_start(grade_loop(), &counted, LIMIT, next_item, index_start, on_each_traced,
                             on_streamed_traced));
  grade_run();
  for (size_t step = 0; step < N; step++) {
    size_t k = 0;

    while (k < nrunning && running[k] != order[step])
      k++;
    EXPECT(k < nrunning, "item %ld should be running now and is not", order[step]);
    EXPECT(counted.started == (long) (step + nrunning) && counted.finished == (long) step,
           "after %zu items ended with %zu running: started %ld and finished %ld, expected %zu "
           "and %zu",
           step, nrunning, counted.started, counted.finished, step + nrunning, step);
    end_running(k, order[step] == 4 ? UV_EIO : 0);
    grade_run();
  }
  EXPECT_STREQ("each and done, in the order the items ended",
               "each:2 each:0 each:4 each:1 each:3 each:7 each:8 each:5 each:6 all-done:0",
               grade_trace_str(""));
  EXPECT_ERR("done's status (item 4 failed)", UV_EIO, done_status);
}

GRADE_TEST(stream_reports_the_first_error_to_happen, .points = 1, .clauses = "fan.9",
           .section = "03-bounded-fan-out#limiting-creation",
           .hint = "The stream's done gets the first error seen in time: keep the first one, "
                   "never overwrite it with a later failure (of an operation with a lower index, "
                   "or of the source).")
{
  static bf_stream_t s;

  source_total = 4;
  source_error = UV_EPROTO; /* the source fails after 4 items */
  fakes_start(0);
  EXPECT_ERR("bf_stream_start()", 0,
             bf_stream_start(grade_loop(), &s, 4, next_item, fake_start, NULL, on_streamed));
  grade_run();
  EXPECT_EQ("operations running (limit 4, 4 items)", 4, nrunning);
  end_running(3, UV_ETIMEDOUT); /* item 3 fails first */
  grade_run();
  end_running(0, UV_EIO); /* then item 0 */
  grade_run();
  while (nrunning > 0) {
    end_running(0, 0);
    grade_run();
  }
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_ERR("done's status (item 3 failed first, the source right after it, item 0 later)",
             UV_ETIMEDOUT, done_status);
}

static int instant_depth; /* > 0 while start runs */

static long mixed_starts;

static void mixed_start(bf_op_t *op)
{
  mixed_starts++;
  EXPECT(instant_depth == 0,
         "item %ld started inside the start of an item that ended inside its start", op->item);
  if (op->item % 3 == 0) {
    instant_depth++;
    bf_op_done(op, op->item == 3 ? UV_ENOENT : 0, op->item * 10);
    instant_depth--;
    return;
  }
  fake_start(op);
}

GRADE_TEST(fetch_mixes_instant_and_later_operations, .points = 2,
           .clauses = "fan.2 fan.3 fan.6 fan.10", .section = "03-bounded-fan-out#later-turns",
           .hint = "Nothing starts inside bf_fetch_all. An item that ends inside start must not "
                   "start the next one inside that start (hand the step off), yet its slot goes "
                   "on and the limit stays full; every outcome lands at its input index "
                   "whichever way it ended.")
{
  enum { N = 12, LIMIT = 3 };
  long items[N];
  bf_result_t results[N];
  static bf_fetch_t f;

  items_upto(items, N);
  fakes_start(0);
  EXPECT_ERR("bf_fetch_all()", 0,
             bf_fetch_all(grade_loop(), &f, items, N, LIMIT, mixed_start, results, on_fetched));
  EXPECT_EQ("items started inside bf_fetch_all()", 0, mixed_starts);
  grade_run();
  while (nrunning > 0) {
    EXPECT(nrunning <= LIMIT, "%zu operations ran at once, limit %d", nrunning, LIMIT);
    end_running(nrunning - 1, 0);
    grade_run();
  }
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_ERR("done's status (item 3, ended inside its start, failed)", UV_ENOENT, done_status);
  for (long k = 0; k < N; k++)
    EXPECT(results[k].status == (k == 3 ? UV_ENOENT : 0) && results[k].value == k * 10,
           "results[%ld]: %s and %ld, expected %s and %ld", k, grade_err_name(results[k].status),
           results[k].value, grade_err_name(k == 3 ? UV_ENOENT : 0), k * 10);
}

/* Bytes allocated and not yet freed: ASan's count under ASan (it keeps its
 * own heap, and glibc's then says nothing), glibc's otherwise. */
static size_t heap_in_use(void)
{
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  struct mallinfo2 mi = mallinfo2();

  return mi.uordblks + mi.hblkhd;
#endif
}

static size_t heap_base;
static size_t heap_grown; /* the most bytes above heap_base seen at a start */

static void heap_start(bf_op_t *op)
{
  size_t used = heap_in_use();

  if (used > heap_base && used - heap_base > heap_grown)
    heap_grown = used - heap_base;
  fake_start(op);
}

GRADE_TEST(fetch_bounds_creation_too, .points = 2, .clauses = "fan.3",
           .section = "03-bounded-fan-out#fetch-all",
           .hint = "fetch_all must make nothing per item up front (no task, no waiter for an "
                   "item without a permit): it is the stream with the list as its source, so "
                   "it holds at most limit slots however long the list is.")
{
  enum { N = 3000, LIMIT = 4 };
  static long items[N];
  static bf_result_t results[N];
  static bf_fetch_t f;

  items_upto(items, N);
  fakes_start(0);
  heap_base = heap_in_use();
  EXPECT_ERR("bf_fetch_all()", 0,
             bf_fetch_all(grade_loop(), &f, items, N, LIMIT, heap_start, results, on_fetched));
  drive(LIMIT, N, pick_scrambled, all_succeed);
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT(heap_grown <= 4096,
         "while fetch_all ran over %d items with limit %d, the heap held up to %zu bytes more "
         "than before it began; %d slots need well under 4096: something is made per item",
         N, LIMIT, heap_grown, LIMIT);
}

/* ---- bounded creation ------------------------------------------------------------------ */

GRADE_TEST(stream_bounds_items_alive, .points = 3, .clauses = "fan.3 fan.7",
           .section = "03-bounded-fan-out#limiting-creation",
           .hint = "Take an item from the source only once you hold a permit for it, never "
                   "ahead of it (not even to see whether the source has more): at most limit "
                   "items are taken and not yet ended, whatever n is [fan.3].")
{
  enum { N = 3000, LIMIT = 4 };
  static bf_stream_t s;

  source_total = N;
  fakes_start(0);
  EXPECT_ERR("bf_stream_start()", 0,
             bf_stream_start(grade_loop(), &s, LIMIT, next_item, fake_start, on_each, on_streamed));
  EXPECT_EQ("items taken inside bf_stream_start()", 0, source_next);
  drive(LIMIT, N, pick_scrambled, all_succeed);
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_ERR("done's status", 0, done_status);
  EXPECT_EQ("each calls", N, each_calls);
  EXPECT_EQ("sum of the values each saw", 10L * N * (N - 1) / 2, each_sum);
  EXPECT(alive.peak == LIMIT,
         "%ld items were alive at once (taken from the source, not yet finished); with "
         "limit %d exactly %d should be: an item is taken only for a permit no running item "
         "holds",
         alive.peak, LIMIT, LIMIT);
  EXPECT_EQ("peak in flight", LIMIT, inflight.peak);
}

static char *stack_base;
static size_t stack_depth_max;

/* $begin test-stack-depth */
static void instant_start(bf_op_t *op)
{
  char here;
  size_t depth = (size_t) (stack_base > &here ? stack_base - &here : &here - stack_base);

  if (depth > stack_depth_max)
    stack_depth_max = depth;
  /* Stop well before the stack overflows, with a message instead of a crash. */
  if (depth > 1024 * 1024)
    ck_abort_msg("after %ld operations the stack was %zu bytes deep in start(): each "
                 "operation runs inside the callback of the one before",
                 source_next, depth);
  ap_gauge_dec(&alive);
  bf_op_done(op, 0, op->item & 1);
}
/* $end test-stack-depth */

GRADE_TEST(a_million_instant_operations_keep_the_stack_flat, .points = 3, .clauses = "fan.6",
           .section = "03-bounded-fan-out#later-turns",
           .hint = "An operation may end inside start. If what comes next runs right there (a "
                   "grant called back inside release or acquire, the stream's next item taken "
                   "inside the completion), every item nests one level deeper. Deliver grants "
                   "with ap_soon(); when the operation ended inside start, hand the stream's "
                   "next step off with ap_defer().")
{
  enum { N = 1000000, LIMIT = 8 };
  static bf_stream_t s;
  char base;

  stack_base = &base;
  source_total = N;
  EXPECT_ERR("bf_stream_start()", 0,
             bf_stream_start(grade_loop(), &s, LIMIT, next_item, instant_start, on_each,
                             on_streamed));
  grade_run();
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_EQ("operations finished", N, s.finished);
  EXPECT_EQ("sum of the values each saw", N / 2, each_sum);
  EXPECT(stack_depth_max < 64 * 1024,
         "the stack reached %zu bytes below the test body in start(): callbacks nest",
         stack_depth_max);
  EXPECT(alive.peak <= LIMIT, "%ld items were alive at once; at most %d may be", alive.peak, LIMIT);
}

GRADE_TEST(empty_and_broken_sources_finish_later, .points = 1, .clauses = "fan.8 fan.9",
           .section = "03-bounded-fan-out#limiting-creation",
           .hint = "done runs on a later turn even with nothing to do; a source error ends "
                   "the stream with that status once what runs has ended.")
{
  static bf_stream_t s;
  static bf_fetch_t f;

  EXPECT_ERR("bf_fetch_all() with n = 0", 0,
             bf_fetch_all(grade_loop(), &f, NULL, 0, 2, fake_start, NULL, on_fetched));
  EXPECT_ERR("bf_stream_start() on an empty source", 0,
             bf_stream_start(grade_loop(), &s, 2, next_item, fake_start, NULL, on_streamed));
  EXPECT_EQ("done calls inside the calls", 0, done_calls);
  grade_run();
  EXPECT_EQ("done calls after the loop ran", 2, done_calls);
  EXPECT_ERR("status of the empty stream", 0, done_status);
  source_total = 5;
  source_error = UV_EIO;
  fakes_start(0);
  EXPECT_ERR("bf_stream_start()", 0,
             bf_stream_start(grade_loop(), &s, 2, next_item, fake_start, NULL, on_streamed));
  drive(2, 5, pick_oldest, all_succeed);
  EXPECT_EQ("done calls", 3, done_calls);
  EXPECT_ERR("status of a stream whose source failed", UV_EIO, done_status);
}

/* ---- out of memory ---------------------------------------------------------------------- */

/* Out of memory, wherever the lab allocates: for after = 0, 1, 2, ... the
 * lab's allocations fail after `after` of them, until a run needs no more.
 * The call either returns UV_ENOMEM (nothing taken, started or called back)
 * or returns 0 and then, at every quiet point, either runs exactly
 * min(limit, items left) or has ended: from the first quiet point with fewer,
 * no item starts any more, and done reports UV_ENOMEM once the running ones
 * finished. Slots made up front or as the stream grows: both pass. */
typedef struct oom_run {
  long started; /* items started */
  int refused;  /* the call returned UV_ENOMEM */
  int ended;    /* the stream ran below the limit: it ended */
} oom_run_t;

static void oom_reset(void)
{
  nrunning = 0;
  done_calls = 0;
  done_status = 1;
  inflight = (ap_gauge_t){0};
  alive = (ap_gauge_t){0};
  source_next = 0;
  each_calls = 0;
  each_sum = 0;
}

static void oom_drive(long limit, long total, long after, oom_run_t *run)
{
  long finished = 0;

  grade_run();
  for (;;) {
    long want = total - finished < limit ? total - finished : limit;

    EXPECT(inflight.current <= limit,
           "allocations failing after %ld: %ld operations in flight, above the limit %ld", after,
           inflight.current, limit);
    if (!run->ended && inflight.current < want) {
      run->ended = 1;
      run->started = inflight.starts;
    }
    EXPECT(!run->ended || inflight.starts == run->started,
           "allocations failing after %ld: once fewer than %ld operations ran (%ld started), "
           "the stream went on and started more (%ld): out of memory must end it",
           after, limit, run->started, inflight.starts);
    if (nrunning == 0)
      break;
    EXPECT(done_calls == 0, "allocations failing after %ld: done ran while items still ran", after);
    end_running(nrunning - 1, 0);
    finished++;
    grade_run();
  }
  run->started = inflight.starts;
  EXPECT(done_calls == 1, "allocations failing after %ld: done ran %d times, expected once", after,
         done_calls);
  EXPECT(done_status == (run->started < total ? UV_ENOMEM : 0),
         "allocations failing after %ld: %ld of %ld items ran, and done's status was %s; "
         "expected %s",
         after, run->started, total, grade_err_name(done_status),
         grade_err_name(run->started < total ? UV_ENOMEM : 0));
}

static void oom_fetch(long after, oom_run_t *run)
{
  enum { N = 10, LIMIT = 4 };
  static bf_fetch_t f;
  long items[N];
  bf_result_t results[N];
  int err;

  items_upto(items, N);
  for (long k = 0; k < N; k++)
    results[k] = (bf_result_t){.status = 1, .value = -1}; /* never written */
  oom_reset();
  grade_fail_alloc(after);
  err = bf_fetch_all(grade_loop(), &f, items, N, LIMIT, fake_start, results, on_fetched);
  if (err == UV_ENOMEM) {
    grade_fail_alloc(-1);
    grade_run();
    EXPECT(inflight.starts == 0 && done_calls == 0,
           "allocations failing after %ld: bf_fetch_all() returned UV_ENOMEM, then started %ld "
           "operations and called done %d times; expected none",
           after, inflight.starts, done_calls);
    run->refused = 1;
    return;
  }
  EXPECT(err == 0,
         "bf_fetch_all() with allocations failing after %ld: expected 0 or UV_ENOMEM, "
         "got %s",
         after, grade_err_name(err));
  oom_drive(LIMIT, N, after, run);
  grade_fail_alloc(-1);
  for (long k = 0; k < N; k++)
    EXPECT(k < run->started ? results[k].status == 0 && results[k].value == k * 10
                            : results[k].status == UV_ENOMEM,
           "allocations failing after %ld, items 0 to %ld ran: results[%ld] is %s (value %ld), "
           "expected %s",
           after, run->started - 1, k, grade_err_name(results[k].status), results[k].value,
           grade_err_name(k < run->started ? 0 : UV_ENOMEM));
}

static void oom_stream(long after, oom_run_t *run)
{
  enum { N = 10, LIMIT = 4 };
  static bf_stream_t s;
  int err;

  oom_reset();
  source_total = N;
  grade_fail_alloc(after);
  err = bf_stream_start(grade_loop(), &s, LIMIT, next_item, fake_start, on_each, on_streamed);
  if (err == UV_ENOMEM) {
    grade_fail_alloc(-1);
    grade_run();
    EXPECT(inflight.starts == 0 && done_calls == 0 && source_next == 0,
           "allocations failing after %ld: bf_stream_start() returned UV_ENOMEM, then took %ld "
           "items, started %ld and called done %d times; expected none",
           after, source_next, inflight.starts, done_calls);
    run->refused = 1;
    return;
  }
  EXPECT(err == 0,
         "bf_stream_start() with allocations failing after %ld: expected 0 or "
         "UV_ENOMEM, got %s",
         after, grade_err_name(err));
  oom_drive(LIMIT, N, after, run);
  grade_fail_alloc(-1);
  EXPECT(source_next == run->started && each_calls == run->started,
         "allocations failing after %ld: %ld items started, but %ld were taken from the source "
         "and each ran %ld times",
         after, run->started, source_next, each_calls);
}

/* Runs one fan-out with allocations failing after 0, 1, 2, ... until a run
 * completes every item. */
static void oom_sweep(void (*one)(long after, oom_run_t *run))
{
  long after;
  oom_run_t run = {0};

  fakes_start(0);
  for (after = 0; after < 64; after++) {
    run = (oom_run_t){0};
    one(after, &run);
    if (!run.refused && run.started == 10)
      break;
  }
  EXPECT(after < 64, "the fan-out never completed, allocations failing after up to 63");
}

GRADE_TEST(fetch_runs_out_of_memory_at_every_allocation, .points = 2, .clauses = "fan.1 fan.11",
           .section = "03-bounded-fan-out#limiting-creation",
           .hint = "When a slot cannot be allocated after bf_fetch_all returned 0, end the stream "
                   "with UV_ENOMEM (stream_end), as a broken source does: the items running "
                   "finish, no other item is taken, every item never taken gets UV_ENOMEM in "
                   "results, and done comes last. Going on with fewer slots is wrong; so is a "
                   "slot counted before its calloc succeeded (done never comes).")
{
  oom_sweep(oom_fetch);
}

GRADE_TEST(stream_runs_out_of_memory_at_every_allocation, .points = 1,
           .clauses = "fan.1 fan.9 fan.11", .section = "03-bounded-fan-out#limiting-creation",
           .hint = "bf_stream_start returns UV_ENOMEM when it cannot make what it needs to begin, "
                   "taking no item and calling nothing back. A slot that cannot be made later "
                   "ends the stream: no item is taken after it, and done reports UV_ENOMEM once "
                   "the items running have ended.")
{
  oom_sweep(oom_stream);
}

/* ---- a real upstream ---------------------------------------------------------------------- */

static ap_server_t server;

static void on_tcp_fetched(bf_fetch_t *f, int status)
{
  on_fetched(f, status);
  ap_server_stop(&server, NULL);
}

GRADE_TEST(fetch_over_tcp_stays_within_the_server_limit, .points = 3,
           .clauses = "echo.1 echo.3 echo.4", .timeout = 3,
           .section = "03-bounded-fan-out#against-a-real-server",
           .hint = "With limit L against a server that serves L connections, no request may "
                   "be turned away and L must be open at once: check that the permit is "
                   "released only when the operation reports its end.")
{
  enum { N = 24, LIMIT = 3 };
  static bf_fetch_t f;
  bf_echo_target_t target = {.inflight = &inflight};
  long items[N];
  bf_result_t results[N];
  int err;

  items_upto(items, N);
  server.max_conns = LIMIT;
  EXPECT_ERR("ap_server_start()", 0, ap_server_start(grade_loop(), &server));
  target.port = server.port;
  f.data = &target;
  err = bf_fetch_all(grade_loop(), &f, items, N, LIMIT, bf_echo_start, results, on_tcp_fetched);
  if (err != 0)
    ap_server_stop(&server, NULL);
  EXPECT_ERR("bf_fetch_all()", 0, err);
  grade_run();
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_EQ("connections the server turned away", 0, server.rejected);
  EXPECT_EQ("connections open at once at the server (its peak)", LIMIT, server.peak);
  EXPECT_EQ("connections served", N, server.accepted);
  EXPECT_EQ("requests in flight at once at the client (the gauge's peak)", LIMIT, inflight.peak);
  EXPECT_EQ("requests in flight at the end", 0, inflight.current);
  for (long i = 0; i < N; i++)
    EXPECT(results[i].status == 0 && results[i].value == (long) strlen("item 0\n") + (i >= 10),
           "request %ld: expected status 0 and the %zu bytes of \"item %ld\\n\" echoed, got %s "
           "and %ld",
           i, strlen("item 0\n") + (i >= 10), i, grade_err_name(results[i].status),
           results[i].value);
}

GRADE_LAB("03-bounded-fan-out", &sem_grants_free_permits_on_a_later_turn,
          &sem_callbacks_run_on_a_later_turn, &sem_grants_in_fifo_order,
          &sem_release_hands_off_without_barging, &sem_cancel_of_a_queued_waiter,
          &sem_cancel_answers_in_every_state, &sem_cancel_keeps_the_rest_of_the_line,
          &sem_owners_reach_the_limit_exactly, &sem_refuses_a_waiter_in_the_wrong_state,
          &sem_waiters_reused_or_freed_from_their_callbacks, &misuse_gets_clear_errors,
          &sem_init_sets_every_field_over_garbage, &fetch_in_flight_equals_the_limit,
          &fetch_limit_one_runs_in_sequence, &fetch_limit_of_n_or_more_runs_all_at_once,
          &fetch_results_follow_input_order, &fetch_failed_items_cost_no_permit,
          &fetch_reports_the_first_failure_in_input_order, &fan_outs_refuse_bad_arguments,
          &stream_reports_each_item_as_it_ends_and_done_last,
          &stream_reports_the_first_error_to_happen, &fetch_mixes_instant_and_later_operations,
          &fetch_bounds_creation_too, &stream_bounds_items_alive,
          &a_million_instant_operations_keep_the_stack_flat, &empty_and_broken_sources_finish_later,
          &fetch_runs_out_of_memory_at_every_allocation,
          &stream_runs_out_of_memory_at_every_allocation,
          &fetch_over_tcp_stays_within_the_server_limit)
