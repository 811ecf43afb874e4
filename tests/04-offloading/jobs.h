/* jobs.h — lab 04's tests (public and hidden): blocking jobs, a pool of a
 * chosen size, and files in a fresh directory.
 *
 * No test looks at a clock. Blocking functions wait on a uv_sem_t that the
 * loop thread (or the test thread) posts, so a wrong solution deadlocks and
 * the test's timeout fails it; those tests get a short timeout. The grader
 * forks each test from a parent that never used the thread pool, so a test
 * may choose the pool's size with setenv() before its first queued job:
 * with every worker blocked, a later call is certainly still queued.
 */
#ifndef OFF_TESTS_JOBS_H
#define OFF_TESTS_JOBS_H

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grade.h"
#include "offload.h"

#define JOBS_UNUSED __attribute__((unused))

static uv_sem_t release;          /* blocking jobs wait here */
static uv_sem_t started;          /* blocking jobs post here first */
static atomic_int fn_runs;        /* counted_job's runs, on any worker */
static uv_thread_t loop_thread;   /* the test's (and the loop's) thread */
static int storage JOBS_UNUSED;   /* what fail_after_storing stores */

/* Must come before the first job: the pool reads its size once. */
static inline void use_pool_of(const char *size)
{
  EXPECT(setenv("UV_THREADPOOL_SIZE", size, 1) == 0, "setenv failed");
  uv_sem_init(&release, 0);
  uv_sem_init(&started, 0);
  loop_thread = uv_thread_self();
}

static inline void post_release(int n)
{
  while (n-- > 0)
    uv_sem_post(&release);
}

/* Waits until n blocking jobs run on workers (a test that never gets them
 * hangs, and its timeout fails it). */
static inline void wait_started(int n)
{
  while (n-- > 0)
    uv_sem_wait(&started);
}

/* Holds a worker until the test posts release. */
static inline int blocking_job(void *arg, void **result)
{
  (void) arg, (void) result;
  uv_sem_post(&started);
  uv_sem_wait(&release);
  return 0;
}

static inline int counted_job(void *arg, void **result)
{
  (void) arg, (void) result;
  atomic_fetch_add(&fn_runs, 1);
  return 0;
}

/* Returns the libuv error arg holds. */
static inline int fail_with(void *arg, void **result)
{
  (void) result;
  return (int) (intptr_t) arg;
}

/* Stores a result, then fails with UV_EIO: the result must not reach done. */
static inline int fail_after_storing(void *arg, void **result)
{
  (void) arg;
  *result = &storage;
  return UV_EIO;
}

/* Stores "forty-two" in a fresh block that done frees. */
static inline int make_answer(void *arg, void **result)
{
  char *text = malloc(16);

  (void) arg;
  if (text == NULL)
    return UV_ENOMEM;
  strcpy(text, "forty-two");
  *result = text;
  return 0;
}

/* ---- Files -------------------------------------------------------------------
 * The files live in a fresh mkdtemp directory that every path out of a test
 * removes: the normal end, and a TODO stub (through ap_todo_hook). A failed
 * EXPECT ends the process at once, so the tests remove the files first. */
enum { MAX_FILES = 8 };
static char dir[64];
static char file_path[MAX_FILES][128];
static size_t files;
static void (*grader_todo_hook)(const char *func, const char *file, int line);

static inline void remove_files(void)
{
  for (size_t i = 0; i < files; i++)
    unlink(file_path[i]);
  rmdir(dir);
}

static inline void remove_files_then_todo(const char *func, const char *file, int line)
{
  remove_files();
  grader_todo_hook(func, file, line);
}

static inline void make_dir(void)
{
  strcpy(dir, "/tmp/off-test-XXXXXX");
  EXPECT(mkdtemp(dir) != NULL, "mkdtemp failed");
  grader_todo_hook = ap_todo_hook;
  ap_todo_hook = remove_files_then_todo;
}

/* Writes dir/name with n bytes; returns its path. */
static inline const char *write_file(const char *name, const char *bytes, size_t n)
{
  char *p = file_path[files++];
  FILE *f;
  int ok;

  snprintf(p, sizeof(file_path[0]), "%s/%s", dir, name);
  f = fopen(p, "wb");
  ok = f != NULL && fwrite(bytes, 1, n, f) == n;
  if (f != NULL && fclose(f) != 0)
    ok = 0;
  if (!ok)
    remove_files();
  EXPECT(ok, "cannot write %s", p);
  return p;
}

/* Fills what the caller hands the lab unzeroed: structs set up over this
 * must behave as fresh ones ([off.7], [off.8], [text.7]). */
static inline void garbage(void *p, size_t n)
{
  memset(p, 0xa5, n);
}

/* n calls and a limiter of limit, all over garbage, the limiter initialised. */
static inline void set_up_over_garbage(off_call_t *calls, size_t n, off_limiter_t *lim,
                                       unsigned limit)
{
  garbage(calls, n * sizeof(*calls));
  garbage(lim, sizeof(*lim));
  EXPECT_ERR("off_limiter_init() over garbage", 0, off_limiter_init(lim, grade_loop(), limit));
}

/* Submits calls[from..to) to lim, each with fn (no argument) and done. */
static inline void submit_each(off_limiter_t *lim, off_call_t *calls, int from, int to, off_fn fn,
                               off_done_cb done)
{
  for (int i = from; i < to; i++)
    EXPECT_ERR("off_limiter_submit()", 0, off_limiter_submit(lim, &calls[i], fn, NULL, done));
}

/* n bytes of lines of letters, the same for the same n. */
static inline char *letters(size_t n)
{
  char *bytes = malloc(n + 1);

  EXPECT(bytes != NULL, "out of memory in the test");
  for (size_t i = 0; i < n; i++)
    bytes[i] = i % 61 == 60 ? '\n' : (char) ('a' + i % 26);
  bytes[n] = '\0';
  return bytes;
}

#endif /* OFF_TESTS_JOBS_H */
