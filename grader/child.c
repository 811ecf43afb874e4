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
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "grade.h"
#include "grader.h"
#include "stub.h"

enum { OUTPUT_LIMIT_BYTES = 1 << 20, MAX_TRACKED_FD = 4096 };

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

/* ---- Descriptors: those open after the loop started, and those left --- */

static unsigned char fd_was_open[MAX_TRACKED_FD];

/* Calls fn for each descriptor this process has open (but the listing's own). */
static void each_open_fd(void (*fn)(int fd, void *arg), void *arg)
{
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;

  if (d == NULL)
    return; /* no /proc: descriptors are not checked */
  while ((e = readdir(d)) != NULL) {
    int fd = atoi(e->d_name);
    if (e->d_name[0] != '.' && fd != dirfd(d))
      fn(fd, arg);
  }
  closedir(d);
}

static void mark_open(int fd, void *arg)
{
  (void) arg;
  if (fd >= 0 && fd < MAX_TRACKED_FD)
    fd_was_open[fd] = 1;
}

/* Appends "fd 7 (/tmp/x)" for a descriptor the test left open. */
static void describe_new_fd(int fd, void *arg)
{
  char *text = arg, link[64], target[256];
  size_t len = strlen(text);
  ssize_t n;

  if (fd >= 0 && fd < MAX_TRACKED_FD && fd_was_open[fd])
    return;
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  n = readlink(link, target, sizeof(target) - 1);
  target[n > 0 ? n : 0] = '\0';
  if (len < 900)
    snprintf(text + len, 1024 - len, "%sfd %d (%s)", len > 0 ? ", " : "", fd, target);
}

/* ---- The checks every test ends with ---------------------------------------- */

static void check_handles(void)
{
  ap_leaks_t leaks;

  if (ap_rt_close(&test_rt, &leaks) != 0)
    ck_abort_msg("leak check: when the test ended, %s. Every handle must be "
                 "closed with uv_close() and the loop run until its close "
                 "callback has run; every request must have completed.",
                 leaks.text);
}

/* Descriptors opened during the test: the loop's own were open before the
 * body ran and closed with the loop, so whatever is new was the lab's. */
static void check_descriptors(void)
{
  char text[1024] = "";

  each_open_fd(describe_new_fd, text);
  ck_assert_msg(text[0] == '\0',
                "leak check: when the test ended, %s was still open. A file the lab "
                "opens (uv_fs_open) must be closed (uv_fs_close), and a handle's "
                "descriptor goes with uv_close().",
                text);
}

static void check_memory(const char *lab)
{
  size_t bytes, blocks = grade_lab_live_blocks(&bytes);

  ck_assert_msg(blocks == 0,
                "leak check: when the test ended, %zu block%s (%zu bytes) that the lab "
                "allocated %s never freed. Free what the lab allocates once nothing "
                "refers to it (a handle's memory in its close callback). To see where "
                "each was allocated, grade under AddressSanitizer: make grade LAB=%.2s "
                "MODE=asan",
                blocks, blocks == 1 ? "" : "s", bytes, blocks == 1 ? "was" : "were", lab);
}

static void check_leaks(const char *lab)
{
  check_handles();
  check_descriptors();
  check_memory(lab);
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
  each_open_fd(mark_open, NULL);

  t->body();

  check_leaks(run->lab);
  ap_trace_free(&test_trace);
  snprintf(path, sizeof(path), "%s/%s.done", run->out_dir, t->id);
  write_marker(path, run->token);
}
