/* hidden/test_hidden.c — hidden tests for lab 04 (off_to_thread, off_cancel,
 * off_limiter_*, off_load_text).
 *
 * Not shipped in student handouts: they run in the instructor's repository
 * and in the gradebook, and are reported as hidden. They probe what a
 * student should find by reading the contracts in offload.h and loadtext.h,
 * not by reading the public tests: structs whose private fields hold
 * garbage, used again from their own callbacks; a done that frees its call
 * and the limiter; files with NUL bytes and sizes around the first buffer,
 * read through a path the caller overwrote at once.
 */
#include "../jobs.h"
#include "loadtext.h"

/* ---- Calls over garbage, and again -------------------------------------------- */

static off_call_t g_calls[5];
static off_limiter_t g_lim;
static int rounds, limited_done, data_marker;
static char order[64];

/* Round 1: the answer; round 2 (through the limiter): fn stored nothing;
 * round 3 (a plain call again): fn stored, then failed. */
static void again_done(off_call_t *call, int status, void *result)
{
  EXPECT(call->data == &data_marker, "the call's data field changed");
  switch (++rounds) {
  case 1:
    EXPECT_ERR("done's status for the first round", 0, status);
    EXPECT(result != NULL && strcmp(result, "forty-two") == 0,
           "done of the first round did not get the result fn stored");
    free(result);
    EXPECT_ERR("off_limiter_submit() of the same call from its done", 0,
               off_limiter_submit(&g_lim, call, counted_job, NULL, again_done));
    break;
  case 2:
    EXPECT_ERR("done's status for the second round", 0, status);
    EXPECT(result == NULL, "fn stored no result in the second round, yet done got %p", result);
    EXPECT_ERR("off_to_thread() of the same call from its done", 0,
               off_to_thread(grade_loop(), call, fail_after_storing, NULL, again_done));
    break;
  default:
    EXPECT_ERR("done's status for the third round", UV_EIO, status);
    EXPECT(result == NULL, "fn failed in the third round, yet done got a result");
  }
}

static void limited_order(off_call_t *call, int status, void *result)
{
  (void) result;
  EXPECT_ERR("done's status for a limited call", 0, status);
  /* busy_done may come first: the separator follows order, not the count. */
  snprintf(order + strlen(order), sizeof(order) - strlen(order), "%s%ld", order[0] ? " " : "",
           (long) (call - g_calls));
  limited_done++;
}

static void busy_done(off_call_t *call, int status, void *result)
{
  (void) call, (void) result;
  EXPECT_ERR("done's status for the call that could not be cancelled", 0, status);
  limited_done += 10;
}

GRADE_TEST(calls_over_garbage_and_again, .points = 2, .timeout = 2,
           .clauses = "off.7 off.8 off.9 off.3 off.6", .section = "04-offloading#cancelling",
           .hint = "off_to_thread, off_limiter_submit and off_limiter_init must set every private "
                   "field themselves (result, the FIFO links and state, the limiter's list): the "
                   "caller zeroes nothing, and may submit a call again from its own done.")
{
  use_pool_of("4");
  set_up_over_garbage(g_calls, AP_COUNT_OF(g_calls), &g_lim, 1);
  for (int i = 0; i < 5; i++)
    g_calls[i].data = &data_marker;
  EXPECT_ERR("off_to_thread() over garbage", 0,
             off_to_thread(grade_loop(), &g_calls[0], make_answer, NULL, again_done));
  submit_each(&g_lim, g_calls, 1, 4, counted_job, limited_order);
  /* Counted at submit ([off.9]), before the threads can race. */
  EXPECT(g_lim.running == 1 && g_lim.waiting == 2,
         "after three submits to a limiter of 1 over garbage: %u running, %zu waiting "
         "(expected 1 and 2)",
         g_lim.running, g_lim.waiting);
  EXPECT_ERR("off_to_thread() over garbage", 0,
             off_to_thread(grade_loop(), &g_calls[4], blocking_job, NULL, busy_done));
  wait_started(1);
  EXPECT_ERR("off_cancel() on a running call set up over garbage", UV_EBUSY,
             off_cancel(&g_calls[4]));
  post_release(1);
  grade_run();
  EXPECT_EQ("rounds of the call submitted again from its done", 3, rounds);
  EXPECT_STREQ("order of the limited calls set up over garbage", "1 2 3", order);
  EXPECT_EQ("limited dones plus 10 for the running call", 13, limited_done);
  EXPECT(g_lim.running == 0 && g_lim.waiting == 0, "the limiter must end empty");
}

/* ---- A done frees its call and the limiter ------------------------------------- */

static off_limiter_t *heap_lim;
static int remaining;

static void free_done(off_call_t *call, int status, void *result)
{
  (void) status, (void) result;
  free(call);
  if (--remaining > 0)
    return;
  EXPECT(heap_lim->running == 0 && heap_lim->waiting == 0,
         "in the last done the limiter still counted %u running, %zu waiting; a call's done "
         "runs after the limiter stopped counting it",
         heap_lim->running, heap_lim->waiting);
  free(heap_lim);
}

GRADE_TEST(a_done_may_free_its_call_and_the_limiter, .points = 2, .timeout = 2,
           .clauses = "off.11 off.7 off.9 off.5", .section = "04-offloading#bounded-offloader",
           .hint = "Update running and waiting, and hand the next call to the pool, before "
                   "calling done, and touch neither the call nor the limiter after it: done "
                   "may free both.")
{
  off_call_t *c[3];

  use_pool_of("4");
  heap_lim = malloc(sizeof(*heap_lim));
  EXPECT(heap_lim != NULL, "out of memory in the test");
  EXPECT_ERR("off_limiter_init()", 0, off_limiter_init(heap_lim, grade_loop(), 1));
  for (int i = 0; i < 3; i++) {
    c[i] = malloc(sizeof(*c[i]));
    EXPECT(c[i] != NULL, "out of memory in the test");
    EXPECT_ERR("off_limiter_submit()", 0,
               off_limiter_submit(heap_lim, c[i], i == 0 ? blocking_job : counted_job, NULL,
                                  free_done));
  }
  remaining = 3;
  /* Counted at submit ([off.9]): the last call waits, so its cancel cannot race a worker. */
  EXPECT(heap_lim->running == 1 && heap_lim->waiting == 2,
         "after three submits to a limiter of 1: %u running, %zu waiting (expected 1 and 2)",
         heap_lim->running, heap_lim->waiting);
  EXPECT_ERR("off_cancel() on the last waiting call", 0, off_cancel(c[2]));
  post_release(1);
  grade_run();
  EXPECT_EQ("done calls", 3, 3 - remaining);
  EXPECT_EQ("fn runs", 1, fn_runs);
}

/* ---- Every byte, through a path overwritten at once ---------------------------- */

static const char with_nuls[] = {'a', '\0', 'b', '\0', '\0', 'c'};
static const size_t sizes[] = {sizeof(with_nuls), 4095, 4096, 4097};
static off_text_t texts[4];
static int text_status[4], text_calls;
static char *text_got[4];
static size_t text_len[4];

static void record_text(off_text_t *req, int status, char *text, size_t len)
{
  long i = (long) (req - texts);

  text_status[i] = status;
  text_got[i] = text;
  text_len[i] = len;
  text_calls++;
}

static void hold_done(off_call_t *call, int status, void *result)
{
  (void) call, (void) status, (void) result;
}

/* 1 when text i holds bytes (n of them) and a NUL after them; frees it. */
static int check_text(int i, const char *bytes, size_t n)
{
  int ok = text_status[i] == 0 && text_got[i] != NULL && text_len[i] == n &&
           memcmp(text_got[i], bytes, n) == 0 && text_got[i][n] == '\0';

  free(text_got[i]);
  return ok;
}

GRADE_TEST(load_text_keeps_every_byte, .points = 2, .timeout = 2, .clauses = "text.2 text.5",
           .section = "04-offloading#load-text",
           .hint = "Count the bytes read(), never strlen(): a file may hold NUL bytes. Grow the "
                   "buffer before it is full, leaving room for the final NUL, and copy path: "
                   "the caller may overwrite it as soon as off_load_text returned.")
{
  static off_call_t hold;
  char *bytes[4], name[16], path[160];
  int ok[4];

  use_pool_of("1");
  EXPECT_ERR("off_to_thread()", 0,
             off_to_thread(grade_loop(), &hold, blocking_job, NULL, hold_done));
  wait_started(1); /* no file is read before the test lets the worker go */
  make_dir();
  for (int i = 0; i < 4; i++) {
    bytes[i] = i == 0 ? (char *) with_nuls : letters(sizes[i]);
    snprintf(name, sizeof(name), "f%d", i);
    snprintf(path, sizeof(path), "%s", write_file(name, bytes[i], sizes[i]));
    EXPECT_ERR("off_load_text()", 0, off_load_text(grade_loop(), &texts[i], path, record_text));
    memset(path, 'x', sizeof(path) - 1); /* the caller reuses its buffer */
  }
  post_release(1);
  grade_run();
  remove_files();
  for (int i = 0; i < 4; i++) {
    ok[i] = check_text(i, bytes[i], sizes[i]);
    if (i > 0)
      free(bytes[i]);
  }
  EXPECT_EQ("callbacks", 4, text_calls);
  EXPECT(ok[0], "a file of 6 bytes with NUL bytes inside: status %s, len %zu (expected 6)",
         grade_err_name(text_status[0]), text_len[0]);
  for (int i = 1; i < 4; i++)
    EXPECT(ok[i], "a file of %zu bytes: status %s, len %zu, or the bytes differ", sizes[i],
           grade_err_name(text_status[i]), text_len[i]);
}

/* ---- A request over garbage, loading again from its cb -------------------------- */

static const char *second_path;
static int req_rounds;

static void load_again(off_text_t *req, int status, char *text, size_t len)
{
  EXPECT(req->data == &data_marker, "the request's data field changed");
  if (++req_rounds == 1) {
    int ok = status == 0 && text != NULL && len == 5 && strcmp(text, "first") == 0;

    free(text);
    EXPECT(ok, "the first load over garbage: status %s, len %zu", grade_err_name(status), len);
    EXPECT_ERR("off_load_text() of the same request from its cb", 0,
               off_load_text(grade_loop(), req, second_path, load_again));
    EXPECT_EQ("callbacks inside off_load_text", 1, req_rounds);
    return;
  }
  int ok = status == 0 && text != NULL && len == 6 && strcmp(text, "second") == 0;

  free(text);
  free(req);
  EXPECT(ok, "the second load from the first one's cb: status %s, len %zu", grade_err_name(status),
         len);
}

GRADE_TEST(load_text_over_garbage_and_again, .points = 2, .timeout = 2,
           .clauses = "text.7 text.1 text.4", .section = "04-offloading#load-text",
           .hint = "off_load_text must set every private field of req itself; once cb runs the "
                   "request is the caller's again: it may load again from cb, or free req, so "
                   "nothing may touch req after cb.")
{
  off_text_t *req = malloc(sizeof(*req));
  const char *first;

  EXPECT(req != NULL, "out of memory in the test");
  use_pool_of("4");
  make_dir();
  first = write_file("first", "first", 5);
  second_path = write_file("second", "second", 6);
  garbage(req, sizeof(*req));
  req->data = &data_marker;
  EXPECT_ERR("off_load_text() over garbage", 0,
             off_load_text(grade_loop(), req, first, load_again));
  EXPECT_EQ("callbacks inside off_load_text", 0, req_rounds);
  grade_run();
  remove_files();
  EXPECT_EQ("callbacks (one per load)", 2, req_rounds);
}

GRADE_HIDDEN(&calls_over_garbage_and_again, &a_done_may_free_its_call_and_the_limiter,
             &load_text_keeps_every_byte, &load_text_over_garbage_and_again);
