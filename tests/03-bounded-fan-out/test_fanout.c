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
GRADE_TEST(sem_grants_free_permits_on_a_later_turn, .points = 1,
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

GRADE_TEST(sem_callbacks_run_on_a_later_turn, .points = 2,
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

GRADE_TEST(sem_grants_in_fifo_order, .points = 2,
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
GRADE_TEST(sem_release_hands_off_without_barging, .points = 3,
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

GRADE_TEST(sem_cancel_of_a_queued_waiter, .points = 2, .section = "03-bounded-fan-out#cancellation",
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

GRADE_TEST(misuse_gets_clear_errors, .points = 2, .section = "03-bounded-fan-out#misuse",
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

/* ---- fetch_all -------------------------------------------------------------------- */

GRADE_TEST(fetch_in_flight_equals_the_limit, .points = 3, .section = "03-bounded-fan-out#fetch-all",
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

GRADE_TEST(fetch_limit_one_runs_in_sequence, .points = 2, .section = "03-bounded-fan-out#fetch-all",
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

GRADE_TEST(fetch_limit_of_n_or_more_runs_all_at_once, .points = 1,
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

GRADE_TEST(fetch_results_follow_input_order, .points = 2, .section = "03-bounded-fan-out#fetch-all",
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

GRADE_TEST(fetch_failure_releases_its_permit, .points = 3, .timeout = 2,
           .section = "03-bounded-fan-out#fetch-all",
           .hint = "A failed item must not cost its slot's permit (the finally of async with): "
                   "the slot goes on to the next item whatever the status, or each failure "
                   "shrinks the limit for good. done reports the first failure in input order.")
{
  enum { N = 10, LIMIT = 2 };
  bf_result_t results[N];

  fetch_scrambled(N, LIMIT, results, some_fail);
  EXPECT_ERR("done's status (item 1 is the first failure in input order)", UV_ECONNREFUSED,
             done_status);
  for (long i = 0; i < N; i++)
    EXPECT(results[i].status == some_fail(i), "results[%ld].status: expected %s, got %s", i,
           grade_err_name(some_fail(i)), grade_err_name(results[i].status));
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

GRADE_TEST(fetch_bounds_creation_too, .points = 2, .section = "03-bounded-fan-out#fetch-all",
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

GRADE_TEST(stream_bounds_items_alive, .points = 3,
           .section = "03-bounded-fan-out#limiting-creation",
           .hint = "Take an item from the source only once you hold a permit for it, and "
                   "reserve the next slot only after starting this one.")
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
  EXPECT(alive.peak <= LIMIT + 1,
         "%ld items were alive at once (taken from the source, not yet finished); with "
         "limit %d at most %d may be",
         alive.peak, LIMIT, LIMIT + 1);
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

GRADE_TEST(a_million_instant_operations_keep_the_stack_flat, .points = 3,
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
  EXPECT(alive.peak <= LIMIT + 1, "%ld items were alive at once; at most %d may be", alive.peak,
         LIMIT + 1);
}

GRADE_TEST(empty_and_broken_sources_finish_later, .points = 1,
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

GRADE_TEST(fetch_runs_out_of_memory_partway, .points = 2,
           .section = "03-bounded-fan-out#limiting-creation",
           .hint = "When stream_reserve cannot allocate a slot, stream_take must end the stream "
                   "with UV_ENOMEM (stream_end) instead of going on with fewer slots: the items "
                   "already started finish and free their slots, no other item is taken, and "
                   "done comes after the last of them. A slot that was not made is not counted.")
{
  enum { N = 10, LIMIT = 4, TAKEN = 2 };
  long items[N];
  bf_result_t results[N];
  size_t heap_before;

  items_upto(items, N);
  for (long k = 0; k < N; k++)
    results[k] = (bf_result_t){.status = 1, .value = -1}; /* never written */
  fakes_start(0);
  heap_before = heap_in_use();
  grade_fail_alloc(TAKEN); /* two slots are made, the third calloc returns NULL */
  fetch(items, N, LIMIT, results);
  grade_run();
  EXPECT(inflight.starts == TAKEN && nrunning == TAKEN,
         "the third slot could not be allocated: expected items 0 and 1 to start and run, "
         "and no other; %ld started, %zu run",
         inflight.starts, nrunning);
  while (nrunning > 0) {
    EXPECT_EQ("done calls while taken items still run", 0, done_calls);
    end_running(nrunning - 1, 0);
    grade_run();
    EXPECT_EQ("operations started (none after the allocation failed)", TAKEN, inflight.starts);
  }
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_ERR("done's status (item 2, the first not taken)", UV_ENOMEM, done_status);
  for (long k = 0; k < N; k++)
    EXPECT(k < TAKEN ? results[k].status == 0 && results[k].value == k * 10
                     : results[k].status == UV_ENOMEM,
           "results[%ld]: expected status %s, got %s (value %ld)", k,
           grade_err_name(k < TAKEN ? 0 : UV_ENOMEM), grade_err_name(results[k].status),
           results[k].value);
#if defined(__SANITIZE_ADDRESS__)
  /* Only ASan's count is exact here: glibc's counts the chunks it keeps in
   * its per-thread cache, freed slots among them, as in use. */
  EXPECT(heap_in_use() <= heap_before,
         "after done, %zu bytes more than before bf_fetch_all() were still allocated: a slot "
         "was not freed",
         heap_in_use() - heap_before);
#else
  (void) heap_before;
#endif
}

GRADE_TEST(stream_out_of_memory_is_an_error, .points = 1,
           .section = "03-bounded-fan-out#limiting-creation",
           .hint = "stream_reserve returns UV_ENOMEM when calloc fails, before it counts or "
                   "queues anything. At the start both fan-outs return it and never call back; "
                   "later, stream_take ends the stream with it and done reports it once the "
                   "items running have ended.")
{
  enum { N = 10, LIMIT = 4 };
  static bf_stream_t s;
  static bf_fetch_t f;
  long items[N];
  bf_result_t results[N];

  items_upto(items, N);
  source_total = N;
  fakes_start(0);
  grade_fail_alloc(0);
  EXPECT_ERR("bf_fetch_all() when its first slot cannot be allocated", UV_ENOMEM,
             bf_fetch_all(grade_loop(), &f, items, N, LIMIT, fake_start, results, never_done));
  EXPECT_ERR("bf_stream_start() when its first slot cannot be allocated", UV_ENOMEM,
             bf_stream_start(grade_loop(), &s, LIMIT, next_item, fake_start, on_each,
                             never_streamed));
  grade_run();
  EXPECT_EQ("operations started by the failed calls", 0, inflight.starts);
  EXPECT_EQ("items the failed bf_stream_start() took from the source", 0, source_next);
  grade_fail_alloc(1); /* the first slot is made, the second is not */
  EXPECT_ERR("bf_stream_start()", 0,
             bf_stream_start(grade_loop(), &s, LIMIT, next_item, fake_start, on_each, on_streamed));
  grade_run();
  EXPECT_EQ("items taken by the one slot that could be made", 1, source_next);
  EXPECT_EQ("done calls while item 0 runs", 0, done_calls);
  end_running(0, 0);
  grade_run();
  EXPECT_EQ("items taken from the source", 1, source_next);
  EXPECT_EQ("each calls", 1, each_calls);
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_ERR("done's status (the second slot could not be allocated)", UV_ENOMEM, done_status);
}

/* ---- a real upstream ---------------------------------------------------------------------- */

static ap_server_t server;

static void on_tcp_fetched(bf_fetch_t *f, int status)
{
  on_fetched(f, status);
  ap_server_stop(&server, NULL);
}

GRADE_TEST(fetch_over_tcp_stays_within_the_server_limit, .points = 3, .timeout = 3,
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
  for (long i = 0; i < N; i++)
    EXPECT(results[i].status == 0, "request %ld: expected status 0, got %s", i,
           grade_err_name(results[i].status));
}

GRADE_LAB("03-bounded-fan-out", &sem_grants_free_permits_on_a_later_turn,
          &sem_callbacks_run_on_a_later_turn, &sem_grants_in_fifo_order,
          &sem_release_hands_off_without_barging, &sem_cancel_of_a_queued_waiter,
          &misuse_gets_clear_errors, &fetch_in_flight_equals_the_limit,
          &fetch_limit_one_runs_in_sequence, &fetch_limit_of_n_or_more_runs_all_at_once,
          &fetch_results_follow_input_order, &fetch_failure_releases_its_permit,
          &fetch_bounds_creation_too, &stream_bounds_items_alive,
          &a_million_instant_operations_keep_the_stack_flat, &empty_and_broken_sources_finish_later,
          &fetch_runs_out_of_memory_partway, &stream_out_of_memory_is_an_error,
          &fetch_over_tcp_stays_within_the_server_limit)
