/* child.c — the test program: runs one test when the harness starts it.
 *
 *   <lab>/tests --test ID      (started by the harness, grader/spawn.c)
 *
 * It gives the test a fresh loop, runs the body, runs the leak check, and
 * only then says so on the report descriptor and echoes the nonce the
 * harness sends in return (grader.h). It also stands in for Check's two
 * assertion entry points: a failed EXPECT sends its message to the harness
 * and ends the process; a passed one records where it was (the checkpoint
 * page), so that a crash can say how far the test got. The harness, not
 * this process, decides and writes the result.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "grade.h"
#include "grader.h"
#include "stub.h"

enum { MAX_TRACKED_FD = 4096 };

static ap_rt_t test_rt;
static ap_trace_t test_trace;
static const grade_test_t *test_running;
static const char *test_hint; /* grade_hint(); NULL: the test's own */

uv_loop_t *grade_loop(void)
{
  return &test_rt.loop;
}

ap_trace_t *grade_trace(void)
{
  return &test_trace;
}

void grade_hint(const char *hint)
{
  test_hint = hint;
}

void grade_run(void)
{
  ap_rt_run(&test_rt);
}

void grade_run_late(uint64_t ms)
{
  uv_sleep((unsigned int) ms + 1); /* + 1: the loop's clock counts whole ms */
  grade_run();
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

/* grader/report/tally.c reads this message (stub.h) to say which function to write next. */
static void fail_not_implemented(const char *func, const char *file, int line)
{
  ck_abort_msg(GRADE_STUB_HEAD "%s" GRADE_STUB_MID "%s:%d" GRADE_STUB_TAIL, func, file, line);
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
  grade_hint("The test's own checks passed; what the lab left behind did not. Every test ends "
             "with this check: each handle closed (its memory freed in its close callback), each "
             "request completed, each descriptor closed, each allocation freed.");
  check_handles();
  check_descriptors();
  check_memory(lab);
}

/* ---- Talking to the harness ----------------------------------------------- */

static char *checkpoint; /* the shared page, else a private one (run by hand) */

static void send_report(const char *buf, size_t len)
{
  while (len > 0) {
    ssize_t n = write(GRADE_FD_REPORT, buf, len);
    if (n <= 0) {
      fprintf(stderr, "%.*s\n", (int) len, buf); /* run by hand: say it here */
      return;
    }
    buf += n;
    len -= (size_t) n;
  }
}

/* Check's: every passed assertion (and mark_point) comes here. */
void _mark_point(const char *file, int line)
{
  snprintf(checkpoint, GRADE_CHECKPOINT_SIZE, "%s:%d", file, line);
}

/* Check's: a failed assertion. The first one ends the process; another
 * thread failing meanwhile waits for that end. */
void _ck_assert_failed(const char *file, int line, const char *expr, const char *msg, ...)
{
  static atomic_flag failing = ATOMIC_FLAG_INIT;
  char buf[GRADE_MESSAGE_MAX];
  const char *hint = test_hint;
  size_t head;
  va_list ap;

  while (atomic_flag_test_and_set(&failing))
    pause();
  _mark_point(file, line);
  if (hint == NULL)
    hint = test_running != NULL && test_running->hint != NULL ? test_running->hint : "";
  head = (size_t) snprintf(buf, sizeof(buf) / 2, "%c%s%c", GRADE_REPORT_FAIL, hint, GRADE_HINT_END);
  if (head >= sizeof(buf) / 2) /* a hint too long for its half: cut, still ended */
    head = sizeof(buf) / 2 - 1, buf[head - 1] = GRADE_HINT_END;
  if (msg != NULL) {
    va_start(ap, msg);
    vsnprintf(buf + head, sizeof(buf) - head, msg, ap);
    va_end(ap);
  } else {
    snprintf(buf + head, sizeof(buf) - head, "%s", expr);
  }
  send_report(buf, strlen(buf));
  _exit(1);
}

/* The body and the leak check ended: 'E', then the nonce back. */
static void report_end(void)
{
  char nonce[1 + GRADE_NONCE_LEN] = {GRADE_REPORT_END};
  size_t got = 0;

  send_report(nonce, 1);
  while (got < GRADE_NONCE_LEN) {
    ssize_t n = read(GRADE_FD_NONCE, nonce + got, GRADE_NONCE_LEN - got);
    if (n <= 0)
      return; /* no nonce, no pass */
    got += (size_t) n;
  }
  send_report(nonce, GRADE_NONCE_LEN);
  close(GRADE_FD_REPORT);
}

/* The harness's descriptors: kept from what the test starts (close-on-exec),
 * the page mapped and its descriptor closed. */
static void claim_descriptors(void)
{
  static char private_page[GRADE_CHECKPOINT_SIZE];
  void *page = mmap(NULL, GRADE_CHECKPOINT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                    GRADE_FD_CHECKPOINT, 0);

  checkpoint = page != MAP_FAILED ? page : private_page;
  close(GRADE_FD_CHECKPOINT);
  fcntl(GRADE_FD_REPORT, F_SETFD, FD_CLOEXEC);
  fcntl(GRADE_FD_NONCE, F_SETFD, FD_CLOEXEC);
}

static void run_test(const char *lab, const grade_test_t *t)
{
  int err;

  setvbuf(stdout, NULL, _IOLBF, 0);
  ap_todo_hook = fail_not_implemented;
  err = ap_rt_init(&test_rt);
  ck_assert_msg(err == 0, "grader: uv_loop_init failed: %s", uv_strerror(err));
  ap_trace_init(&test_trace, &test_rt.loop);
  each_open_fd(mark_open, NULL);
  _mark_point(t->file, t->line); /* a crash before any assertion: the test's start */
  test_running = t;

  t->body();

  check_leaks(lab);
  ap_trace_free(&test_trace);
}

int grade_test_main(const char *lab, const grade_test_t *const *tests, size_t n, int argc,
                    char **argv)
{
  static grade_tests_t all; /* reachable to the end: LeakSanitizer runs at exit */
  const grade_test_t *t = NULL;

  if (argc == 3 && strcmp(argv[1], "--test") == 0 && grade__collect_tests(&all, lab, tests, n) == 0)
    t = grade__find_test(&all, argv[2]);
  if (t == NULL) {
    fprintf(stderr, "usage: %s --test ID (the grader's harness starts it)\n", argv[0]);
    return 2;
  }
  claim_descriptors();
  run_test(lab, t);
  report_end();
  return 0;
}
