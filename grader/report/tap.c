/*
 * tap.c: results.tap, TAP version 13: a line per test, and for each that
 * did not pass a YAML block whose strings are JSON's (json.c).
 */
#include <stdio.h>

#include "report.h"

/* A raw '#' would start a TAP directive ("# SKIP") inside a test name. */
static void tap_chars(FILE *f, const char *s)
{
  const char *start;
  uint32_t c;

  while (*s) {
    start = s;
    c = rp_next_cp(&s);
    if (c == '#' || c == '\\')
      fprintf(f, "\\%c", (int) c);
    else if (c == '\t')
      fputc(' ', f);
    else if (rp_term_unsafe(c))
      fputs(RP_REPLACEMENT, f);
    else
      fwrite(start, 1, (size_t) (s - start), f);
  }
}

static void tap_yaml(FILE *f, const struct rp_test *t)
{
  fputs("  ---\n  message: ", f);
  rp_json_str(f, t->message, RP_MESSAGE_CAP);
  fprintf(f, "\n  severity: %s\n  points: %llu/%llu\n", rp_state_name(rp_test_state(t)),
          (unsigned long long) rp_test_score(t), (unsigned long long) t->max_points);
  if (*t->hint) {
    fputs("  hint: ", f);
    rp_json_str(f, t->hint, RP_MESSAGE_CAP);
    fputc('\n', f);
  }
  if (*t->output) {
    fputs("  output: ", f);
    rp_json_str(f, t->output, RP_OUTPUT_CAP);
    fputc('\n', f);
  }
  fputs("  ...\n", f);
}

void rp_write_tap(FILE *f, const struct rp_report *r)
{
  const struct rp_lab *lab;
  const struct rp_test *t;
  size_t i, j, k = 0;

  fprintf(f, "TAP version 13\n1..%zu\n", r->ntests);
  for (i = 0; i < r->nlabs; i++) {
    lab = &r->labs[i];
    if (!rp_lab_ok(lab)) {
      fputs("# ", f);
      tap_chars(f, lab->id);
      fprintf(f, ": %s\n", rp_lab_problem(lab));
    }
    for (j = 0; j < lab->count; j++) {
      t = &r->tests[lab->first + j];
      fprintf(f, "%sok %zu - ", rp_test_state(t) == RP_PASS ? "" : "not ", ++k);
      tap_chars(f, lab->id);
      fputs(": ", f);
      tap_chars(f, t->id);
      fputc('\n', f);
      if (rp_test_state(t) != RP_PASS)
        tap_yaml(f, t);
    }
  }
}
