/* child.c — what runs inside each test's own process.
 *
 * Check forks one process per test and calls grade__run_in_child() there.
 * It isolates the test (its output goes to a file, its file size is capped,
 * stdin is empty), gives it a fresh loop, runs the body, runs the leak check,
 * and only then writes the "reached the end" marker. Nothing the lab prints
 * can stand in for that marker: the parent reads results from Check's pipe
 * and from the marker, never from the test's stdout.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "grade.h"
#include "grader.h"
#include "stub.h"

enum { OUTPUT_LIMIT_BYTES = 1 << 20 };

static ap_rt_t test_rt;
static ap_trace_t test_trace;

uv_loop_t *grade_loop(void)
{
  return &test_rt.loop;
}

ap_trace_t *grade_trace(void)
{
  return &test_trace;
}

void grade_run(void)
{
  ap_rt_run(&test_rt);
}

const char *grade_trace_str(const char *prefix)
{
  static char buf[8192];

  return ap_trace_format(&test_trace, prefix, buf, sizeof(buf));
}

const char *grade_err_name(int err)
{
  static char bufs[4][48];
  static int next;
  char *buf = bufs[next++ % 4];

  if (err == 0)
    return "0";
  if (err < 0)
    snprintf(buf, sizeof(bufs[0]), "UV_%s (%d)", uv_err_name(err), err);
  else
    snprintf(buf, sizeof(bufs[0]), "%d", err);
  return buf;
}

/* grader/report.c reads this message (stub.h) to say which function to write next. */
static void fail_not_implemented(const char *func, const char *file, int line)
{
  ck_abort_msg(GRADE_STUB_HEAD "%s" GRADE_STUB_MID "%s:%d" GRADE_STUB_TAIL, func, file, line);
}

/* Sends stdout and stderr to the test's output file, capped so that a
 * runaway print loop cannot fill the disk before the timeout. */
static void isolate_output(const char *path)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int devnull = open("/dev/null", O_RDONLY);
  struct rlimit cap = {OUTPUT_LIMIT_BYTES, OUTPUT_LIMIT_BYTES};

  if (fd >= 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
  }
  if (devnull >= 0) {
    dup2(devnull, STDIN_FILENO);
    close(devnull);
  }
  signal(SIGXFSZ, SIG_IGN); /* past the cap, writes fail instead of killing */
  setrlimit(RLIMIT_FSIZE, &cap);
  setvbuf(stdout, NULL, _IOLBF, 0);
}

static void write_marker(const char *path, const char *token)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

  if (fd < 0)
    return; /* the parent will report the test as not finished */
  if (write(fd, token, strlen(token)) < 0)
    (void) 0;
  close(fd);
}

static void check_leaks(void)
{
  ap_leaks_t leaks;

  if (ap_rt_close(&test_rt, &leaks) != 0)
    ck_abort_msg("leak check: when the test ended, %s. Every handle must be "
                 "closed with uv_close() and the loop run until its close "
                 "callback has run; every request must have completed.",
                 leaks.text);
}

void grade__run_in_child(const grade_run_t *run, const grade_test_t *t)
{
  char path[4096];
  int err;

  snprintf(path, sizeof(path), "%s/%s.out", run->out_dir, t->id);
  isolate_output(path);
  ap_todo_hook = fail_not_implemented;
  err = ap_rt_init(&test_rt);
  ck_assert_msg(err == 0, "grader: uv_loop_init failed: %s", uv_strerror(err));
  ap_trace_init(&test_trace, &test_rt.loop);

  t->body();

  check_leaks();
  ap_trace_free(&test_trace);
  snprintf(path, sizeof(path), "%s/%s.done", run->out_dir, t->id);
  write_marker(path, run->token);
}
