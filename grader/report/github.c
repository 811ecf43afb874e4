/*
 * github.c: what GitHub Actions reads: ::error workflow commands, one per
 * failure, on stdout before the table, and a Markdown table appended to
 * $GITHUB_STEP_SUMMARY.  Each has its own escaping; student text never
 * ends a command or a table cell early.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

/*
 * Workflow-command escaping: %, CR and LF always; ':' and ',' too inside
 * property values, where they would end the value.  Control characters go
 * as in the table, since the log is shown in a terminal emulator.
 */
static void gha_chars(const char *s, size_t len, bool property)
{
  const char *end = s + len, *start;
  uint32_t c;

  while (s < end) {
    start = s;
    c = rp_next_cp(&s);
    if (c == '%')
      fputs("%25", stdout);
    else if (c == '\r')
      fputs("%0D", stdout);
    else if (c == '\n')
      fputs("%0A", stdout);
    else if (property && c == ':')
      fputs("%3A", stdout);
    else if (property && c == ',')
      fputs("%2C", stdout);
    else if (rp_term_unsafe(c))
      fputs(RP_REPLACEMENT, stdout);
    else
      fwrite(start, 1, (size_t) (s - start), stdout);
  }
}

static void gha_capped(const char *s, size_t cap)
{
  bool cut;

  gha_chars(s, rp_prefix_len(s, cap, &cut), false);
  if (cut)
    fputs(RP_TRUNCATED, stdout);
}

static void gha_test(const struct rp_lab *lab, const struct rp_test *t)
{
  struct rp_stub stub;

  fputs("::error ", stdout);
  if (*t->file) {
    fputs("file=", stdout);
    gha_chars(t->file, strlen(t->file), true);
    if (t->line)
      printf(",line=%llu", (unsigned long long) t->line);
    fputc(',', stdout);
  }
  fputs("title=", stdout);
  gha_chars(lab->id, strlen(lab->id), true);
  gha_chars(": ", 2, true);
  gha_chars(t->id, strlen(t->id), true);
  fputs("::", stdout);
  gha_capped(*t->message ? t->message : rp_state_name(rp_test_state(t)), RP_MESSAGE_CAP);
  if (*t->hint && !rp_todo_stub(t, &stub)) { /* a hint about another function */
    fputs("%0Ahint: ", stdout);
    gha_capped(t->hint, RP_MESSAGE_CAP);
  }
  putchar('\n');
}

/* A lab that did not build gets its own annotation: the compiler's words. */
static void gha_lab(const struct rp_lab *lab)
{
  fputs("::error title=", stdout);
  gha_chars(lab->id, strlen(lab->id), true);
  gha_chars(": ", 2, true);
  gha_chars(rp_lab_problem(lab), strlen(rp_lab_problem(lab)), true);
  fputs("::", stdout);
  gha_capped(*lab->message ? lab->message : rp_lab_problem(lab), RP_MESSAGE_CAP);
  putchar('\n');
}

static void gha_tampered(const struct rp_report *r)
{
  size_t i;

  printf("::error title=grader changed::%zu finding(s), this score will not count:",
         r->ntampered + r->tampered_more);
  for (i = 0; i < r->ntampered && i < RP_TAMPER_SHOWN; i++) {
    fputs(i ? ", " : " ", stdout);
    gha_capped(r->tampered[i].path, RP_TABLE_LINE_CAP);
  }
  putchar('\n');
}

void rp_gha_annotations(const struct rp_report *r)
{
  const struct rp_lab *lab;
  size_t i, j;

  if (r->ntampered)
    gha_tampered(r);
  for (i = 0; i < r->nlabs; i++) {
    lab = &r->labs[i];
    if (!rp_lab_ok(lab))
      gha_lab(lab);
    for (j = 0; j < lab->count; j++)
      if (rp_test_state(&r->tests[lab->first + j]) != RP_PASS)
        gha_test(lab, &r->tests[lab->first + j]);
  }
}

/*
 * The runner treats any log line starting with "::" (after blanks) as a
 * command, and the table quotes student output.  stop-commands with a
 * token chosen after that output was produced keeps it inert.
 */
void rp_gha_token(char *buf, size_t size)
{
  unsigned char raw[16] = {0};
  FILE *f = fopen("/dev/urandom", "r");
  size_t i;

  if (!f || fread(raw, 1, sizeof raw, f) != sizeof raw) {
    uint64_t x = (uint64_t) time(NULL) << 20 ^ (uint64_t) getpid();
    memcpy(raw, &x, sizeof x);
  }
  if (f)
    fclose(f);
  for (i = 0; i < sizeof raw && 2 * i + 2 < size; i++)
    snprintf(buf + 2 * i, 3, "%02x", raw[i]);
}

/* Table cells: '|' ends a cell, a newline ends the table, HTML is live. */
static void md_chars(FILE *f, const char *s)
{
  const char *start;
  uint32_t c;

  while (*s) {
    start = s;
    c = rp_next_cp(&s);
    if (c == '&')
      fputs("&amp;", f);
    else if (c == '<')
      fputs("&lt;", f);
    else if (c == '>')
      fputs("&gt;", f);
    else if (c < 0x80 && c && strchr("|\\`*_[]", (int) c))
      fprintf(f, "\\%c", (int) c);
    else if (c == '\n' || c == '\t')
      fputc(' ', f);
    else if (rp_term_unsafe(c))
      fputs(RP_REPLACEMENT, f);
    else
      fwrite(start, 1, (size_t) (s - start), f);
  }
}

void rp_write_step_summary(FILE *f, const struct rp_report *r)
{
  /* indexed by enum rp_state: check mark, cross, warning sign */
  static const char *mark[] = {"\xe2\x9c\x85", "\xe2\x9d\x8c", "\xe2\x9a\xa0\xef\xb8\x8f"};
  const struct rp_lab *lab;
  size_t i;

  fputs("### ", f);
  md_chars(f, r->title);
  fputs("\n\n| Lab | Status | Score |\n| :-- | :-- | --: |\n", f);
  for (i = 0; i < r->nlabs; i++) {
    lab = &r->labs[i];
    fputs("| ", f);
    md_chars(f, lab->id);
    fprintf(f, " | %s %s | %llu/%llu |\n", mark[rp_lab_state(lab)],
            rp_state_name(rp_lab_state(lab)), (unsigned long long) lab->score,
            (unsigned long long) lab->max_score);
  }
  fprintf(f,
          "| **Total** | %s **%s** | **%llu/%llu** |\n\n"
          "%zu passed, %zu failed\n\n",
          mark[rp_report_state(r)], rp_state_name(rp_report_state(r)),
          (unsigned long long) r->score, (unsigned long long) r->max_score, r->passed, r->failed);
  if (!r->any_hidden)
    fputs("Public tests only: hidden tests did not run here.\n\n", f);
  for (i = 0; i < r->ntampered && i < RP_TAMPER_SHOWN; i++) {
    fputs(i ? ", " : "**Tampered:** the grader was changed: ", f);
    md_chars(f, r->tampered[i].path);
  }
  if (r->ntampered)
    fputs("\n\n", f);
}
