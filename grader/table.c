/* table.c — a lab's tests as both grader programs see them: the public
 * table, then the hidden one. In both libraries (libharness.a and
 * libgrade.a), so that the harness and the test program agree on the list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader.h"

int grade__collect_tests(grade_tests_t *all, const char *lab, const grade_test_t *const *tests,
                         size_t n)
{
  const grade_table_t *hidden = &grade_hidden_table; /* NULL: no hidden/ */
  size_t extra = hidden != NULL ? hidden->n : 0;

  *all = (grade_tests_t){.lab = lab};
  all->tests = calloc(n + extra + 1, sizeof(*all->tests));
  if (all->tests == NULL)
    abort();
  for (size_t i = 0; i < n; i++)
    all->tests[all->n++] = tests[i];
  all->n_public = all->n;
  for (size_t i = 0; i < extra; i++)
    all->tests[all->n++] = hidden->tests[i];
  for (size_t i = 0; i < all->n; i++)
    if (grade__find_test(all, all->tests[i]->id) != all->tests[i]) {
      fprintf(stderr, "grader: two tests of %s are named %s\n", lab, all->tests[i]->id);
      return -1;
    }
  return 0;
}

const grade_test_t *grade__find_test(const grade_tests_t *all, const char *id)
{
  for (size_t i = 0; i < all->n; i++)
    if (strcmp(all->tests[i]->id, id) == 0)
      return all->tests[i];
  return NULL;
}
