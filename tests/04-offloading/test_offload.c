/* test_offload.c — graded tests for lab 04 (off_to_thread, off_cancel,
 * off_load_text, off_limiter_submit). How the tests block workers and pick
 * the pool's size: jobs.h.
 */
#include "jobs.h"
#include "loadtext.h"

/* ---- What done saw ------------------------------------------------------------ */

static off_call_t calls[8];
static int done_calls;
static int done_status[8];
static void *done_result[8];
static uv_thread_t done_thread;

static long index_in(off_call_t *array, off_call_t *call)
{
  return (long) (call - array);
}

static void record_done(off_call_t *call, int status, void *result)
{
  long i = index_in(calls, call);
  uv_thread_t self = uv_thread_self();

  /* done belongs on the loop thread ([off.2]): one that runs on a worker is not
   * counted, so the test fails whatever the threads' timing (counted, it would
   * race the loop). done_runs_on_the_loop_thread says why. */
  if (!uv_thread_equal(&self, &loop_thread))
    return;

  done_status[i] = status;
  done_result[i] = result;
  done_calls++;
  ap_trace_add(grade_trace(), "done", i, status);
}

static void never_done(off_call_t *call, int status, void *result)
{
  (void) call, (void) result;
  ck_abort_msg("done was called (status %s) although the call returned an error",
               grade_err_name(status));
}

static void never_text(off_text_t *req, int status, char *text, size_t len)
{
  (void) req, (void) text, (void) len;
  ck_abort_msg("cb was called (status %s) although off_load_text() returned an error",
               grade_err_name(status));
}

/* ---- to_thread ---------------------------------------------------------------- */

static ap_probe_t probe;

/* $begin test-handshake */
static void post_on_third_tick(ap_probe_t *p)
{
  if (p->ticks == 3)
    uv_sem_post(&release);
}

/* Returns only after the loop has ticked three times: on the loop thread it
 * would wait for ticks that can never come. */
static int wait_for_ticks(void *arg, void **result)
{
  (void) arg, (void) result;
  uv_sem_wait(&release);
  return 0;
}
/* $end test-handshake */

static void stop_probe_done(off_call_t *call, int status, void *result)
{
  (void) call, (void) result;
  done_calls++;
  done_status[0] = status;
  ap_probe_stop(&probe);
}

GRADE_TEST(loop_stays_responsive, .points = 3, .timeout = 2, .clauses = "off.1",
           .section = "04-offloading#to-thread",
           .hint = "fn must run on a worker thread (uv_queue_work's work callback), never "
                   "inside off_to_thread or in the after-work callback: here fn waits for "
                   "three ticks of a loop timer, so running it on the loop thread deadlocks.")
{
  use_pool_of("4");
  probe.on_tick = post_on_third_tick;
  EXPECT_ERR("ap_probe_start()", 0, ap_probe_start(grade_loop(), &probe, 1));
  EXPECT_ERR("off_to_thread()", 0,
             off_to_thread(grade_loop(), &calls[0], wait_for_ticks, NULL, stop_probe_done));
  grade_run();
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_ERR("done's status", 0, done_status[0]);
  EXPECT(probe.ticks >= 3, "the loop ticked %ld times while fn waited, expected 3", probe.ticks);
}

static uv_thread_t fn_thread;

static int note_thread(void *arg, void **result)
{
  (void) arg, (void) result;
  fn_thread = uv_thread_self();
  return 0;
}

static void note_done_thread(off_call_t *call, int status, void *result)
{
  (void) call, (void) result;
  done_thread = uv_thread_self();
  done_status[0] = status;
  done_calls++;
}

GRADE_TEST(done_runs_on_the_loop_thread, .points = 2, .timeout = 2, .clauses = "off.1 off.2",
           .section = "04-offloading#to-thread",
           .hint = "Call done from the after-work callback (it runs on the loop thread), "
                   "never from the work callback, which runs on a worker.")
{
  use_pool_of("4");
  EXPECT_ERR("off_to_thread()", 0,
             off_to_thread(grade_loop(), &calls[0], note_thread, NULL, note_done_thread));
  EXPECT_EQ("done calls inside off_to_thread", 0, done_calls);
  grade_run();
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT(!uv_thread_equal(&fn_thread, &loop_thread),
         "fn ran on the loop thread; it must run on a worker thread");
  EXPECT(uv_thread_equal(&done_thread, &loop_thread),
         "done ran on another thread than the loop's; it must run on the loop thread");
}

GRADE_TEST(results_and_errors_arrive_intact, .points = 2, .timeout = 2, .clauses = "off.3",
           .section = "04-offloading#to-thread",
           .hint = "done gets fn's own return value as status (a negative UV_E* code or 0), "
                   "and on success the very pointer fn stored in *result; after an error, "
                   "result is NULL.")
{
  use_pool_of("4");
  EXPECT_ERR("off_to_thread()", 0,
             off_to_thread(grade_loop(), &calls[0], make_answer, NULL, record_done));
  EXPECT_ERR("off_to_thread()", 0,
             off_to_thread(grade_loop(), &calls[1], fail_with, (void *) (intptr_t) UV_ENOTSUP,
                           record_done));
  EXPECT_ERR("off_to_thread()", 0,
             off_to_thread(grade_loop(), &calls[2], fail_with, (void *) (intptr_t) UV_E2BIG,
                           record_done));
  grade_run();
  EXPECT_EQ("done calls", 3, done_calls);
  EXPECT_ERR("status of a fn that succeeded", 0, done_status[0]);
  EXPECT(done_result[0] != NULL && strcmp(done_result[0], "forty-two") == 0,
         "result of a fn that stored \"forty-two\": got %s",
         done_result[0] == NULL ? "NULL" : (char *) done_result[0]);
  free(done_result[0]);
  EXPECT_ERR("status of a fn that returned UV_ENOTSUP", UV_ENOTSUP, done_status[1]);
  EXPECT_ERR("status of a fn that returned UV_E2BIG", UV_E2BIG, done_status[2]);
  EXPECT(done_result[1] == NULL && done_result[2] == NULL, "result after an error must be NULL");
}

GRADE_TEST(a_fn_that_fails_after_storing_gives_no_result, .points = 1, .timeout = 2,
           .clauses = "off.3", .section = "04-offloading#to-thread",
           .hint = "When fn's status is not 0, done's result is NULL, whatever fn stored in "
                   "*result before it failed (a failing fn cleans up after itself).")
{
  use_pool_of("4");
  EXPECT_ERR("off_to_thread()", 0,
             off_to_thread(grade_loop(), &calls[0], fail_after_storing, NULL, record_done));
  grade_run();
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_ERR("status of a fn that stored a result and returned UV_EIO", UV_EIO, done_status[0]);
  EXPECT(done_result[0] == NULL,
         "result of a fn that stored a pointer and then failed: expected NULL, got %p",
         done_result[0]);
}

static off_limiter_t lim;

GRADE_TEST(calls_set_up_over_garbage_run_as_fresh_ones, .points = 2, .timeout = 2,
           .clauses = "off.7 off.8 off.3 off.10", .section = "04-offloading#bounded-offloader",
           .hint = "off_to_thread, off_limiter_submit and off_limiter_init set every private "
                   "field themselves (result, status, the FIFO's links, the counts): the caller "
                   "hands over memory nobody zeroed.")
{
  use_pool_of("4");
  set_up_over_garbage(calls, AP_COUNT_OF(calls), &lim, 2);
  EXPECT_ERR("off_to_thread() over garbage", 0,
             off_to_thread(grade_loop(), &calls[0], counted_job, NULL, record_done));
  submit_each(&lim, calls, 1, 6, counted_job, record_done);
  EXPECT(lim.running == 2 && lim.waiting == 3,
         "after five submits to a limiter of 2 over garbage: %u running, %zu waiting "
         "(expected 2 and 3)",
         lim.running, lim.waiting);
  grade_run();
  EXPECT_EQ("done calls", 6, done_calls);
  EXPECT_EQ("fn runs", 6, fn_runs);
  for (int i = 0; i < 6; i++) {
    EXPECT_ERR("done's status for a call set up over garbage", 0, done_status[i]);
    EXPECT(done_result[i] == NULL,
           "call %d: fn stored nothing, so done's result must be NULL, got %p", i, done_result[i]);
  }
  EXPECT(lim.running == 0 && lim.waiting == 0, "the limiter must end empty");
}

GRADE_TEST(bad_arguments_are_rejected_without_a_callback, .points = 1,
           .clauses = "off.4 off.8 text.6", .section = "04-offloading#to-thread",
           .hint = "Check fn and done (path and cb, limit) before queueing anything; on error "
                   "return UV_EINVAL, leave the limiter's counts alone and never call back.")
{
  off_text_t text;

  EXPECT_ERR("off_to_thread() without fn", UV_EINVAL,
             off_to_thread(grade_loop(), &calls[0], NULL, NULL, never_done));
  EXPECT_ERR("off_to_thread() without done", UV_EINVAL,
             off_to_thread(grade_loop(), &calls[0], counted_job, NULL, NULL));
  EXPECT_ERR("off_limiter_init() with limit 0", UV_EINVAL, off_limiter_init(&lim, grade_loop(), 0));
  EXPECT_ERR("off_limiter_init() with limit 1", 0, off_limiter_init(&lim, grade_loop(), 1));
  EXPECT_ERR("off_limiter_submit() without fn", UV_EINVAL,
             off_limiter_submit(&lim, &calls[1], NULL, NULL, never_done));
  EXPECT_ERR("off_limiter_submit() without done", UV_EINVAL,
             off_limiter_submit(&lim, &calls[2], counted_job, NULL, NULL));
  EXPECT(lim.running == 0 && lim.waiting == 0,
         "after refused submits the limiter must be empty: %u running, %zu waiting", lim.running,
         lim.waiting);
  EXPECT_ERR("off_load_text() without a path", UV_EINVAL,
             off_load_text(grade_loop(), &text, NULL, never_text));
  EXPECT_ERR("off_load_text() without cb", UV_EINVAL,
             off_load_text(grade_loop(), &text, "/", NULL));
  grade_run();
  EXPECT_EQ("fn runs", 0, fn_runs);
}

/* ---- Cancel ------------------------------------------------------------------- */

GRADE_TEST(a_queued_call_is_cancelled_and_never_runs, .points = 3, .timeout = 2,
           .clauses = "off.5 off.2", .section = "04-offloading#cancelling",
           .hint = "With both workers busy the third call waits in the pool's queue: uv_cancel "
                   "returns 0 and the after-work callback gets UV_ECANCELED, which done must "
                   "receive as its status (fn never ran, so there is no result).")
{
  use_pool_of("2");
  for (int i = 0; i < 2; i++)
    EXPECT_ERR("off_to_thread()", 0,
               off_to_thread(grade_loop(), &calls[i], blocking_job, NULL, record_done));
  EXPECT_ERR("off_to_thread()", 0,
             off_to_thread(grade_loop(), &calls[2], counted_job, NULL, record_done));
  EXPECT_ERR("off_cancel() on the call waiting behind two busy workers", 0, off_cancel(&calls[2]));
  EXPECT_EQ("done calls inside off_cancel", 0, done_calls);
  post_release(2);
  grade_run();
  EXPECT_EQ("done calls", 3, done_calls);
  EXPECT_ERR("done's status for the cancelled call", UV_ECANCELED, done_status[2]);
  EXPECT(done_result[2] == NULL, "result of the cancelled call must be NULL");
  EXPECT_EQ("runs of the cancelled call's fn", 0, fn_runs);
  EXPECT_ERR("done's status for the two calls that ran", 0, done_status[0] | done_status[1]);
}

static int answer_when_released(void *arg, void **result)
{
  blocking_job(arg, result);
  *result = &release;
  return 0;
}

GRADE_TEST(a_running_call_cannot_be_cancelled, .points = 2, .timeout = 2, .clauses = "off.6",
           .section = "04-offloading#cancelling",
           .hint = "Once a worker runs fn nothing can stop it: uv_cancel returns UV_EBUSY, and "
                   "off_cancel must pass that on. done then gets fn's own status and result.")
{
  use_pool_of("2");
  EXPECT_ERR("off_to_thread()", 0,
             off_to_thread(grade_loop(), &calls[0], answer_when_released, NULL, record_done));
  wait_started(1); /* fn is running now */
  EXPECT_ERR("off_cancel() on a running call", UV_EBUSY, off_cancel(&calls[0]));
  post_release(1);
  grade_run();
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_ERR("done's status for the call that could not be cancelled", 0, done_status[0]);
  EXPECT(done_result[0] == &release, "done did not get the result fn stored");
}

GRADE_TEST(a_finished_call_cannot_be_cancelled, .points = 2, .timeout = 2, .clauses = "off.6 off.2",
           .section = "04-offloading#cancelling",
           .hint = "fn has returned but done has not run yet (the loop has not turned): the "
                   "call cannot be cancelled any more, off_cancel returns UV_EBUSY (uv_cancel "
                   "says so) and done still gets fn's result.")
{
  /* One worker: when the second job starts, the first one's fn has returned. */
  use_pool_of("1");
  EXPECT_ERR("off_to_thread()", 0,
             off_to_thread(grade_loop(), &calls[0], make_answer, NULL, record_done));
  EXPECT_ERR("off_to_thread()", 0,
             off_to_thread(grade_loop(), &calls[1], blocking_job, NULL, record_done));
  wait_started(1);
  EXPECT_ERR("off_cancel() on a call whose fn has returned", UV_EBUSY, off_cancel(&calls[0]));
  EXPECT_EQ("done calls inside off_cancel", 0, done_calls);
  post_release(1);
  grade_run();
  EXPECT_EQ("done calls", 2, done_calls);
  EXPECT_ERR("done's status for the finished call", 0, done_status[0]);
  EXPECT(done_result[0] != NULL && strcmp(done_result[0], "forty-two") == 0,
         "done of the finished call did not get the result fn stored");
  free(done_result[0]);
}

/* ---- load_text ------------------------------------------------------------------ */

enum { BIG = 20 * 1000 };
static off_text_t texts[3];
static int text_status[3];
static char *text_got[3];
static size_t text_len[3];

static void record_text(off_text_t *req, int status, char *text, size_t len)
{
  long i = (long) (req - texts);

  text_status[i] = status;
  text_got[i] = text;
  text_len[i] = len;
  done_thread = uv_thread_self();
  done_calls++;
}

static int text_is(int i, const char *bytes, size_t n)
{
  return text_got[i] != NULL && text_len[i] == n && memcmp(text_got[i], bytes, n) == 0 &&
         text_got[i][n] == '\0';
}

GRADE_TEST(load_text_reads_a_file, .points = 2, .timeout = 2, .clauses = "text.1 text.2 text.4",
           .section = "04-offloading#load-text",
           .hint = "Read until read() returns 0, growing the buffer as it fills; end the text "
                   "with a NUL and report the length without it. An empty file is \"\", not "
                   "an error.")
{
  char *bytes = letters(BIG);
  const char *big, *empty, *one;
  int big_ok, empty_ok, one_ok;

  use_pool_of("4");
  make_dir();
  big = write_file("big", bytes, BIG);
  empty = write_file("empty", "", 0);
  one = write_file("one", "x", 1);
  EXPECT_ERR("off_load_text()", 0, off_load_text(grade_loop(), &texts[0], big, record_text));
  EXPECT_ERR("off_load_text()", 0, off_load_text(grade_loop(), &texts[1], empty, record_text));
  EXPECT_ERR("off_load_text()", 0, off_load_text(grade_loop(), &texts[2], one, record_text));
  EXPECT_EQ("callbacks inside off_load_text", 0, done_calls);
  grade_run();
  remove_files();
  big_ok = text_is(0, bytes, BIG);
  empty_ok = text_is(1, "", 0);
  one_ok = text_is(2, "x", 1);
  free(bytes);
  for (int i = 0; i < 3; i++)
    free(text_got[i]);
  EXPECT_EQ("callbacks", 3, done_calls);
  EXPECT_ERR("status for a 20 kB file", 0, text_status[0]);
  EXPECT_EQ("length of the 20 kB file", BIG, text_len[0]);
  EXPECT(big_ok, "the text of the 20 kB file differs from the file's bytes (or lacks its NUL)");
  EXPECT_ERR("status for an empty file", 0, text_status[1]);
  EXPECT(empty_ok, "an empty file must give \"\" (a NUL) and length 0");
  EXPECT_ERR("status for a one-byte file", 0, text_status[2]);
  EXPECT(one_ok, "a file holding \"x\" must give \"x\" and length 1 (a read of one byte counts)");
  EXPECT(uv_thread_equal(&done_thread, &loop_thread), "the callback must run on the loop thread");
}

GRADE_TEST(load_text_reports_errors, .points = 2, .timeout = 2, .clauses = "text.3 text.4",
           .section = "04-offloading#load-text",
           .hint = "Turn errno into a libuv error with uv_translate_sys_error(errno), for open() "
                   "and for read() alike: a missing file is UV_ENOENT, and reading a directory "
                   "fails with UV_EISDIR. text is NULL then, and the file is closed.")
{
  char missing[160];

  use_pool_of("4");
  make_dir();
  snprintf(missing, sizeof(missing), "%s/missing", dir);
  EXPECT_ERR("off_load_text()", 0, off_load_text(grade_loop(), &texts[0], missing, record_text));
  EXPECT_ERR("off_load_text()", 0, off_load_text(grade_loop(), &texts[1], dir, record_text));
  grade_run();
  remove_files();
  EXPECT_EQ("callbacks", 2, done_calls);
  EXPECT_ERR("status for a missing file", UV_ENOENT, text_status[0]);
  EXPECT_ERR("status for a directory", UV_EISDIR, text_status[1]);
  EXPECT(text_got[0] == NULL && text_got[1] == NULL, "text after an error must be NULL");
  EXPECT(text_len[0] == 0 && text_len[1] == 0, "len after an error must be 0");
}

GRADE_TEST(load_text_works_when_descriptor_0_is_free, .points = 1, .timeout = 2,
           .clauses = "text.2 text.3", .section = "04-offloading#load-text",
           .hint = "open() returns the lowest free descriptor, and 0 is one when stdin is "
                   "closed: only a negative descriptor is an error.")
{
  const char *path;
  int saved_stdin, ok;

  use_pool_of("4");
  make_dir();
  path = write_file("short", "abc", 3);
  saved_stdin = dup(STDIN_FILENO); /* -1: nothing was open there */
  close(STDIN_FILENO);
  EXPECT_ERR("off_load_text()", 0, off_load_text(grade_loop(), &texts[0], path, record_text));
  grade_run();
  if (saved_stdin >= 0) {
    dup2(saved_stdin, STDIN_FILENO);
    close(saved_stdin);
  }
  remove_files();
  ok = text_is(0, "abc", 3);
  free(text_got[0]);
  EXPECT_EQ("callbacks", 1, done_calls);
  EXPECT_ERR("status for a file opened as descriptor 0", 0, text_status[0]);
  EXPECT(ok, "the text of a file opened as descriptor 0 must be \"abc\", length 3");
}

GRADE_TEST(load_text_reports_running_out_of_memory, .points = 2, .timeout = 2,
           .clauses = "text.6 text.3 text.4", .section = "04-offloading#load-text",
           .hint = "Out of memory for the path's copy: off_load_text returns UV_ENOMEM and "
                   "never calls back. Out of memory while reading (the first buffer or a "
                   "bigger one): cb gets UV_ENOMEM, and every block and the file are released.")
{
  char *bytes = letters(BIG);
  const char *big;

  use_pool_of("4");
  make_dir();
  big = write_file("big", bytes, BIG);
  free(bytes);
  grade_fail_alloc(0);
  EXPECT_ERR("off_load_text() with no memory at all", UV_ENOMEM,
             off_load_text(grade_loop(), &texts[0], big, never_text));
  grade_fail_alloc(1); /* the path's copy, then nothing */
  EXPECT_ERR("off_load_text()", 0, off_load_text(grade_loop(), &texts[0], big, record_text));
  grade_run();
  grade_fail_alloc(2); /* the path's copy and the first buffer, then nothing */
  EXPECT_ERR("off_load_text()", 0, off_load_text(grade_loop(), &texts[1], big, record_text));
  grade_run();
  grade_fail_alloc(-1);
  remove_files();
  EXPECT_EQ("callbacks", 2, done_calls);
  EXPECT_ERR("status with no memory for the first buffer", UV_ENOMEM, text_status[0]);
  EXPECT_ERR("status with no memory to grow the buffer", UV_ENOMEM, text_status[1]);
  EXPECT(text_got[0] == NULL && text_got[1] == NULL, "text after an error must be NULL");
}

/* ---- Bounded offloader ---------------------------------------------------------- */

static uv_fs_t stat_req;
static int stat_status = 1;
static int jobs_done_at_stat = -1;
static int stat_releases;

static void on_stat(uv_fs_t *req)
{
  stat_status = (int) req->result;
  jobs_done_at_stat = done_calls;
  uv_fs_req_cleanup(req);
  post_release(stat_releases);
}

/* uv_fs_stat answers only if a worker is free; then the jobs may end. */
static void stat_then_release(int jobs)
{
  stat_releases = jobs;
  EXPECT_ERR("uv_fs_stat()", 0, uv_fs_stat(grade_loop(), &stat_req, ".", on_stat));
}

GRADE_TEST(limiter_lets_file_io_through, .points = 3, .timeout = 2, .clauses = "off.9",
           .section = "04-offloading#bounded-offloader",
           .hint = "Never hand the pool more than limit calls at once; keep the rest in the "
                   "limiter's FIFO. Here the pool has 2 threads and the limit is 1, so one "
                   "thread stays free for uv_fs_stat while three jobs block.")
{
  use_pool_of("2");
  EXPECT_ERR("off_limiter_init()", 0, off_limiter_init(&lim, grade_loop(), 1));
  for (int i = 0; i < 3; i++)
    EXPECT_ERR("off_limiter_submit()", 0,
               off_limiter_submit(&lim, &calls[i], blocking_job, NULL, record_done));
  stat_then_release(3);
  grade_run();
  EXPECT_ERR("uv_fs_stat's result", 0, stat_status);
  EXPECT_EQ("limited jobs done when uv_fs_stat answered", 0, jobs_done_at_stat);
  EXPECT_EQ("done calls", 3, done_calls);
}

GRADE_TEST(a_limiter_runs_exactly_its_limit, .points = 2, .timeout = 2, .clauses = "off.9",
           .section = "04-offloading#bounded-offloader",
           .hint = "With limit 2, two calls go to the pool at once (inside off_limiter_submit) "
                   "and run side by side, never a third: here the pool has 3 threads, two "
                   "jobs must start, and the third thread must stay free for uv_fs_stat.")
{
  use_pool_of("3");
  EXPECT_ERR("off_limiter_init()", 0, off_limiter_init(&lim, grade_loop(), 2));
  for (int i = 0; i < 4; i++)
    EXPECT_ERR("off_limiter_submit()", 0,
               off_limiter_submit(&lim, &calls[i], blocking_job, NULL, record_done));
  EXPECT_EQ("calls running right after four submits with limit 2", 2, lim.running);
  EXPECT_EQ("calls waiting right after four submits with limit 2", 2, lim.waiting);
  wait_started(2); /* hangs unless two jobs run side by side */
  stat_then_release(4);
  grade_run();
  EXPECT_ERR("uv_fs_stat's result", 0, stat_status);
  EXPECT_EQ("limited jobs done when uv_fs_stat answered", 0, jobs_done_at_stat);
  EXPECT_EQ("done calls", 4, done_calls);
  EXPECT(lim.running == 0 && lim.waiting == 0, "the limiter must end empty");
}

GRADE_TEST(limiter_keeps_fifo_order, .points = 2, .timeout = 2, .clauses = "off.10 off.9",
           .section = "04-offloading#bounded-offloader",
           .hint = "Waiting calls leave the FIFO oldest first, one each time a running call "
                   "ends, whether it succeeded or failed; with limit 1 they run one after the "
                   "other in submission order.")
{
  use_pool_of("4");
  EXPECT_ERR("off_limiter_init()", 0, off_limiter_init(&lim, grade_loop(), 1));
  for (int i = 0; i < 5; i++)
    EXPECT_ERR("off_limiter_submit()", 0,
               off_limiter_submit(&lim, &calls[i], i % 2 ? fail_with : counted_job,
                                  (void *) (intptr_t) UV_EIO, record_done));
  EXPECT_EQ("calls running right after five submits with limit 1", 1, lim.running);
  EXPECT_EQ("calls waiting right after five submits with limit 1", 4, lim.waiting);
  EXPECT_EQ("done calls inside off_limiter_submit", 0, done_calls);
  grade_run();
  EXPECT_STREQ("done order (calls 1 and 3 fail)", "done:0 done:1 done:2 done:3 done:4",
               grade_trace_str("done"));
  EXPECT_ERR("done's status for the calls whose fn returned UV_EIO", UV_EIO,
             done_status[1] & done_status[3]);
  EXPECT_EQ("fn runs", 3, fn_runs);
  EXPECT(lim.running == 0 && lim.waiting == 0, "the limiter must end empty");
}

GRADE_TEST(a_waiting_call_leaves_the_limiter_when_cancelled, .points = 2, .timeout = 2,
           .clauses = "off.5 off.10 off.2", .section = "04-offloading#cancelling",
           .hint = "A call still in the limiter's FIFO was never given to libuv, so uv_cancel "
                   "knows nothing of it: unlink it from the FIFO and deliver UV_ECANCELED on a "
                   "later turn. The calls behind it must still run.")
{
  use_pool_of("4");
  EXPECT_ERR("off_limiter_init()", 0, off_limiter_init(&lim, grade_loop(), 1));
  EXPECT_ERR("off_limiter_submit()", 0,
             off_limiter_submit(&lim, &calls[0], blocking_job, NULL, record_done));
  for (int i = 1; i < 4; i++)
    EXPECT_ERR("off_limiter_submit()", 0,
               off_limiter_submit(&lim, &calls[i], counted_job, NULL, record_done));
  EXPECT_ERR("off_cancel() on the second of three waiting calls", 0, off_cancel(&calls[2]));
  EXPECT_EQ("done calls inside off_cancel", 0, done_calls);
  EXPECT_EQ("calls waiting after the cancel", 2, lim.waiting);
  post_release(1);
  grade_run();
  EXPECT_EQ("done calls", 4, done_calls);
  EXPECT_ERR("done's status for the cancelled call", UV_ECANCELED, done_status[2]);
  EXPECT(done_result[2] == NULL, "result of the cancelled call must be NULL");
  EXPECT_EQ("runs of the calls around it", 2, fn_runs);
  EXPECT_ERR("done's status for the others", 0, done_status[0] | done_status[1] | done_status[3]);
}

GRADE_TEST(cancels_first_and_last_in_the_limiter_line, .points = 2, .timeout = 2,
           .clauses = "off.5 off.6 off.9 off.10 off.2", .section = "04-offloading#cancelling",
           .hint = "With limit 1: the running call cannot be cancelled (UV_EBUSY); the first and "
                   "the last waiting calls can (0), and leave the FIFO with its head and tail "
                   "right, so a call submitted after them still runs, in its turn.")
{
  use_pool_of("4");
  EXPECT_ERR("off_limiter_init()", 0, off_limiter_init(&lim, grade_loop(), 1));
  EXPECT_ERR("off_limiter_submit()", 0,
             off_limiter_submit(&lim, &calls[0], blocking_job, NULL, record_done));
  for (int i = 1; i < 4; i++)
    EXPECT_ERR("off_limiter_submit()", 0,
               off_limiter_submit(&lim, &calls[i], counted_job, NULL, record_done));
  /* Counted at submit ([off.9]): which calls are in the pool, whose cancel could race a
   * worker, is settled before any cancel. */
  EXPECT_EQ("calls running after four submits (limit 1)", 1, lim.running);
  EXPECT_EQ("calls waiting after four submits (limit 1)", 3, lim.waiting);
  wait_started(1);
  EXPECT_ERR("off_cancel() on the limiter's running call", UV_EBUSY, off_cancel(&calls[0]));
  EXPECT_ERR("off_cancel() on the first waiting call", 0, off_cancel(&calls[1]));
  EXPECT_ERR("off_cancel() on the last waiting call", 0, off_cancel(&calls[3]));
  EXPECT_EQ("done calls inside off_cancel", 0, done_calls);
  EXPECT_EQ("calls waiting after two cancels", 1, lim.waiting);
  EXPECT_ERR("off_limiter_submit() after the cancels", 0,
             off_limiter_submit(&lim, &calls[4], counted_job, NULL, record_done));
  EXPECT_EQ("calls waiting after one more submit", 2, lim.waiting);
  post_release(1);
  grade_run();
  EXPECT_EQ("done calls", 5, done_calls);
  EXPECT_ERR("done's status for the running call", 0, done_status[0]);
  EXPECT_ERR("done's status for the first waiting call", UV_ECANCELED, done_status[1]);
  EXPECT_ERR("done's status for the last waiting call", UV_ECANCELED, done_status[3]);
  EXPECT_ERR("done's status for the calls that ran", 0, done_status[2] | done_status[4]);
  EXPECT_EQ("fn runs (the two calls left waiting)", 2, fn_runs);
  EXPECT(ap_trace_find(grade_trace(), "done", 2, 0) < ap_trace_find(grade_trace(), "done", 4, 0),
         "the call submitted after the cancels ran before the one that waited longer");
}

GRADE_TEST(a_limited_call_cancelled_in_the_pool_frees_its_slot, .points = 2, .timeout = 2,
           .clauses = "off.6 off.10 off.5", .section = "04-offloading#cancelling",
           .hint = "A limited call handed to the pool is cancelled there like any call "
                   "(uv_cancel, then done gets UV_ECANCELED); its end frees its place in the "
                   "limiter, so the next waiting call goes to the pool.")
{
  /* One worker, held by a plain call: the limiter's two calls queue behind it. */
  use_pool_of("1");
  EXPECT_ERR("off_to_thread()", 0,
             off_to_thread(grade_loop(), &calls[0], blocking_job, NULL, record_done));
  wait_started(1);
  EXPECT_ERR("off_limiter_init()", 0, off_limiter_init(&lim, grade_loop(), 2));
  for (int i = 1; i < 4; i++)
    EXPECT_ERR("off_limiter_submit()", 0,
               off_limiter_submit(&lim, &calls[i], counted_job, NULL, record_done));
  EXPECT_ERR("off_cancel() on a limited call queued in the pool", 0, off_cancel(&calls[1]));
  EXPECT_EQ("done calls inside off_cancel", 0, done_calls);
  post_release(1);
  grade_run();
  EXPECT_EQ("done calls", 4, done_calls);
  EXPECT_ERR("done's status for the call cancelled in the pool", UV_ECANCELED, done_status[1]);
  EXPECT_ERR("done's status for the others", 0, done_status[0] | done_status[2] | done_status[3]);
  EXPECT_EQ("fn runs (the limited calls not cancelled)", 2, fn_runs);
  EXPECT(lim.running == 0 && lim.waiting == 0, "the limiter must end empty");
}

GRADE_LAB("04-offloading", &loop_stays_responsive, &done_runs_on_the_loop_thread,
          &results_and_errors_arrive_intact, &a_fn_that_fails_after_storing_gives_no_result,
          &calls_set_up_over_garbage_run_as_fresh_ones,
          &bad_arguments_are_rejected_without_a_callback,
          &a_queued_call_is_cancelled_and_never_runs, &a_running_call_cannot_be_cancelled,
          &a_finished_call_cannot_be_cancelled, &load_text_reads_a_file, &load_text_reports_errors,
          &load_text_works_when_descriptor_0_is_free, &load_text_reports_running_out_of_memory,
          &limiter_lets_file_io_through, &a_limiter_runs_exactly_its_limit,
          &limiter_keeps_fifo_order, &a_waiting_call_leaves_the_limiter_when_cancelled,
          &cancels_first_and_last_in_the_limiter_line,
          &a_limited_call_cancelled_in_the_pool_frees_its_slot)
