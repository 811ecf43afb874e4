/* grader.h — shared by the grader's two programs. Not for test files.
 *
 * The harness (runner.c, spawn.c, table.c: libharness.a) is linked with the
 * tests' tables alone and never loads lab code: it runs each test under
 * Check and writes the results. The test program (child.c, alloc.c,
 * table.c: libgrade.a) is the tests, the lab and the helpers: the harness
 * starts it once per test, and it reports over pipes on fixed descriptors.
 *
 * The report (test program to harness) is either
 *   'F' hint US message  an assertion failed (the program then exits 1); the
 *                        hint in effect then (grade_hint; US is '\x1f'), or
 *   'E' nonce            the body and the leak check ended; the harness
 *                        sends the nonce only after it has read the 'E'.
 * The nonce is in no process that runs lab code before the body has ended.
 */
#ifndef GRADER_H
#define GRADER_H

#include "grade.h"

enum {
  GRADE_FD_REPORT = 3,     /* test program -> harness */
  GRADE_FD_NONCE = 4,      /* harness -> test program, after the 'E' */
  GRADE_FD_CHECKPOINT = 5, /* a shared page: "file:line" of the last assertion passed */
  GRADE_CHECKPOINT_SIZE = 4096,
  GRADE_NONCE_LEN = 32,
  GRADE_MESSAGE_MAX = 4096, /* Check's CK_MAX_MSG_SIZE */
};

#define GRADE_REPORT_FAIL 'F'
#define GRADE_REPORT_END 'E'
#define GRADE_HINT_END '\x1f' /* ends the hint in an 'F' report */

/* Defined by a lab's hidden/ folder (GRADE_HIDDEN) when it is there. */
extern const grade_table_t grade_hidden_table __attribute__((weak));

typedef struct grade_tests {
  const char *lab;
  const grade_test_t **tests; /* the public tests, then the hidden ones */
  size_t n;
  size_t n_public;
} grade_tests_t;

/* The lab's table, then its hidden one when the hidden/ folder was built
 * in. Returns 0, or -1 (and says why on stderr) when two tests share an id. */
int grade__collect_tests(grade_tests_t *all, const char *lab, const grade_test_t *const *tests,
                         size_t n);
const grade_test_t *grade__find_test(const grade_tests_t *all, const char *id);

/* ---- The harness ------------------------------------------------------------ */

typedef struct grade_run {
  grade_tests_t all;
  const char *program; /* the test program */
  char out_dir[2048];  /* per-test output files */
} grade_run_t;

/* In Check's process for test t: starts the test program and returns if the
 * test passed; otherwise fails the Check test with "fail<TAB>message" or
 * "error<TAB>message" (runner.c splits them); the message may begin with
 * a hint ended by GRADE_HINT_END. */
void grade__run_test(const grade_run_t *run, const grade_test_t *t);

/* Up to limit bytes of the file at path, NUL-terminated, NULs made blanks
 * (the record format cannot carry them); "" when unreadable. */
char *grade__read_file(const char *path, size_t limit);

/* ---- The test program -------------------------------------------------------- */

/* The blocks the lab allocated and has not freed (grader/alloc.c); their
 * total size in *bytes when bytes is not NULL. */
size_t grade_lab_live_blocks(size_t *bytes);

#endif /* GRADER_H */
