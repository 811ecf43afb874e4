/* spawn.c — one test, in the harness's Check process for it.
 *
 * Starts the test program (tests + lab) with the test's id, its output sent
 * to the test's output file (size capped, stdin empty), and three
 * descriptors (grader.h): the report pipe, the nonce pipe and the
 * checkpoint page. It sends the nonce only once the program has said that
 * the body and the leak check ended, then waits for the program to end.
 * A pass needs all of it: the 'E', the nonce sent back, exit status 0.
 *
 * Lab code never runs here, so what is decided here cannot be rewritten by
 * it; what the lab does in its own process reaches this process only as
 * bytes on the report pipe, its exit status and its output file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "grader.h"

enum { OUTPUT_LIMIT_BYTES = 1 << 20, REPORT_MAX = GRADE_MESSAGE_MAX + GRADE_NONCE_LEN + 2 };

typedef struct outcome {
  int status; /* waitpid's */
  char report[REPORT_MAX + 1];
  size_t len;
  char checkpoint[GRADE_CHECKPOINT_SIZE + 1]; /* written by the test program: any bytes */
  char nonce[GRADE_NONCE_LEN + 1];
} outcome_t;

char *grade__read_file(const char *path, size_t limit)
{
  FILE *f = fopen(path, "rb");
  char *buf = calloc(limit + 1, 1);
  size_t n = 0;

  if (buf == NULL)
    abort();
  if (f != NULL) {
    n = fread(buf, 1, limit, f);
    fclose(f);
  }
  for (size_t i = 0; i < n; i++)
    if (buf[i] == '\0')
      buf[i] = ' ';
  return buf;
}

static void make_nonce(char *nonce)
{
  unsigned char raw[GRADE_NONCE_LEN / 2];
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

  if (fd < 0 || read(fd, raw, sizeof(raw)) != (ssize_t) sizeof(raw))
    ck_abort_msg("error\tthe grader cannot read /dev/urandom");
  close(fd);
  for (size_t i = 0; i < sizeof(raw); i++)
    snprintf(nonce + 2 * i, 3, "%02x", raw[i]);
}

/* In the new process: the descriptors in their places, nothing else open,
 * then the test program. Only async-signal-safe calls after fork. */
static void exec_test(const grade_run_t *run, const grade_test_t *t, int out, const int fds[3])
{
  struct rlimit cap = {OUTPUT_LIMIT_BYTES, OUTPUT_LIMIT_BYTES};
  int null = open("/dev/null", O_RDONLY);
  char *argv[] = {(char *) run->program, "--test", (char *) t->id, NULL};
  int high[3];

  if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
      dup2(out, STDERR_FILENO) < 0)
    _exit(126);
  /* Above the targets first: a source may sit where another must go. */
  for (int i = 0; i < 3; i++)
    if ((high[i] = fcntl(fds[i], F_DUPFD, GRADE_FD_CHECKPOINT + 1)) < 0)
      _exit(126);
  for (int i = 0; i < 3; i++)
    if (dup2(high[i], GRADE_FD_REPORT + i) < 0)
      _exit(126);
  closefrom(GRADE_FD_CHECKPOINT + 1);
  signal(SIGXFSZ, SIG_IGN); /* past the cap, writes fail instead of killing */
  signal(SIGPIPE, SIG_DFL);
  setrlimit(RLIMIT_FSIZE, &cap);
  execv(run->program, argv);
  _exit(127);
}

/* Reads until end of file; what does not fit is read and dropped, so that
 * the writer never blocks on a full pipe. */
static void read_report(int fd, outcome_t *o)
{
  char sink[512];

  for (;;) {
    char *at = o->len < REPORT_MAX ? o->report + o->len : sink;
    size_t room = o->len < REPORT_MAX ? REPORT_MAX - o->len : sizeof(sink);
    ssize_t n = read(fd, at, room);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    if (at != sink)
      o->len += (size_t) n;
  }
  o->report[o->len] = '\0';
}

/* The conversation: the first byte decides whether the nonce is owed. */
static void talk(int report, int nonce, outcome_t *o)
{
  ssize_t n;

  do
    n = read(report, o->report, 1);
  while (n < 0 && errno == EINTR);
  if (n == 1) {
    o->len = 1;
    if (o->report[0] == GRADE_REPORT_END && write(nonce, o->nonce, GRADE_NONCE_LEN) < 0)
      (void) 0; /* the program is gone: its exit status tells */
  }
  close(nonce);
  read_report(report, o);
}

static void start_and_wait(const grade_run_t *run, const grade_test_t *t, outcome_t *o)
{
  char path[4096];
  int report[2], nonce[2], page, out;
  char *cp;
  pid_t pid;

  snprintf(path, sizeof(path), "%s/%s.out", run->out_dir, t->id);
  out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  page = memfd_create("grade-checkpoint", MFD_CLOEXEC);
  if (out < 0 || page < 0 || ftruncate(page, GRADE_CHECKPOINT_SIZE) != 0 ||
      pipe2(report, O_CLOEXEC) != 0 || pipe2(nonce, O_CLOEXEC) != 0)
    ck_abort_msg("error\tthe grader cannot start the test: %s", strerror(errno));
  cp = mmap(NULL, GRADE_CHECKPOINT_SIZE, PROT_READ, MAP_SHARED, page, 0);
  signal(SIGPIPE, SIG_IGN); /* a program that died: write fails instead */
  pid = fork();
  if (pid == 0)
    exec_test(run, t, out, (int[3]){report[1], nonce[0], page});
  if (pid < 0)
    ck_abort_msg("error\tthe grader cannot start the test: %s", strerror(errno));
  close(report[1]);
  close(nonce[0]);
  talk(report[0], nonce[1], o);
  while (waitpid(pid, &o->status, 0) < 0 && errno == EINTR)
    ;
  if (cp != MAP_FAILED)
    memcpy(o->checkpoint, cp, GRADE_CHECKPOINT_SIZE);
  if (o->checkpoint[0] == '\0')
    snprintf(o->checkpoint, sizeof(o->checkpoint), "%s:%d", t->file, t->line);
}

/* A sanitizer report in the output says more than the exit status. */
static const char *sanitizer_line(const char *output)
{
  static const char *needles[] = {"SUMMARY: AddressSanitizer",
                                  "SUMMARY: UndefinedBehaviorSanitizer", "SUMMARY: LeakSanitizer",
                                  "runtime error:"};

  for (size_t i = 0; i < AP_COUNT_OF(needles); i++) {
    const char *hit = strstr(output, needles[i]);
    if (hit != NULL) {
      while (hit > output && hit[-1] != '\n')
        hit--;
      return hit;
    }
  }
  return NULL;
}

/* Any way but a pass or a failed assertion, said in the student's terms. */
static void fail_error(const grade_run_t *run, const grade_test_t *t, const outcome_t *o)
{
  char path[4096];
  char *output;
  const char *san;

  snprintf(path, sizeof(path), "%s/%s.out", run->out_dir, t->id);
  output = grade__read_file(path, OUTPUT_LIMIT_BYTES);
  san = sanitizer_line(output);
  if (san != NULL)
    ck_abort_msg("error\ta sanitizer stopped the test: %.*s", (int) strcspn(san, "\n"), san);
  /* A crash is not about the rule the test checks: its hint says how to find it. */
  if (WIFSIGNALED(o->status))
    ck_abort_msg("error\tA crash is a memory error in the lab's code (a NULL, freed or stale "
                 "pointer used) or an assertion of libuv's. To see the line, grade under "
                 "AddressSanitizer: make grade LAB=%.2s MODE=asan%c"
                 "the test crashed: %s (signal %d); last checkpoint %s",
                 run->all.lab, GRADE_HINT_END, strsignal(WTERMSIG(o->status)), WTERMSIG(o->status),
                 o->checkpoint);
  if (WEXITSTATUS(o->status) == 127 || WEXITSTATUS(o->status) == 126)
    ck_abort_msg("error\tthe grader could not start the test program %s", run->program);
  if (WEXITSTATUS(o->status) != 0)
    ck_abort_msg("error\tthe test process exited with status %d before the test ended: "
                 "lab code must return to its caller, never call exit()",
                 WEXITSTATUS(o->status));
  if (o->len > 0)
    ck_abort_msg("error\tthe test process's report to the grader was garbled: something "
                 "wrote to the grader's descriptors");
  ck_abort_msg("error\tthe test process ended with status 0 before the test reached "
               "its end: something called exit() or _exit(); lab code must return instead");
}

void grade__run_test(const grade_run_t *run, const grade_test_t *t)
{
  static outcome_t o;
  const char *rest = o.report;

  make_nonce(o.nonce);
  start_and_wait(run, t, &o);
  if (o.len > GRADE_NONCE_LEN && o.report[0] == GRADE_REPORT_END &&
      memcmp(o.report + 1, o.nonce, GRADE_NONCE_LEN) == 0)
    rest += 1 + GRADE_NONCE_LEN;
  if (rest[0] == GRADE_REPORT_FAIL)
    ck_abort_msg("fail\t%s", rest + 1);
  if (rest != o.report && rest[0] == '\0' && WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0)
    return;
  fail_error(run, t, &o);
}
