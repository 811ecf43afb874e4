/*
 * terminal.c: the table on stdout (a score line per lab, a line per test,
 * the failures' messages, hints and "read:" pointers, the total, the
 * verdict, "Next:") and make progress's one line per lab.
 *
 * A test stopped by a starter's TODO stub shows no hint: "Next:" names the
 * function to write and where it is.  "read:" points at the chapter's HTML
 * page when the book is there, else at its .md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include "report.h"

#define EM_DASH "\xe2\x80\x94" /* U+2014 */

#define TABLE_WIDTH 62 /* "Lab x ... 7/20" lines are this wide */
#define LAB_MESSAGE_LINES 15
#define OUTPUT_LINES 4
#define TEST_MESSAGE_LINES 8 /* screen lines, wrapped */
#define HINT_LINES 6
#define NEXT_LINES 6

/* "Lab 00-the-loop ........ 7/20", the score flush with TABLE_WIDTH. */
static void print_score_line(const struct rp_report *r, const char *label, const char *name,
                             uint64_t score, uint64_t max)
{
  char pts[48];
  int used;

  snprintf(pts, sizeof pts, "%llu/%llu", (unsigned long long) score, (unsigned long long) max);
  used = (int) (strlen(label) + strlen(pts) + rp_cp_count(name, strlen(name)));
  printf("%s%s", r->pal.bold, label);
  rp_term_line(name, strlen(name));
  printf("%*s%s%s", used < TABLE_WIDTH ? TABLE_WIDTH - used : 1, "", pts, r->pal.reset);
}

static void print_status(const struct rp_report *r, enum rp_state s)
{
  const char *word = s == RP_PASS ? "PASS" : s == RP_FAIL ? "FAIL" : "ERROR";

  printf("  %s%s%s%*s", s == RP_PASS ? r->pal.green : r->pal.red, word, r->pal.reset,
         (int) (7 - strlen(word)), "");
}

/* "NN-slug": a name the book gives a chapter's page (book/book.lua). */
static bool chapter_name(const char *s, size_t len)
{
  size_t i;

  if (len < 4 || len > 100 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] != '-')
    return false;
  for (i = 3; i < len; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
      return false;
  return true;
}

/*
 * Where a chapter reads best: its HTML page, whose code blocks the build
 * filled in (in chapters/NN-slug.md they are empty).  A handout ships the
 * students' edition in book/; in the repository, make book-student and
 * make book write build/book-student/ and build/book/.  The per-chapter
 * pages keep the chapter's {#id}s as they are (the one-page book.html
 * prefixes some).  Without a page: the chapter's source, chapters/.
 */
static const char *chapter_place(const char *name, size_t len, const char **ext)
{
  static const char *const pages[] = {"book/", "build/book-student/", "build/book/"};
  char path[160];
  size_t i;

  *ext = ".html";
  for (i = 0; chapter_name(name, len) && i < sizeof pages / sizeof *pages; i++) {
    snprintf(path, sizeof path, "%s%.*s.html", pages[i], (int) len, name);
    if (access(path, R_OK) == 0)
      return pages[i];
  }
  *ext = ".md";
  return "chapters/";
}

/* "00-the-loop#the-close-protocol" -> book/00-the-loop.html#the-close-...,
 * from column col. */
static void print_section(int col, const char *section)
{
  size_t stem = strcspn(section, "#");
  const char *ext, *dir = chapter_place(section, stem, &ext);

  printf("%*sread: %s", col, "", dir);
  rp_term_line(section, stem);
  fputs(ext, stdout);
  rp_term_line(section + stem, strlen(section + stem));
  putchar('\n');
}

static void print_test(const struct rp_report *r, const struct rp_test *t)
{
  struct rp_stub stub;
  char pts[48];
  int n;

  print_status(r, rp_test_state(t));
  n = snprintf(pts, sizeof pts, "%llu/%llu", (unsigned long long) rp_test_score(t),
               (unsigned long long) t->max_points);
  printf("%s%*s", pts, n < 6 ? 6 - n : 1, "");
  rp_term_line(t->id, strlen(t->id));
  puts(t->hidden ? " (hidden)" : "");
  if (rp_test_state(t) == RP_PASS)
    return;
  if (r->brief && t != rp_first_failing(r)) {
    rp_print_wrapped(r, RP_DETAIL_COL, "", t->message, 1);
    return;
  }
  rp_print_wrapped(r, RP_DETAIL_COL, "", t->message, TEST_MESSAGE_LINES);
  rp_print_block(t->output, "output: ", OUTPUT_LINES);
  if (!rp_todo_stub(t, &stub))
    rp_print_wrapped(r, RP_DETAIL_COL, "hint: ", t->hint, HINT_LINES);
  if (*t->section)
    print_section(RP_DETAIL_COL, t->section);
}

static void print_lab(const struct rp_report *r, const struct rp_lab *lab)
{
  size_t i;

  print_score_line(r, "Lab ", lab->id, lab->score, lab->max_score);
  putchar('\n');
  if (!rp_lab_ok(lab)) {
    print_status(r, RP_ERROR);
    printf("%6s%s\n", "", rp_lab_problem(lab));
  }
  rp_print_block(lab->message, "", LAB_MESSAGE_LINES);
  for (i = 0; i < lab->count; i++)
    print_test(r, &r->tests[lab->first + i]);
}

/*
 * Work through the labs in order: the first failure is the next step, and
 * its hint says what to fix; a stub that still runs is written first.
 */
static void print_next(const struct rp_report *r)
{
  const struct rp_lab *lab;
  const struct rp_test *t = rp_first_failing(r);
  struct rp_stub st;
  char *buf = NULL;
  size_t size = 0, i;
  FILE *f;

  if (!t)
    return;
  i = (size_t) (t - r->tests);
  for (lab = r->labs; i >= lab->first + lab->count; lab++)
    ;
  f = open_memstream(&buf, &size);
  if (!f)
    rp_die("%s", "out of memory", errno);
  fprintf(f, "%s: ", lab->id);
  if (rp_todo_stub(t, &st))
    fprintf(f, "write %.*s() at %.*s " EM_DASH " %s stops at its TODO stub", st.func_len, st.func,
            st.where_len, st.where, t->id);
  else if (*t->hint)
    fprintf(f, "%s " EM_DASH " %.*s", t->id, (int) rp_first_line_len(t->hint, RP_MESSAGE_CAP),
            t->hint);
  else
    fputs(t->id, f);
  fclose(f);
  rp_print_wrapped(r, 0, "Next: ", buf, NEXT_LINES);
  free(buf);
  if (*t->section)
    print_section((int) strlen("Next: "), t->section);
}

/* Shown first: a score earned with changed tests is no score. */
static void print_tampered(const struct rp_report *r)
{
  size_t i, total = r->ntampered + r->tampered_more;

  if (!total)
    return;
  printf("%sTAMPERED%s: the grader was changed (%zu finding%s); this score will not count:\n",
         r->pal.red, r->pal.reset, total, total == 1 ? "" : "s");
  for (i = 0; i < r->ntampered && i < RP_TAMPER_SHOWN; i++) {
    printf("%*s", RP_DETAIL_COL, "");
    rp_term_line(r->tampered[i].path, strlen(r->tampered[i].path));
    fputs(" (", stdout);
    rp_term_line(r->tampered[i].what, strlen(r->tampered[i].what));
    puts(")");
  }
  if (total > RP_TAMPER_SHOWN)
    printf("%*s" RP_ELLIPSIS " %zu more\n", RP_DETAIL_COL, "", total - RP_TAMPER_SHOWN);
}

static void print_title(const struct rp_report *r)
{
  if (!r->title_given)
    return;
  printf("%s", r->pal.bold);
  rp_term_line(r->title, strlen(r->title));
  printf("%s\n", r->pal.reset);
}

/* Never "all tests passed" when the hidden tests did not run. */
static void print_verdict(const struct rp_report *r)
{
  if (!rp_perfect(r))
    return;
  if (r->any_hidden)
    printf("%sAll tests passed, hidden tests included.%s\n", r->pal.green, r->pal.reset);
  else
    printf("%sAll public tests passed.%s Hidden tests, if the course has any, did not run "
           "here: they run when your work is graded.\n",
           r->pal.green, r->pal.reset);
}

void rp_print_table(const struct rp_report *r)
{
  size_t i;

  print_title(r);
  print_tampered(r);
  for (i = 0; i < r->nlabs; i++)
    print_lab(r, &r->labs[i]);
  print_score_line(r, "Total", "", r->score, r->max_score);
  if (r->any_hidden)
    printf("  (%zu hidden test%s included)\n", r->nhidden, r->nhidden == 1 ? "" : "s");
  else
    puts("  (public tests only)");
  print_verdict(r);
  print_next(r);
}

static const char *progress_word(const struct rp_lab *lab)
{
  if (!rp_lab_ok(lab))
    return "does not build";
  if (lab->max_score && lab->score >= lab->max_score)
    return "done";
  return lab->score ? "partly done" : "not started";
}

void rp_print_progress(const struct rp_report *r)
{
  size_t i, done = 0, partly = 0;
  const struct rp_lab *lab;
  char label[32];

  print_title(r);
  print_tampered(r);
  for (i = 0; i < r->nlabs; i++) {
    lab = &r->labs[i];
    done += strcmp(progress_word(lab), "done") == 0;
    partly += strcmp(progress_word(lab), "partly done") == 0;
    snprintf(label, sizeof label, "%-16s", progress_word(lab));
    print_score_line(r, label, lab->id, lab->score, lab->max_score);
    putchar('\n');
  }
  print_score_line(r, "Total", "", r->score, r->max_score);
  printf("  (%zu done, %zu partly done, %zu to go)\n", done, partly, r->nlabs - done - partly);
  print_verdict(r);
  print_next(r);
}
