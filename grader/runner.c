/* runner.c — the grader's harness for one lab: runs its tests, writes its record.
 *
 *   <lab>/harness --tests PROGRAM --out RESULTS_DIR [--note TEXT] [--only ID,...]
 *                 [--first-failure]
 *   <lab>/harness --not-run STATUS LOG
 *
 * Built from the tests' tables alone (GRADE_LIST_ONLY): no lab code is
 * linked in, so none runs here, before, during or after the tests. Each
 * test runs under its own Check runner (fork mode, so that each has its
 * own process and timeout); in that process, spawn.c starts the test program
 * (tests + lab) and turns what it reports into Check's verdict.
 *
 * The record goes to stdout, for the reporter (grader/report/), and only
 * from here (put_lab, put_test): grade.sh stores it as raw/<lab>.rec, a file
 * no test process is given. Test outputs go to RESULTS_DIR/output/<lab>/.
 * --note puts TEXT on the lab's line (files the build skipped, say).
 * --only runs the tests listed and --first-failure none after the first
 * that does not pass: make check's shortcuts for a mutant's verdict (the
 * tests not run are not recorded; the gradebook and make grade never pass
 * them).
 * --not-run records every test as an error, the lab's status STATUS
 * (build-failed: the lab did not compile; refused: its code does what lab
 * code may not) and LOG's text as its message.
 *
 * The tests are the lab's GRADE_LAB table followed by its GRADE_HIDDEN table
 * when the lab's hidden/ folder was compiled in; the latter are recorded as
 * hidden.
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
  grade__run_test(&run, run.all.tests[_i]);
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
  put_field(f, run.all.lab);
  put_field(f, status);
  put_field(f, message);
  fputc('\n', f);
}

static int is_hidden(const grade_test_t *t)
{
  for (size_t i = run.all.n_public; i < run.all.n; i++)
    if (run.all.tests[i] == t)
      return 1;
  return 0;
}

static void put_test(FILE *f, const grade_test_t *t, const char *status, const char *hint,
                     const char *message, const char *output)
{
  char num[32];

  fputs("test", f);
  put_field(f, run.all.lab);
  put_field(f, t->id);
  put_field(f, status);
  snprintf(num, sizeof(num), "%d", strcmp(status, "pass") == 0 ? t->points : 0);
  put_field(f, num);
  snprintf(num, sizeof(num), "%d", t->points);
  put_field(f, num);
  put_field(f, t->hidden || is_hidden(t) ? "1" : "0");
  put_field(f, t->section);
  put_field(f, hint);
  put_field(f, message);
  put_field(f, t->file);
  snprintf(num, sizeof(num), "%d", t->line);
  put_field(f, num);
  put_field(f, output);
  fputc('\n', f);
}

/* ---- What Check saw of each test's process -------------------------------- */

static double timeout_of(const grade_test_t *t)
{
  return t->timeout > 0 ? t->timeout : DEFAULT_TIMEOUT_S;
}

static double timeout_multiplier(void)
{
  const char *m = getenv("CK_TIMEOUT_MULTIPLIER");

  return m != NULL && atof(m) > 0 ? atof(m) : 1.0;
}

/* A hang is not about the rule the test checks (as a crash is not, spawn.c):
 * its hint says where hangs come from, so that the same hint on many tests
 * and on Next: points at the one cause. */
static const char HANG_HINT[] =
    "A hang is about the loop, not about this test's rule: uv_run returns only once nothing "
    "is left active. Look for a handle never closed (a timer, a stream, an idle or async "
    "handle), a repeating timer never stopped, or a callback waited for that nothing will "
    "call. A test that did finish names what it left open in its leak check.";

/* Check's own errors: a timeout, or the harness's process for the test
 * stopped (which only something outside the grader can do). Sets *hint. */
static void explain_error(const grade_test_t *t, TestResult *r, char *msg, size_t size,
                          const char **hint)
{
  if (strstr(tr_msg(r), "timeout") != NULL) {
    snprintf(msg, size,
             "the test did not finish within %.0f s: something waits forever "
             "(a callback that is never called, or a handle that keeps the loop alive)",
             timeout_of(t) * timeout_multiplier());
    *hint = HANG_HINT;
  } else {
    snprintf(msg, size, "the grader's process for this test stopped: %s", tr_msg(r));
  }
}

static void record_result(FILE *rec, const grade_test_t *t, TestResult *r)
{
  char path[4096], msg[GRADE_MESSAGE_MAX + 64];
  char *output, *hint_end;
  const char *status = "error", *tab, *hint = t->hint, *message = msg;

  snprintf(path, sizeof(path), "%s/%s.out", run.out_dir, t->id);
  output = grade__read_file(path, OUTPUT_EXCERPT);
  msg[0] = '\0';
  if (r == NULL) {
    snprintf(msg, sizeof(msg), "the test did not run (the grader lost its result)");
  } else if (tr_rtype(r) == CK_PASS) {
    status = "pass";
  } else if (tr_rtype(r) == CK_FAILURE && (tab = strchr(tr_msg(r), '\t')) != NULL) {
    status = strncmp(tr_msg(r), "fail\t", 5) == 0 ? "fail" : "error"; /* spawn.c's verdict */
    snprintf(msg, sizeof(msg), "%s", tab + 1);
    /* A failed assertion brings the hint in effect then (grade_hint), a crash
     * its own (spawn.c). */
    if ((hint_end = strchr(msg, GRADE_HINT_END)) != NULL) {
      *hint_end = '\0';
      hint = msg;
      message = hint_end + 1;
    }
  } else {
    explain_error(t, r, msg, sizeof(msg), &hint);
  }
  put_test(rec, t, status, hint, message, output);
  free(output);
}

/* One test under its own Check runner (fork mode: its own process and
 * timeout), recorded; returns whether it passed. */
static int run_and_record(FILE *rec, size_t i)
{
  const grade_test_t *t = run.all.tests[i];
  Suite *s = suite_create(run.all.lab);
  TCase *tc = tcase_create(t->id);
  SRunner *sr;
  TestResult **results;
  int ran, passed;

  tcase_set_timeout(tc, timeout_of(t));
  tcase_add_loop_test(tc, run_one_test, (int) i, (int) i + 1);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_FORK);
  srunner_run_all(sr, CK_SILENT);
  results = srunner_results(sr);
  ran = srunner_ntests_run(sr) == 1;
  record_result(rec, t, ran ? results[0] : NULL);
  passed = ran && tr_rtype(results[0]) == CK_PASS;
  free(results);
  srunner_free(sr);
  return passed;
}

/* Whether id is one of list's ids (separated by commas). */
static int is_listed(const char *list, const char *id)
{
  size_t len = strlen(id);

  for (const char *p = list; (p = strstr(p, id)) != NULL; p += len)
    if ((p == list || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
      return 1;
  return 0;
}

/* Every id in --only's list is a test of the lab: a misspelt one is an
 * error, not a test silently left out. */
static int lists_only_tests(const char *only)
{
  size_t listed = 1, found = 0;

  for (const char *p = only; *p != '\0'; p++)
    listed += *p == ',';
  for (size_t i = 0; i < run.all.n; i++)
    found += is_listed(only, run.all.tests[i]->id);
  if (found == listed)
    return 1;
  fprintf(stderr, "grader: --only %s names a test that %s does not have\n", only, run.all.lab);
  return 0;
}

/* The tests in table order, each recorded once it has run. */
static void run_tests(FILE *rec, const char *note, const char *only, int first_failure)
{
  /* Isolation is not optional: ignore CK_FORK and any case filter. */
  unsetenv("CK_RUN_CASE");
  unsetenv("CK_RUN_SUITE");
  unsetenv("CK_INCLUDE_TAGS");
  unsetenv("CK_EXCLUDE_TAGS");
  put_lab(rec, "ok", note);
  for (size_t i = 0; i < run.all.n; i++) {
    if (only != NULL && !is_listed(only, run.all.tests[i]->id))
      continue;
    if (!run_and_record(rec, i) && first_failure)
      break;
  }
}

/* The lab was not run: every test is listed, as an error, with the reason,
 * and a hint about that reason, not about each test's rule. */
static void report_not_run(FILE *rec, const char *status, const char *log_path)
{
  char *log = grade__read_file(log_path, 16384);
  int build = strcmp(status, "build-failed") == 0;
  const char *why = build ? "the lab did not compile (see the compiler's messages above)"
                          : "not run: the lab's code does what lab code may not (see above)";
  const char *hint =
      build ? "Fix the compiler's first error, shown above the table: the labs build with "
              "-Wall -Wextra -Werror, so a warning (an unused variable or static function, a "
              "missing prototype) stops the build too."
            : "Lab code may call only what grader/allowed-symbols.txt lists (the C library's "
              "and libuv's usual calls; no exit, fork or raw system calls), run nothing "
              "before main and include only its own and system headers: the messages above "
              "name what was refused.";

  put_lab(rec, status, log);
  for (size_t i = 0; i < run.all.n; i++)
    put_test(rec, run.all.tests[i], "error", hint, why, "");
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

static void usage(void)
{
  fprintf(stderr, "usage: harness --tests PROGRAM --out RESULTS_DIR [--note TEXT] [--only ID,...]\n"
                  "               [--first-failure]\n"
                  "       harness --not-run build-failed|refused LOG\n");
  exit(2);
}

int grade_harness_main(const char *lab, const grade_test_t *const *tests, size_t n, int argc,
                       char **argv)
{
  const char *results_dir = NULL, *note = "", *status = NULL, *log = NULL, *only = NULL;
  int first_failure = 0;

  if (grade__collect_tests(&run.all, lab, tests, n) != 0)
    return 2;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--tests") == 0 && i + 1 < argc)
      run.program = argv[++i];
    else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
      results_dir = argv[++i];
    else if (strcmp(argv[i], "--note") == 0 && i + 1 < argc)
      note = argv[++i];
    else if (strcmp(argv[i], "--not-run") == 0 && i + 2 < argc)
      status = argv[++i], log = argv[++i];
    else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
      only = argv[++i];
    else if (strcmp(argv[i], "--first-failure") == 0)
      first_failure = 1;
    else
      usage();
  }
  if (status != NULL) {
    report_not_run(stdout, status, log);
    return fflush(stdout) == 0 ? 0 : 2;
  }
  if (results_dir == NULL || run.program == NULL)
    usage();
  if (only != NULL && !lists_only_tests(only))
    return 2;
  snprintf(run.out_dir, sizeof(run.out_dir), "%s/output/%s", results_dir, lab);
  if (make_dirs(run.out_dir) != 0) {
    fprintf(stderr, "grader: cannot create %s: %s\n", run.out_dir, strerror(errno));
    return 2;
  }
  run_tests(stdout, note, only, first_failure);
  return fflush(stdout) == 0 ? 0 : 2;
}
