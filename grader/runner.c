/* runner.c — the grader's parent process for one lab.
 *
 * Usage: <lab-runner> --out RESULTS_DIR [--build-failed LOG]
 *
 * Runs every test of the lab's table in its own process under Check (fork
 * mode, one test case per test so that each has its own timeout), then
 * writes RESULTS_DIR/raw/<lab>.rec for the reporter. A test passes only when
 * Check saw it pass AND it wrote the end marker with this run's token: Check
 * alone counts a process that exits with status 0 mid-test as a pass.
 *
 * The tests are the lab's GRADE_LAB table followed by its GRADE_HIDDEN table
 * when the lab's hidden/ folder was compiled in; the latter are recorded as
 * hidden.
 *
 * The parent never runs lab code and never starts a loop or the thread pool:
 * a fork copies only the calling thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grader.h"

enum { DEFAULT_TIMEOUT_S = 5, OUTPUT_EXCERPT = 2000 };

static grade_run_t run;

START_TEST(run_one_test)
{
  grade__run_in_child(&run, run.tests[_i]);
}
END_TEST

/* ---- Record file: tab-separated, with \\ \t \n \r escaped ----------------- */

static void put_field(FILE *f, const char *s)
{
  fputc('\t', f);
  for (; s != NULL && *s != '\0'; s++) {
    switch (*s) {
    case '\\': fputs("\\\\", f); break;
    case '\t': fputs("\\t", f); break;
    case '\n': fputs("\\n", f); break;
    case '\r': fputs("\\r", f); break;
    default: fputc(*s, f);
    }
  }
}

static void put_lab(FILE *f, const char *status, const char *message)
{
  fputs("lab", f);
  put_field(f, run.lab);
  put_field(f, status);
  put_field(f, message);
  fputc('\n', f);
}

static int is_hidden(const grade_test_t *t)
{
  for (size_t i = run.n_public; i < run.n; i++)
    if (run.tests[i] == t)
      return 1;
  return 0;
}

static void put_test(FILE *f, const grade_test_t *t, const char *status, const char *message,
                     const char *output)
{
  char num[32];

  fputs("test", f);
  put_field(f, run.lab);
  put_field(f, t->id);
  put_field(f, status);
  snprintf(num, sizeof(num), "%d", strcmp(status, "pass") == 0 ? t->points : 0);
  put_field(f, num);
  snprintf(num, sizeof(num), "%d", t->points);
  put_field(f, num);
  put_field(f, t->hidden || is_hidden(t) ? "1" : "0");
  put_field(f, t->section);
  put_field(f, t->hint);
  put_field(f, message);
  put_field(f, t->file);
  snprintf(num, sizeof(num), "%d", t->line);
  put_field(f, num);
  put_field(f, output);
  fputc('\n', f);
}

/* ---- Reading what a test process left behind ------------------------------- */

static char *read_file(const char *path, size_t limit)
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
      buf[i] = ' '; /* the record format cannot carry NUL */
  return buf;
}

static int reached_end(const grade_test_t *t)
{
  char path[4096];
  char *marker;
  int ok;

  snprintf(path, sizeof(path), "%s/%s.done", run.out_dir, t->id);
  marker = read_file(path, sizeof(run.token));
  ok = strcmp(marker, run.token) == 0;
  free(marker);
  return ok;
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

static double timeout_of(const grade_test_t *t)
{
  return t->timeout > 0 ? t->timeout : DEFAULT_TIMEOUT_S;
}

static double timeout_multiplier(void)
{
  const char *m = getenv("CK_TIMEOUT_MULTIPLIER");

  return m != NULL && atof(m) > 0 ? atof(m) : 1.0;
}

/* Turns Check's terse error into what happened and what to look at. */
static void explain_error(const grade_test_t *t, TestResult *r, const char *output, char *msg,
                          size_t size)
{
  const char *check_msg = tr_msg(r);
  const char *san = sanitizer_line(output);
  int signo = 0, status = 0;

  if (san != NULL) {
    snprintf(msg, size, "a sanitizer stopped the test: %.*s", (int) strcspn(san, "\n"), san);
  } else if (strstr(check_msg, "timeout") != NULL) {
    snprintf(msg, size,
             "the test did not finish within %.0f s: something waits forever "
             "(a callback that is never called, or a handle that keeps the loop alive)",
             timeout_of(t) * timeout_multiplier());
  } else if (sscanf(check_msg, "Received signal %d", &signo) == 1) {
    snprintf(msg, size, "the test crashed: %s (signal %d); last checkpoint %s:%d", strsignal(signo),
             signo, tr_lfile(r), tr_lno(r));
  } else if (sscanf(check_msg, "Early exit with return value %d", &status) == 1) {
    snprintf(msg, size,
             "the test process exited with status %d before the test ended: "
             "lab code must return to its caller, never call exit()",
             status);
  } else {
    snprintf(msg, size, "%s", check_msg);
  }
}

static void record_result(FILE *rec, const grade_test_t *t, TestResult *r)
{
  char path[4096], msg[4096];
  char *output;
  const char *status = "error";

  snprintf(path, sizeof(path), "%s/%s.out", run.out_dir, t->id);
  output = read_file(path, OUTPUT_EXCERPT);
  if (r == NULL) {
    snprintf(msg, sizeof(msg), "the test did not run (the grader lost its result)");
  } else if (tr_rtype(r) == CK_PASS && reached_end(t)) {
    status = "pass";
    msg[0] = '\0';
  } else if (tr_rtype(r) == CK_PASS) {
    snprintf(msg, sizeof(msg),
             "the test process ended with status 0 before the test reached "
             "its end: something called exit() or _exit(); lab code must return instead");
  } else if (tr_rtype(r) == CK_FAILURE) {
    status = "fail";
    snprintf(msg, sizeof(msg), "%s", tr_msg(r));
  } else {
    explain_error(t, r, output, msg, sizeof(msg));
  }
  put_test(rec, t, status, msg, output);
  free(output);
}

static TestResult *result_named(TestResult **results, int count, const char *id)
{
  for (int i = 0; i < count; i++)
    if (strcmp(tr_tcname(results[i]), id) == 0)
      return results[i];
  return NULL;
}

static Suite *build_suite(void)
{
  Suite *s = suite_create(run.lab);

  for (size_t i = 0; i < run.n; i++) {
    TCase *tc = tcase_create(run.tests[i]->id);
    tcase_set_timeout(tc, timeout_of(run.tests[i]));
    tcase_add_loop_test(tc, run_one_test, (int) i, (int) i + 1);
    suite_add_tcase(s, tc);
  }
  return s;
}

static void make_token(void)
{
  unsigned char raw[16] = {0};
  int fd = open("/dev/urandom", O_RDONLY);

  if (fd < 0 || read(fd, raw, sizeof(raw)) != (ssize_t) sizeof(raw)) {
    fprintf(stderr, "grader: cannot read /dev/urandom\n");
    exit(2);
  }
  close(fd);
  for (size_t i = 0; i < sizeof(raw); i++)
    snprintf(run.token + 2 * i, 3, "%02x", raw[i]);
}

static void run_tests(FILE *rec)
{
  SRunner *sr = srunner_create(build_suite());
  TestResult **results;
  int count;

  /* Isolation is not optional: ignore CK_FORK and any case filter. */
  unsetenv("CK_RUN_CASE");
  unsetenv("CK_RUN_SUITE");
  unsetenv("CK_INCLUDE_TAGS");
  unsetenv("CK_EXCLUDE_TAGS");
  srunner_set_fork_status(sr, CK_FORK);
  srunner_run_all(sr, CK_SILENT);
  results = srunner_results(sr);
  count = srunner_ntests_run(sr);
  put_lab(rec, "ok", "");
  for (size_t i = 0; i < run.n; i++)
    record_result(rec, run.tests[i], result_named(results, count, run.tests[i]->id));
  free(results);
  srunner_free(sr);
}

/* The lab did not compile: every test is listed, failed, with the reason. */
static void report_build_failure(FILE *rec, const char *log_path)
{
  char *log = read_file(log_path, 16384);

  put_lab(rec, "build-failed", log);
  for (size_t i = 0; i < run.n; i++)
    put_test(rec, run.tests[i], "error",
             "the lab did not compile (see the compiler's messages above)", "");
  free(log);
}

static int make_dirs(const char *path)
{
  char buf[2048];

  snprintf(buf, sizeof(buf), "%s", path);
  for (char *p = buf + 1; *p != '\0'; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
      return -1;
    *p = '/';
  }
  return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* The lab's table, then its hidden one when the hidden/ folder was built in.
 * Returns 0, or -1 (and says why) when two tests share an id. */
static int collect_tests(const grade_test_t *const *tests, size_t n)
{
  const grade_table_t *hidden = &grade_hidden_table; /* NULL: no hidden/ */
  size_t extra = hidden != NULL ? hidden->n : 0;

  run.tests = calloc(n + extra + 1, sizeof(*run.tests));
  if (run.tests == NULL)
    abort();
  for (size_t i = 0; i < n; i++)
    run.tests[run.n++] = tests[i];
  run.n_public = run.n;
  for (size_t i = 0; i < extra; i++)
    run.tests[run.n++] = hidden->tests[i];
  for (size_t i = 0; i < run.n; i++)
    for (size_t j = 0; j < i; j++)
      if (strcmp(run.tests[i]->id, run.tests[j]->id) == 0) {
        fprintf(stderr, "grader: two tests of %s are named %s\n", run.lab, run.tests[i]->id);
        return -1;
      }
  return 0;
}

static void usage(void)
{
  fprintf(stderr, "usage: %s-runner --out RESULTS_DIR [--build-failed LOG]\n", run.lab);
  exit(2);
}

int grade_main(const char *lab, const grade_test_t *const *tests, size_t n, int argc, char **argv)
{
  const char *results_dir = NULL, *build_log = NULL;
  FILE *rec;

  run.lab = lab;
  if (collect_tests(tests, n) != 0)
    return 2;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
      results_dir = argv[++i];
    else if (strcmp(argv[i], "--build-failed") == 0 && i + 1 < argc)
      build_log = argv[++i];
    else
      usage();
  }
  if (results_dir == NULL)
    usage();
  snprintf(run.out_dir, sizeof(run.out_dir), "%s/output/%s", results_dir, lab);
  snprintf(run.rec_path, sizeof(run.rec_path), "%s/raw", results_dir);
  if (make_dirs(run.out_dir) != 0 || make_dirs(run.rec_path) != 0) {
    fprintf(stderr, "grader: cannot create %s: %s\n", run.out_dir, strerror(errno));
    return 2;
  }
  snprintf(run.rec_path, sizeof(run.rec_path), "%s/raw/%s.rec", results_dir, lab);
  rec = fopen(run.rec_path, "w");
  if (rec == NULL) {
    fprintf(stderr, "grader: cannot write %s: %s\n", run.rec_path, strerror(errno));
    return 2;
  }
  make_token();
  if (build_log != NULL)
    report_build_failure(rec, build_log);
  else
    run_tests(rec);
  return fclose(rec) == 0 ? 0 : 2;
}
