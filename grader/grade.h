/* grade.h — how a lab's graded tests are written.
 *
 * A test file declares its tests with GRADE_TEST (points, hint and chapter
 * section next to the body) and lists them once with GRADE_LAB, the table
 * the grader reads. Hidden tests go in tests/NN-slug/hidden/ with their own
 * GRADE_HIDDEN table (below). Each test runs in its own process with a
 * timeout; a crash, hang, early exit or failed leak check fails that test
 * only.
 *
 * A test file is compiled twice. The grader's harness is built from the
 * tables alone (GRADE_LIST_ONLY: no bodies, so no lab code): it runs every
 * test under Check's fork mode and writes the results. The test program
 * (tests + lab) runs one test's body when the harness starts it, and
 * reports back over a pipe (grader/child.c).
 *
 * Inside a test body:
 *  - grade_loop() is a fresh loop (an ap_rt_t runtime) and grade_trace() an
 *    empty event trace on it; both belong to the grader.
 *  - Use the EXPECT macros: they print what was expected and what was seen.
 *  - Return normally. After the body the grader runs the leak check (every
 *    handle closed, no pending request, no pending call-soon, no descriptor
 *    opened during the test still open, every block the lab allocated
 *    freed) and only then counts the test as reached its end. A block the
 *    lab hands to the test may be freed by the test with free(). A process that ends any other way
 *    (exit(0) included) fails the test.
 */
#ifndef GRADE_H
#define GRADE_H

#include <check.h>
#include <string.h>

#include "ap.h"

typedef struct grade_test {
  const char *id; /* the function name, unique in the lab */
  void (*body)(void);
  int points;
  const char *section; /* chapter anchor: "00-the-loop#the-close-protocol" */
  const char *hint;    /* one or two sentences: what to look at */
  const char *clauses; /* the header's clauses it checks: "sem.3 sem.4" (tools/clauses.sh) */
  double timeout;      /* seconds before the test counts as hung; 0: 5 s */
  int hidden;          /* 1: stripped from student handouts */
  const char *file;
  int line;
} grade_test_t;

#ifdef GRADE_LIST_ONLY
/* The harness: the table is kept, the bodies (and their calls into the lab)
 * are dropped by the optimiser; main is the harness's (grader/runner.c). */
#define GRADE_BODY_REF(name) NULL
#define GRADE_BODY_ATTR __attribute__((unused))
#define GRADE_MAIN grade_harness_main
#else
/* The test program: main runs the one test named on its command line. */
#define GRADE_BODY_REF(name) name##_body
#define GRADE_BODY_ATTR
#define GRADE_MAIN grade_test_main
#endif

#define GRADE_TEST(name, ...)                                                                      \
  static void name##_body(void) GRADE_BODY_ATTR;                                                   \
  static const grade_test_t name = {                                                               \
      .id = #name, .body = GRADE_BODY_REF(name), .file = __FILE__, .line = __LINE__, __VA_ARGS__}; \
  static void name##_body(void)

#define GRADE_LAB(lab_id, ...)                                                                     \
  int main(int argc, char **argv)                                                                  \
  {                                                                                                \
    static const grade_test_t *const tests[] = {__VA_ARGS__};                                      \
    return GRADE_MAIN(lab_id, tests, AP_COUNT_OF(tests), argc, argv);                              \
  }

int grade_harness_main(const char *lab, const grade_test_t *const *tests, size_t n, int argc,
                       char **argv);
int grade_test_main(const char *lab, const grade_test_t *const *tests, size_t n, int argc,
                    char **argv);

/* Hidden tests live in the folder tests/NN-slug/hidden/, with one
 * GRADE_HIDDEN table per lab. Student handouts do not ship that folder, so
 * they run only where the full repository is (the instructor's copy, the
 * gradebook). The runner finds the table by name (a weak reference) and
 * marks every test in it hidden. */
typedef struct grade_table {
  const grade_test_t *const *tests;
  size_t n;
} grade_table_t;

#define GRADE_HIDDEN(...)                                                                          \
  extern const grade_table_t grade_hidden_table;                                                   \
  static const grade_test_t *const grade_hidden_tests_[] = {__VA_ARGS__};                          \
  const grade_table_t grade_hidden_table = {grade_hidden_tests_, AP_COUNT_OF(grade_hidden_tests_)}

/* ---- Inside a test body --------------------------------------------------- */
uv_loop_t *grade_loop(void);
ap_trace_t *grade_trace(void);
/* Runs the loop until nothing is left to do. */
void grade_run(void);
/* Blocks the loop's thread for ms first, as a loaded machine may: every
 * timer started (since the loop last ran) with a timeout up to ms is then
 * due at the first turn and runs in that turn's timer phase, in deadline
 * order. A test that needs timers to end in one turn says so with this,
 * instead of hoping the machine is quick or slow. */
void grade_run_late(uint64_t ms);
/* Formats the trace (events starting with prefix) into a static buffer. */
const char *grade_trace_str(const char *prefix);
/* Out of memory in the lab's code only: from now on, the lab's next `after`
 * allocations succeed and every later one returns NULL (errno ENOMEM), until
 * grade_fail_alloc(-1). Counted: the calls to malloc, calloc, realloc,
 * strdup and strndup made by the lab's .c files (mk/lab.mk renames them;
 * grader/alloc.c says how). The tests, libuv, the helpers and the grader
 * are never affected; free is not counted. Each test starts with nothing
 * failing. */
void grade_fail_alloc(long after);

/* The hint shown if an assertion after this call fails, in place of the
 * test's own: a test that checks several things gives each its own, so the
 * hint is always about the failure shown. NULL: the test's own again; "":
 * none. The leak check that ends every test brings its own. */
void grade_hint(const char *hint);

/* Typed expectations. what names the quantity in the student's terms. */
#define EXPECT(cond, ...) ck_assert_msg((cond), __VA_ARGS__)

/* "%d attempt%s", n, GRADE_S(n): a message's plural. */
#define GRADE_S(n) ((n) == 1 ? "" : "s")

#define EXPECT_EQ(what, expected, actual)                                                          \
  do {                                                                                             \
    long long e_ = (long long) (expected), a_ = (long long) (actual);                              \
    ck_assert_msg(e_ == a_, "%s: expected %lld, got %lld", (what), e_, a_);                        \
  } while (0)

#define EXPECT_ERR(what, expected, actual)                                                         \
  do {                                                                                             \
    int e_ = (expected), a_ = (actual);                                                            \
    ck_assert_msg(e_ == a_, "%s: expected %s, got %s", (what), grade_err_name(e_),                 \
                  grade_err_name(a_));                                                             \
  } while (0)

#define EXPECT_STREQ(what, expected, actual)                                                       \
  do {                                                                                             \
    const char *e_ = (expected), *a_ = (actual);                                                   \
    ck_assert_msg(strcmp(e_, a_) == 0, "%s:\n  expected: %s\n  observed: %s", (what), e_, a_);     \
  } while (0)

/* "0" for 0, else "UV_EINVAL (-22)"; a static buffer per call site slot. */
const char *grade_err_name(int err);

#endif /* GRADE_H */
