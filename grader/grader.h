/* grader.h — shared between the grader's parent (runner.c) and the code that
 * runs in each test's process (child.c). Not for test files. */
#ifndef GRADER_H
#define GRADER_H

#include "grade.h"

/* Defined by a lab's hidden/ folder (GRADE_HIDDEN) when it is there. */
extern const grade_table_t grade_hidden_table __attribute__((weak));

typedef struct grade_run {
  const char *lab;
  const grade_test_t **tests; /* the public tests, then the hidden ones */
  size_t n;
  size_t n_public;
  char out_dir[2048];  /* per-test output and end markers */
  char rec_path[2048]; /* the lab's record file, read by the reporter */
  char token[40];      /* written by a test that reached its end */
} grade_run_t;

/* The blocks the lab allocated and has not freed (grader/alloc.c); their
 * total size in *bytes when bytes is not NULL. */
size_t grade_lab_live_blocks(size_t *bytes);

void grade__run_in_child(const grade_run_t *run, const grade_test_t *t);

#endif /* GRADER_H */
