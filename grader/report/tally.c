/*
 * tally.c: the states of tests, labs and the report, their scores, and the
 * words for what went wrong (a lab that did not build, a starter's stub).
 *
 * A test's status is the runner's word, untrusted: anything but "pass" and
 * "fail" counts as an error, and a lab whose status is not "ok" is an error
 * whatever its tests say.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../stub.h"
#include "report.h"

enum rp_state rp_test_state(const struct rp_test *t)
{
  if (strcmp(t->status, "pass") == 0)
    return RP_PASS;
  if (strcmp(t->status, "fail") == 0)
    return RP_FAIL;
  return RP_ERROR; /* "error", and anything a broken runner invents */
}

uint64_t rp_test_score(const struct rp_test *t)
{
  return rp_test_state(t) == RP_PASS ? t->points : 0;
}

bool rp_lab_ok(const struct rp_lab *lab)
{
  return strcmp(lab->status, "ok") == 0;
}

enum rp_state rp_lab_state(const struct rp_lab *lab)
{
  if (!rp_lab_ok(lab))
    return RP_ERROR;
  return lab->failures + lab->errors ? RP_FAIL : RP_PASS;
}

const char *rp_state_name(enum rp_state s)
{
  return s == RP_PASS ? "pass" : s == RP_FAIL ? "fail" : "error";
}

static void tally_lab(struct rp_report *r, struct rp_lab *lab)
{
  const struct rp_test *t;
  size_t i;

  for (i = 0; i < lab->count; i++) {
    t = &r->tests[lab->first + i];
    lab->score += rp_test_score(t);
    lab->max_score += t->max_points;
    lab->passed += rp_test_state(t) == RP_PASS;
    lab->failures += rp_test_state(t) == RP_FAIL;
    lab->errors += rp_test_state(t) == RP_ERROR;
    r->any_hidden |= t->hidden;
    r->nhidden += t->hidden;
  }
  r->score += lab->score;
  r->max_score += lab->max_score;
  r->passed += lab->passed;
  r->failures += lab->failures;
  r->errors += lab->errors;
  r->all_labs_ok &= rp_lab_ok(lab);
}

void rp_tally(struct rp_report *r)
{
  size_t i;

  r->all_labs_ok = true;
  for (i = 0; i < r->nlabs; i++)
    tally_lab(r, &r->labs[i]);
  r->failed = r->failures + r->errors;
}

enum rp_state rp_report_state(const struct rp_report *r)
{
  if (!r->all_labs_ok)
    return RP_ERROR;
  return r->failed ? RP_FAIL : RP_PASS;
}

/*
 * --strict also fails a crashed runner whose surviving tests all passed:
 * the missing tests never reached max_score, so the score alone would lie;
 * and a run whose grader files were tampered with.
 */
bool rp_perfect(const struct rp_report *r)
{
  return r->ntests > 0 && r->all_labs_ok && r->score >= r->max_score && !r->ntampered;
}

const char *rp_lab_problem(const struct rp_lab *lab)
{
  if (strcmp(lab->status, "build-failed") == 0)
    return "build failed";
  if (strcmp(lab->status, "runner-crashed") == 0)
    return "the grader's runner crashed";
  if (strcmp(lab->status, "refused") == 0)
    return "not run: the lab's code does what lab code may not";
  return "unknown lab status";
}

/* "lab: build failed: first line of its message", one line per bad lab. */
char *rp_problem_summary(const struct rp_report *r)
{
  char *buf = NULL;
  size_t size = 0, i;
  FILE *f = open_memstream(&buf, &size);
  const struct rp_lab *lab;

  if (!f)
    rp_die("%s", "out of memory", errno);
  for (i = 0; i < r->nlabs; i++) {
    lab = &r->labs[i];
    if (rp_lab_ok(lab))
      continue;
    fprintf(f, "%s%s: %s", ftell(f) ? "\n" : "", lab->id, rp_lab_problem(lab));
    if (*lab->message)
      fprintf(f, ": %.*s", (int) rp_first_line_len(lab->message, RP_TABLE_LINE_CAP), lab->message);
  }
  if (r->ntampered)
    fprintf(f, "%sthe grader was changed: %zu finding(s)", ftell(f) ? "\n" : "",
            r->ntampered + r->tampered_more);
  fclose(f);
  return buf;
}

/*
 * A test that stopped at a starter's stub fails with grader/child.c's
 * message "not implemented yet: FUNC() at FILE:LINE still has its TODO
 * stub" (stub.h; AP_TODO, helpers/todo.c, says where it is).  Its hint is about
 * what the test checks, not about that function: the next step is to
 * write the function.  Fills the two spans; false for any other failure.
 */
bool rp_todo_stub(const struct rp_test *t, struct rp_stub *st)
{
  static const char head[] = GRADE_STUB_HEAD, mid[] = GRADE_STUB_MID, tail[] = GRADE_STUB_TAIL;
  const char *s = t->message, *at, *end = s + strcspn(s, "\n");
  size_t n = sizeof tail - 1;

  if (rp_test_state(t) != RP_FAIL || strncmp(s, head, sizeof head - 1) != 0)
    return false;
  s += sizeof head - 1;
  at = strstr(s, mid);
  if (!at || at == s || at > end || (size_t) (end - at) <= sizeof mid - 1 + n ||
      memcmp(end - n, tail, n) != 0)
    return false;
  st->func = s;
  st->func_len = (int) (at - s);
  st->where = at + sizeof mid - 1;
  st->where_len = (int) (end - n - st->where);
  return st->func_len < 200 && st->where_len < 4000;
}

/* The first test that did not pass, or NULL. */
const struct rp_test *rp_first_failing(const struct rp_report *r)
{
  size_t i;

  for (i = 0; i < r->ntests; i++)
    if (rp_test_state(&r->tests[i]) != RP_PASS)
      return &r->tests[i];
  return NULL;
}
