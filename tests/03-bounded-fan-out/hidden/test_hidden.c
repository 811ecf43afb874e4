/* test_hidden.c — hidden graded tests for lab 03 (sem.h, fanout.h, echo.h).
 *
 * Not shipped in student handouts: they run in the instructor's repository
 * and in the gradebook, and are reported as hidden. They probe what a student
 * should find by reading the contracts, not the public tests: a semaphore
 * initialised over garbage and driven through a long fixed mix of acquires,
 * releases and cancels against a model of the contract; a stream and a fetch
 * over garbage, each started again from its own done; a fetch in which every
 * item fails; echo requests that a full server turns away or that nobody
 * listens for.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo.h"
#include "fanout.h"
#include "grade.h"

/* ---- The semaphore against a model -------------------------------------------- */

enum { W = 8, LIMIT = 3 };

static bf_sem_t sem;
static bf_waiter_t waiters[W];
static int model_state[W]; /* what the contract says each waiter is */
static int model_line[W];  /* the queued waiters, first in line first */
static int model_queued;
static int model_free;
static int expected_cb[64]; /* delivered callbacks, in order: +i grant, -(i+1) cancel */
static int expected_count, seen_count;

static void on_sem(bf_waiter_t *w, int status)
{
  int i = (int) (w - waiters);
  int code = status == 0 ? i : -(i + 1);

  EXPECT(seen_count < expected_count && expected_cb[seen_count] == code,
         "callback %d: waiter %d got %s; the model expected %s of waiter %d", seen_count + 1, i,
         status == 0 ? "a grant" : "UV_ECANCELED",
         seen_count >= expected_count   ? "no callback"
         : expected_cb[seen_count] >= 0 ? "a grant"
                                        : "UV_ECANCELED",
         seen_count >= expected_count   ? -1
         : expected_cb[seen_count] >= 0 ? expected_cb[seen_count]
                                        : -expected_cb[seen_count] - 1);
  seen_count++;
  model_state[i] = status == 0 ? BF_HELD : BF_IDLE;
}

static void model_grant(int i)
{
  model_state[i] = BF_GRANTED;
  expected_cb[expected_count++] = i;
}

static int model_acquire(int i)
{
  if (model_state[i] != BF_IDLE)
    return UV_EBUSY;
  if (model_free > 0 && model_queued == 0) {
    model_free--;
    model_grant(i);
  } else {
    model_state[i] = BF_QUEUED;
    model_line[model_queued++] = i;
  }
  return 0;
}

static int model_release(int i)
{
  if (model_state[i] != BF_HELD)
    return UV_EINVAL;
  model_state[i] = BF_IDLE;
  if (model_queued == 0) {
    model_free++;
    return 0;
  }
  model_grant(model_line[0]);
  memmove(model_line, model_line + 1, (size_t) --model_queued * sizeof(int));
  return 0;
}

static int model_cancel(int i)
{
  int k = 0;

  if (model_state[i] == BF_GRANTED || model_state[i] == BF_HELD)
    return UV_EBUSY;
  if (model_state[i] != BF_QUEUED)
    return UV_EINVAL;
  while (model_line[k] != i)
    k++;
  memmove(model_line + k, model_line + k + 1, (size_t) (--model_queued - k) * sizeof(int));
  model_state[i] = BF_CANCELLED;
  expected_cb[expected_count++] = -(i + 1);
  return 0;
}

static void expect_model(int step, const char *what, int i, int expected, int got)
{
  EXPECT(got == expected, "step %d, %s(waiter %d) with waiter %d in state %d: expected %s, got %s",
         step, what, i, i, waiters[i].state, grade_err_name(expected), grade_err_name(got));
  EXPECT(sem.available == model_free && sem.waiting == model_queued,
         "step %d, after %s(waiter %d): available %ld and waiting %ld, expected %d and %d", step,
         what, i, sem.available, sem.waiting, model_free, model_queued);
  for (int k = 0; k < W; k++)
    EXPECT(waiters[k].state == model_state[k],
           "step %d, after %s(waiter %d): waiter %d is in state %d, expected %d", step, what, i, k,
           waiters[k].state, model_state[k]);
}

GRADE_TEST(a_semaphore_over_garbage_follows_its_contract_step_by_step, .points = 2,
           .clauses = "sem.1 sem.3 sem.4 sem.8 sem.9 sem.10 sem.11",
           .section = "03-bounded-fan-out#the-semaphore",
           .hint = "bf_sem_init sets every field itself (the line's ends and counts included), "
                   "and every call decides by the waiter's state: a long mix of acquires, "
                   "releases and cancels, on waiters used again and again, must leave the "
                   "permits, the line and every state exactly where the contract says.")
{
  unsigned seed = 12345;

  for (int round = 0; round < 2; round++) {
    memset(&sem, 0xa5, sizeof(sem));
    EXPECT_ERR("bf_sem_init() over garbage (limit 3)", 0, bf_sem_init(grade_loop(), &sem, LIMIT));
    model_free = LIMIT;
    model_queued = 0;
    for (int step = 0; step < 200; step++) {
      int i, op;

      seed = seed * 1103515245u + 12345u;
      i = (int) ((seed >> 16) % W);
      op = (int) ((seed >> 8) % 7);
      if (expected_count > 48) {
        grade_run();
        EXPECT_EQ("callbacks delivered (the model's count)", expected_count, seen_count);
        expected_count = seen_count = 0;
      }
      if (op < 3)
        expect_model(step, "bf_sem_acquire", i, model_acquire(i),
                     bf_sem_acquire(&sem, &waiters[i], on_sem));
      else if (op < 5)
        expect_model(step, "bf_sem_release", i, model_release(i), bf_sem_release(&waiters[i]));
      else if (op < 6)
        expect_model(step, "bf_sem_cancel", i, model_cancel(i), bf_sem_cancel(&waiters[i]));
      else {
        grade_run();
        EXPECT_EQ("callbacks delivered (the model's count)", expected_count, seen_count);
        expected_count = seen_count = 0;
      }
    }
    /* Wind down: cancel the line, release every holder. */
    grade_run();
    for (int k = 0; k < W; k++)
      if (model_state[k] == BF_QUEUED)
        expect_model(999, "bf_sem_cancel", k, model_cancel(k), bf_sem_cancel(&waiters[k]));
    for (int k = 0; k < W; k++)
      if (model_state[k] == BF_HELD)
        expect_model(999, "bf_sem_release", k, model_release(k), bf_sem_release(&waiters[k]));
    grade_run();
    for (int k = 0; k < W; k++)
      if (model_state[k] == BF_HELD)
        expect_model(999, "bf_sem_release", k, model_release(k), bf_sem_release(&waiters[k]));
    grade_run();
    EXPECT_EQ("callbacks delivered (the model's count)", expected_count, seen_count);
    expected_count = seen_count = 0;
    EXPECT_EQ("permits free at the end", LIMIT, sem.available);
  }
}

/* ---- Fan-outs over garbage, again from done ------------------------------------- */

enum { N = 6 };

static ap_fakes_t fakes;
static ap_fake_t fake_ops[N];
static long running[N];
static size_t nrunning;
static ap_gauge_t inflight;
static int done_calls;
static int statuses[4];
static bf_result_t results[N];
static long source_next;

static void fake_finished(ap_fake_t *fake, int status, long value)
{
  bf_op_done(fake->data, status, value);
}

static void fake_start(bf_op_t *op)
{
  fake_ops[op->item].data = op;
  running[nrunning++] = op->item;
  ap_fake_start(&fakes, &fake_ops[op->item], op->item, fake_finished);
}

/* Ends running items, newest first, item 2 with UV_EIO on odd runs, until
 * done has run `run` times. */
static void end_all(int run)
{
  grade_run();
  while (nrunning > 0 && done_calls < run) {
    long item = running[--nrunning];

    ap_fake_complete(&fake_ops[item], item == 2 && run % 2 == 1 ? UV_EIO : 0, item * 10);
    grade_run();
  }
}

static int next_item(bf_stream_t *s, long *item)
{
  (void) s;
  if (source_next == N)
    return UV_EOF;
  *item = source_next++;
  return 0;
}

static void fetched_again(bf_fetch_t *f, int status)
{
  static const long items[N] = {0, 1, 2, 3, 4, 5};

  statuses[done_calls++] = status;
  if (done_calls == 1)
    EXPECT_ERR("bf_fetch_all() again, from its done", 0,
               bf_fetch_all(grade_loop(), f, items, N, 2, fake_start, results, fetched_again));
}

static void streamed_again(bf_stream_t *s, int status)
{
  statuses[done_calls++] = status;
  if (done_calls == 1) {
    EXPECT_EQ("first stream: s->finished", N, s->finished);
    source_next = 0;
    EXPECT_ERR("bf_stream_start() again, from its done", 0,
               bf_stream_start(grade_loop(), s, 2, next_item, fake_start, NULL, streamed_again));
  }
}

GRADE_TEST(fan_outs_over_garbage_and_again_from_done, .points = 2, .clauses = "fan.12 fan.9 fan.10",
           .section = "03-bounded-fan-out#lab",
           .hint = "bf_stream_start and bf_fetch_all must set every field but data themselves "
                   "(counters, the first error, the first failure's index, the semaphore): the "
                   "caller may hand over garbage, or the struct whose done is running.")
{
  static const long items[N] = {0, 1, 2, 3, 4, 5};
  static bf_fetch_t f;
  static bf_stream_t s;

  ap_fakes_init(&fakes, grade_loop(), NULL, &inflight);
  memset(&f, 0xa5, sizeof(f));
  f.data = NULL;
  EXPECT_ERR("bf_fetch_all() over garbage", 0,
             bf_fetch_all(grade_loop(), &f, items, N, 3, fake_start, results, fetched_again));
  end_all(1);
  EXPECT_EQ("fetch: done calls after the first run", 1, done_calls);
  end_all(2);
  EXPECT_EQ("fetch: done calls", 2, done_calls);
  EXPECT(statuses[0] == UV_EIO && statuses[1] == 0,
         "fetch: done's status %s then %s; expected UV_EIO (item 2 failed) then 0",
         grade_err_name(statuses[0]), grade_err_name(statuses[1]));
  EXPECT(results[2].status == 0 && results[2].value == 20,
         "second fetch: results[2] is %s and %ld, expected 0 and 20",
         grade_err_name(results[2].status), results[2].value);
  EXPECT_EQ("peak in flight (limits 3 then 2)", 3, inflight.peak);

  done_calls = 0;
  source_next = 0;
  memset(&s, 0xa5, sizeof(s));
  s.data = NULL;
  EXPECT_ERR("bf_stream_start() over garbage", 0,
             bf_stream_start(grade_loop(), &s, 3, next_item, fake_start, NULL, streamed_again));
  end_all(1);
  end_all(2);
  EXPECT_EQ("stream: done calls", 2, done_calls);
  EXPECT(statuses[0] == UV_EIO && statuses[1] == 0,
         "stream: done's status %s then %s; expected UV_EIO (item 2 failed) then 0",
         grade_err_name(statuses[0]), grade_err_name(statuses[1]));
  EXPECT(s.started == N && s.finished == N, "second stream: started %ld, finished %ld; expected %d",
         s.started, s.finished, N);
}

/* ---- Every item fails ----------------------------------------------------------- */

static void on_fetched(bf_fetch_t *f, int status)
{
  (void) f;
  statuses[done_calls++] = status;
}

static void failing_start(bf_op_t *op)
{
  if (op->item % 2 == 0) { /* even items fail inside start */
    bf_op_done(op, UV_ENOENT, -1);
    return;
  }
  fake_start(op);
}

GRADE_TEST(a_fetch_where_every_item_fails_still_runs_them_all, .points = 1,
           .clauses = "fan.5 fan.10 fan.2", .section = "03-bounded-fan-out#fetch-all",
           .hint = "A failure, inside start or later, costs no permit: after limit failures the "
                   "next items must still run, limit at a time, and done reports item 0's.")
{
  static const long items[N] = {0, 1, 2, 3, 4, 5};
  static bf_fetch_t f;

  ap_fakes_init(&fakes, grade_loop(), NULL, &inflight);
  EXPECT_ERR("bf_fetch_all()", 0,
             bf_fetch_all(grade_loop(), &f, items, N, 2, failing_start, results, on_fetched));
  grade_run();
  while (nrunning > 0) {
    long item = running[--nrunning];

    EXPECT(nrunning < 2, "%zu later operations ran at once, limit 2", nrunning + 1);
    ap_fake_complete(&fake_ops[item], UV_ECONNRESET, 0);
    grade_run();
  }
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_ERR("done's status (item 0 failed inside its start)", UV_ENOENT, statuses[0]);
  for (int k = 0; k < N; k++)
    EXPECT(results[k].status == (k % 2 == 0 ? UV_ENOENT : UV_ECONNRESET),
           "results[%d].status: %s, expected %s", k, grade_err_name(results[k].status),
           grade_err_name(k % 2 == 0 ? UV_ENOENT : UV_ECONNRESET));
}

/* ---- Echo requests turned away or refused --------------------------------------- */

static ap_server_t server;
static int hog = -1; /* a plain blocking client that holds the server's one connection */

static void on_busy_fetched(bf_fetch_t *f, int status)
{
  on_fetched(f, status);
  close(hog);
  hog = -1;
  ap_server_stop(&server, NULL);
}

static int connect_blocking(int port)
{
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && connect(fd, (struct sockaddr *) &addr, sizeof(addr)) != 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

/* A port on 127.0.0.1 that is bound and not listening: connects are refused. */
static int bound_not_listening(int *port)
{
  struct sockaddr_in addr = {.sin_family = AF_INET};
  socklen_t len = sizeof(addr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *) &addr, sizeof(addr)) != 0 ||
      getsockname(fd, (struct sockaddr *) &addr, &len) != 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

GRADE_TEST(echo_requests_turned_away_or_refused_report_why, .points = 1, .clauses = "echo.2",
           .timeout = 3, .section = "03-bounded-fan-out#against-a-real-server",
           .hint = "A request's failure is its outcome like any other: stored at its index, "
                   "costing no permit, and done reports the first in input order.")
{
  enum { M = 4 };
  static const long items[M] = {0, 1, 2, 3};
  static bf_fetch_t f;
  bf_echo_target_t target = {0};
  int fd, port;

  server.max_conns = 1;
  EXPECT_ERR("ap_server_start()", 0, ap_server_start(grade_loop(), &server));
  hog = connect_blocking(server.port); /* first in the server's accept queue */
  EXPECT(hog >= 0, "the test could not connect to its own server");
  target.port = server.port;
  f.data = &target;
  EXPECT_ERR("bf_fetch_all() against a full server", 0,
             bf_fetch_all(grade_loop(), &f, items, M, 2, bf_echo_start, results, on_busy_fetched));
  grade_run();
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_ERR("done's status (the server turned every request away)", UV_EBUSY, statuses[0]);
  for (int k = 0; k < M; k++)
    EXPECT(results[k].status == UV_EBUSY, "request %d: %s, expected UV_EBUSY", k,
           grade_err_name(results[k].status));

  fd = bound_not_listening(&port);
  EXPECT(fd >= 0, "the test could not bind a port");
  target.port = port;
  EXPECT_ERR("bf_fetch_all() where nothing listens", 0,
             bf_fetch_all(grade_loop(), &f, items, M, 2, bf_echo_start, results, on_fetched));
  grade_run();
  close(fd);
  EXPECT_EQ("done calls", 2, done_calls);
  EXPECT_ERR("done's status (nothing listens)", UV_ECONNREFUSED, statuses[1]);
  for (int k = 0; k < M; k++)
    EXPECT(results[k].status == UV_ECONNREFUSED, "request %d: %s, expected UV_ECONNREFUSED", k,
           grade_err_name(results[k].status));
}

GRADE_HIDDEN(&a_semaphore_over_garbage_follows_its_contract_step_by_step,
             &fan_outs_over_garbage_and_again_from_done,
             &a_fetch_where_every_item_fails_still_runs_them_all,
             &echo_requests_turned_away_or_refused_report_why);
