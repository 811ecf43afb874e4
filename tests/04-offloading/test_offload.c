/* test_offload.c — graded tests for lab 04 (off_to_thread, off_cancel,
 * off_load_text, off_limiter_submit).
 *
 * No test looks at a clock. Blocking functions wait on a uv_sem_t that the
 * loop thread (or the test thread) posts, so a wrong solution deadlocks and
 * the test's timeout fails it; those tests get a short timeout. The grader
 * forks each test from a parent that never used the thread pool, so a test
 * may choose the pool's size with setenv() before its first queued job.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grade.h"
#include "loadtext.h"

/* ---- Shared: blocking jobs and what done saw -------------------------------- */

static uv_sem_t release; /* blocking jobs wait here */
static uv_sem_t started; /* blocking jobs post here first */
static uv_thread_t loop_thread;
static int done_calls;
static int done_status[8];
static void *done_result[8];
static uv_thread_t done_thread;
static int fn_runs; /* written by workers, read after their done */

static void use_pool_of(const char *size)
{
  EXPECT(setenv("UV_THREADPOOL_SIZE", size, 1) == 0, "setenv failed");
  uv_sem_init(&release, 0);
  uv_sem_init(&started, 0);
  loop_thread = uv_thread_self();
}

static int blocking_job(void *arg, void **result)
{
  (void) arg, (void) result;
  uv_sem_post(&started);
  uv_sem_wait(&release);
  return 0;
}

static int counted_job(void *arg, void **result)
{
  (void) arg, (void) result;
  fn_runs++;
  return 0;
}

static void post_release(int n)
{
  while (n-- > 0)
    uv_sem_post(&release);
}

static long index_in(off_call_t *calls, off_call_t *call)
{
  return (long) (call - calls);
}

static void never_done(off_call_t *call, int status, void *result)
{
  (void) call, (void) result;
  ck_abort_msg("done was called (status %s) although the call returned an error",
               grade_err_name(status));
}

/* ---- to_thread ---------------------------------------------------------------- */

static ap_probe_t probe;
static off_call_t calls[8];

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

GRADE_TEST(loop_stays_responsive, .points = 3, .timeout = 2, .section = "04-offloading#to-thread",
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

GRADE_TEST(done_runs_on_the_loop_thread, .points = 2, .timeout = 2,
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

static int make_answer(void *arg, void **result)
{
  char *text = malloc(16);

  (void) arg;
  if (text == NULL)
    return UV_ENOMEM;
  strcpy(text, "forty-two");
  *result = text;
  return 0;
}

static int fail_with(void *arg, void **result)
{
  (void) result;
  return (int) (intptr_t) arg;
}

static void record_done(off_call_t *call, int status, void *result)
{
  long i = index_in(calls, call);

  done_status[i] = status;
  done_result[i] = result;
  done_calls++;
  ap_trace_add(grade_trace(), "done", i, status);
}

GRADE_TEST(results_and_errors_arrive_intact, .points = 2, .timeout = 2,
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

GRADE_TEST(rejects_bad_arguments, .points = 1, .section = "04-offloading#to-thread",
           .hint = "Check fn and done before queueing anything; on error return UV_EINVAL and "
                   "never call done.")
{
  off_limiter_t lim;
  off_text_t text;

  EXPECT_ERR("off_to_thread() without fn", UV_EINVAL,
             off_to_thread(grade_loop(), &calls[0], NULL, NULL, never_done));
  EXPECT_ERR("off_to_thread() without done", UV_EINVAL,
             off_to_thread(grade_loop(), &calls[0], counted_job, NULL, NULL));
  EXPECT_ERR("off_limiter_init() with limit 0", UV_EINVAL, off_limiter_init(&lim, grade_loop(), 0));
  EXPECT_ERR("off_load_text() without a path", UV_EINVAL,
             off_load_text(grade_loop(), &text, NULL, NULL));
  grade_run();
}

/* ---- Cancel ------------------------------------------------------------------- */

GRADE_TEST(cancel_a_queued_call, .points = 3, .timeout = 2, .section = "04-offloading#cancelling",
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

GRADE_TEST(cancel_a_running_call_is_busy, .points = 2, .timeout = 2,
           .section = "04-offloading#cancelling",
           .hint = "Once a worker runs fn nothing can stop it: uv_cancel returns UV_EBUSY, and "
                   "off_cancel must pass that on. done then gets fn's own status and result.")
{
  use_pool_of("2");
  EXPECT_ERR("off_to_thread()", 0,
             off_to_thread(grade_loop(), &calls[0], answer_when_released, NULL, record_done));
  uv_sem_wait(&started); /* fn is running now */
  EXPECT_ERR("off_cancel() on a running call", UV_EBUSY, off_cancel(&calls[0]));
  post_release(1);
  grade_run();
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_ERR("done's status for the call that could not be cancelled", 0, done_status[0]);
  EXPECT(done_result[0] == &release, "done did not get the result fn stored");
}

/* ---- load_text ------------------------------------------------------------------ */

/* The files live in a fresh mkdtemp directory that every path out of a test
 * removes: the normal end, and a TODO stub (through ap_todo_hook). A failed
 * EXPECT ends the process at once, so the tests remove the files first. */
enum { BIG = 20 * 1000 };
static char dir[64];
static char path[3][128];
static char *expected_big;
static int text_status[3];
static char *text_got[3];
static size_t text_len[3];
static off_text_t texts[3];
static void (*grader_todo_hook)(const char *func, const char *file, int line);

static void remove_files(void)
{
  unlink(path[0]);
  unlink(path[1]);
  rmdir(dir);
}

static void remove_files_then_todo(const char *func, const char *file, int line)
{
  remove_files();
  grader_todo_hook(func, file, line);
}

static void write_file(const char *p, const char *bytes, size_t n)
{
  FILE *f = fopen(p, "wb");
  int ok = f != NULL && fwrite(bytes, 1, n, f) == n;

  if (f != NULL && fclose(f) != 0)
    ok = 0;
  if (!ok)
    remove_files();
  EXPECT(ok, "cannot write %s", p);
}

/* A fresh directory with "big" (BIG bytes), "empty", and the name of a file
 * that does not exist. */
static void make_files(void)
{
  static char bytes[BIG];

  strcpy(dir, "/tmp/off-test-XXXXXX");
  EXPECT(mkdtemp(dir) != NULL, "mkdtemp failed");
  grader_todo_hook = ap_todo_hook;
  ap_todo_hook = remove_files_then_todo;
  snprintf(path[0], sizeof(path[0]), "%s/big", dir);
  snprintf(path[1], sizeof(path[1]), "%s/empty", dir);
  snprintf(path[2], sizeof(path[2]), "%s/missing", dir);
  for (size_t i = 0; i < BIG; i++)
    bytes[i] = i % 61 == 60 ? '\n' : (char) ('a' + i % 26);
  expected_big = bytes;
  write_file(path[0], bytes, BIG);
  write_file(path[1], "", 0);
}

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

GRADE_TEST(load_text_reads_a_file, .points = 2, .timeout = 2, .section = "04-offloading#load-text",
           .hint = "Read until read() returns 0, growing the buffer as it fills; end the text "
                   "with a NUL and report the length without it. An empty file is \"\", not "
                   "an error.")
{
  int big_ok, empty_ok;

  use_pool_of("4");
  make_files();
  for (int i = 0; i < 2; i++)
    EXPECT_ERR("off_load_text()", 0, off_load_text(grade_loop(), &texts[i], path[i], record_text));
  grade_run();
  remove_files();
  big_ok = text_is(0, expected_big, BIG);
  empty_ok = text_is(1, "", 0);
  free(text_got[0]);
  free(text_got[1]);
  EXPECT_EQ("callbacks", 2, done_calls);
  EXPECT_ERR("status for a 20 kB file", 0, text_status[0]);
  EXPECT_EQ("length of the 20 kB file", BIG, text_len[0]);
  EXPECT(big_ok, "the text of the 20 kB file differs from the file's bytes (or lacks its NUL)");
  EXPECT_ERR("status for an empty file", 0, text_status[1]);
  EXPECT(empty_ok, "an empty file must give \"\" (a NUL) and length 0");
  EXPECT(uv_thread_equal(&done_thread, &loop_thread), "the callback must run on the loop thread");
}

GRADE_TEST(load_text_reports_errors, .points = 2, .timeout = 2,
           .section = "04-offloading#load-text",
           .hint = "Turn errno into a libuv error with uv_translate_sys_error(errno), for open() "
                   "and for read() alike: a missing file is UV_ENOENT, and reading a directory "
                   "fails with UV_EISDIR. text is NULL then.")
{
  use_pool_of("4");
  make_files();
  EXPECT_ERR("off_load_text()", 0, off_load_text(grade_loop(), &texts[0], path[2], record_text));
  EXPECT_ERR("off_load_text()", 0, off_load_text(grade_loop(), &texts[1], dir, record_text));
  grade_run();
  remove_files();
  EXPECT_EQ("callbacks", 2, done_calls);
  EXPECT_ERR("status for a missing file", UV_ENOENT, text_status[0]);
  EXPECT_ERR("status for a directory", UV_EISDIR, text_status[1]);
  EXPECT(text_got[0] == NULL && text_got[1] == NULL, "text after an error must be NULL");
}

/* ---- Bounded offloader ---------------------------------------------------------- */

static off_limiter_t lim;
static uv_fs_t stat_req;
static int stat_status = 1;
static int jobs_done_at_stat = -1;

static void on_stat(uv_fs_t *req)
{
  stat_status = (int) req->result;
  jobs_done_at_stat = done_calls;
  uv_fs_req_cleanup(req);
  post_release(3);
}

GRADE_TEST(limiter_lets_file_io_through, .points = 3, .timeout = 2,
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
  EXPECT_ERR("uv_fs_stat()", 0, uv_fs_stat(grade_loop(), &stat_req, ".", on_stat));
  grade_run();
  EXPECT_ERR("uv_fs_stat's result", 0, stat_status);
  EXPECT_EQ("limited jobs done when uv_fs_stat answered", 0, jobs_done_at_stat);
  EXPECT_EQ("done calls", 3, done_calls);
}

static void trace_done(off_call_t *call, int status, void *result)
{
  (void) result;
  ap_trace_add(grade_trace(), "done", index_in(calls, call), status);
  done_calls++;
}

GRADE_TEST(limiter_keeps_fifo_order, .points = 2, .timeout = 2,
           .section = "04-offloading#bounded-offloader",
           .hint = "Waiting calls leave the FIFO oldest first, one each time a running call "
                   "finishes; with limit 1 they run one after the other in submission order.")
{
  char want[64] = "";

  use_pool_of("4");
  EXPECT_ERR("off_limiter_init()", 0, off_limiter_init(&lim, grade_loop(), 1));
  for (int i = 0; i < 5; i++)
    EXPECT_ERR("off_limiter_submit()", 0,
               off_limiter_submit(&lim, &calls[i], counted_job, NULL, trace_done));
  EXPECT_EQ("calls running right after five submits with limit 1", 1, lim.running);
  EXPECT_EQ("calls waiting right after five submits with limit 1", 4, lim.waiting);
  grade_run();
  for (int i = 0; i < 5; i++)
    snprintf(want + strlen(want), sizeof(want) - strlen(want), "%sdone:%d", i ? " " : "", i);
  EXPECT_STREQ("done order", want, grade_trace_str("done"));
  EXPECT_EQ("fn runs", 5, fn_runs);
  EXPECT(lim.running == 0 && lim.waiting == 0, "the limiter must end empty");
}

GRADE_TEST(cancel_a_call_waiting_in_the_limiter, .points = 2, .timeout = 2,
           .section = "04-offloading#cancelling",
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
  EXPECT_EQ("runs of the calls around it", 2, fn_runs);
  EXPECT_ERR("done's status for the others", 0, done_status[0] | done_status[1] | done_status[3]);
}

GRADE_LAB("04-offloading", &loop_stays_responsive, &done_runs_on_the_loop_thread,
          &results_and_errors_arrive_intact, &rejects_bad_arguments, &cancel_a_queued_call,
          &cancel_a_running_call_is_busy, &load_text_reads_a_file, &load_text_reports_errors,
          &limiter_lets_file_io_through, &limiter_keeps_fifo_order,
          &cancel_a_call_waiting_in_the_limiter)
