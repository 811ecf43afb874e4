/*
 * report: turns the grader's raw record files into everything a student or
 * a CI system reads.
 *
 *	report --results DIR [--strict] [--title TEXT] [--tampered FILE]
 *	       [--brief | --progress]
 *
 * It reads every DIR/raw/NAME.rec in file-name order (one lab per file,
 * written by the grader's runner), prints a table on stdout and writes,
 * next to raw/:
 *
 *	results.json	Exercism test-runner results, version 3, extended
 *	junit.xml	for CI test viewers
 *	results.tap	TAP version 13
 *	summary.txt	"score max_score passed failed", for shell scripts
 *
 * With GITHUB_ACTIONS=true it also prints ::error annotations and appends
 * a Markdown table to $GITHUB_STEP_SUMMARY.
 *
 * --tampered FILE lists evidence that the grader was changed: files that
 * differ from a handout's manifest, lab code defining the grader's names
 * (lines "path<TAB>what", escaped like records); a missing FILE means none.
 * They are shown first in the table, listed in results.json ("tampered"),
 * and fail --strict.  --brief shows only the first failing test in full
 * (make watch); --progress prints one line per lab and the next step, and
 * writes no files (make progress).
 *
 * The modules, one concept each, all names they share prefixed rp_:
 *
 *	text.c		errors, allocation, UTF-8 repair and code points
 *	load.c		record files and --tampered into a struct rp_report
 *	tally.c		states, scores, and what went wrong where
 *	json.c, junit.c, tap.c	one file format each
 *	wrap.c		text on a terminal: cut, wrapped, nothing raw
 *	terminal.c	the table, the progress view, "Next:" and "read:"
 *	github.c	workflow annotations and the step summary
 *	main.c		options, writing the files, the exit status
 *
 * Rules these files live by:
 *
 *  - Every string in a record came, in the end, from a student's program,
 *    so none is trusted.  Fields are made valid UTF-8 once, as they are
 *    loaded (rp_utf8_repair); after that each writer only escapes for its
 *    own format and never meets an invalid byte.
 *  - The report owns every string in it; rp_report_free frees them all.
 *    Allocation never fails: rp_xmalloc and rp_grow die instead (exit 2).
 *  - Files are written to NAME.tmp and renamed into place, so a reader
 *    never sees half a file.
 *  - Exit 0 means "reported", not "passed": a failing score is the normal
 *    case while someone works through the labs.  Only --strict turns the
 *    score into the exit status (1).  2 means there was nothing to report
 *    or the report could not be written.
 */
#ifndef REPORT_REPORT_H
#define REPORT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RP_REPLACEMENT "\xef\xbf\xbd" /* U+FFFD, UTF-8 */
#define RP_ELLIPSIS "\xe2\x80\xa6"    /* U+2026 */
#define RP_TRUNCATED RP_ELLIPSIS "[truncated]"

#define RP_OUTPUT_CAP 500   /* code points; Exercism's output limit */
#define RP_MESSAGE_CAP 4000 /* code points, for every message field */
#define RP_NO_CAP SIZE_MAX

#define RP_DETAIL_COL 15      /* messages line up under the test name */
#define RP_TABLE_LINE_CAP 160 /* code points: one huge line, one row */
#define RP_WRAP_MIN 40        /* the narrowest terminal text wraps for */
#define RP_TAMPER_SHOWN 10    /* entries the table and summaries list */

/* ---- the report: what load.c reads, tally.c counts, the writers show ---- */

enum rp_state { RP_PASS, RP_FAIL, RP_ERROR };

struct rp_test {
  char *id, *status, *section, *hint, *message, *file, *output;
  uint64_t points, max_points, line;
  bool hidden;
};

struct rp_lab {
  char *id, *status, *message;
  size_t first, count; /* its tests: report.tests[first..+count) */
  uint64_t score, max_score;
  size_t passed, failures, errors;
};

struct rp_tamper {
  char *path, *what;
};

struct rp_palette {
  const char *bold, *green, *red, *reset;
};

struct rp_report {
  const char *dir;
  char *title;
  bool title_given, strict;
  struct rp_lab *labs;
  size_t nlabs, labs_cap;
  struct rp_test *tests;
  size_t ntests, tests_cap;
  uint64_t score, max_score;
  size_t passed, failed, failures, errors;
  bool any_hidden, all_labs_ok;
  size_t nhidden;
  const char *tampered_path;
  struct rp_tamper *tampered;
  size_t ntampered, tampered_cap, tampered_more;
  bool brief, progress;
  struct rp_palette pal;
  size_t width; /* of the terminal: where messages and hints wrap */
};

/* ---- text.c: errors, memory, UTF-8 ---- */

/* Prints "report: " fmt (with arg) and strerror(err) when err, exits 2. */
void rp_die(const char *fmt, const char *arg, int err);
void *rp_xmalloc(size_t n);
/* Doubles *cap (16 at first) and reallocates p to *cap elements of elem. */
void *rp_grow(void *p, size_t *cap, size_t elem);
/* A new string a b c. */
char *rp_join(const char *a, const char *b, const char *c);
/* A new valid UTF-8 string from in[0..n): each broken sequence a U+FFFD. */
char *rp_utf8_repair(const char *in, size_t n);
/* The code point at *p (a repaired string); moves *p past it. */
uint32_t rp_next_cp(const char **p);
/* Bytes in the first max code points of s; *cut: whether more remain. */
size_t rp_prefix_len(const char *s, size_t max, bool *cut);
size_t rp_cp_count(const char *s, size_t len);
/* Bytes of s's first line, at most cap code points of it. */
size_t rp_first_line_len(const char *s, size_t cap);
/* Whether c could move a terminal's cursor or recolour it (C0 but tab,
 * DEL, C1): no writer lets one through raw. */
bool rp_term_unsafe(uint32_t c);

/* ---- load.c ---- */

/* Loads every DIR/raw/NAME.rec; returns how many there were (0: none). */
int rp_load_records(struct rp_report *r);
void rp_load_tampered(struct rp_report *r);
/* Digits as a count (capped); anything else is 0. */
uint64_t rp_parse_count(const char *s);
void rp_report_free(struct rp_report *r);

/* ---- tally.c ---- */

/* Counts every lab's and the report's scores; after loading, once. */
void rp_tally(struct rp_report *r);
enum rp_state rp_test_state(const struct rp_test *t);
uint64_t rp_test_score(const struct rp_test *t);
bool rp_lab_ok(const struct rp_lab *lab);
enum rp_state rp_lab_state(const struct rp_lab *lab);
enum rp_state rp_report_state(const struct rp_report *r);
const char *rp_state_name(enum rp_state s);
bool rp_perfect(const struct rp_report *r);
const char *rp_lab_problem(const struct rp_lab *lab);
/* A new string, a line per lab that did not run well and one for tampering;
 * empty when all went well. */
char *rp_problem_summary(const struct rp_report *r);
const struct rp_test *rp_first_failing(const struct rp_report *r);

/* Where a starter's TODO stub stopped a test: spans of its message. */
struct rp_stub {
  const char *func, *where;
  int func_len, where_len;
};

bool rp_todo_stub(const struct rp_test *t, struct rp_stub *st);

/* ---- the writers: json.c, junit.c, tap.c, github.c ---- */

/* s as a JSON string, at most cap code points (then RP_TRUNCATED). */
void rp_json_str(FILE *f, const char *s, size_t cap);
void rp_write_json(FILE *f, const struct rp_report *r);
void rp_write_junit(FILE *f, const struct rp_report *r);
void rp_write_tap(FILE *f, const struct rp_report *r);
void rp_write_step_summary(FILE *f, const struct rp_report *r);
/* On stdout: one ::error line per failure, tampering and broken lab. */
void rp_gha_annotations(const struct rp_report *r);
/* A random hex token for ::stop-commands:: into buf. */
void rp_gha_token(char *buf, size_t size);

/* ---- wrap.c and terminal.c: stdout ---- */

void rp_term_line(const char *s, size_t len);
void rp_print_block(const char *s, const char *label, size_t max);
void rp_print_wrapped(const struct rp_report *r, int margin, const char *label, const char *s,
                      size_t max);
void rp_print_table(const struct rp_report *r);
void rp_print_progress(const struct rp_report *r);

#endif /* REPORT_REPORT_H */
