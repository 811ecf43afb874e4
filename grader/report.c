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
 * The table is for a student at a terminal.  Messages, hints and the
 * "Next:" line wrap at blanks to its width (COLUMNS, else the terminal's,
 * else 100 columns), a few screen lines at most, then a pointer to
 * results.json.  A test stopped by a starter's TODO stub shows no hint:
 * "Next:" names the function to write and where it is.  "read:" points at
 * the chapter's HTML page when the book is there (book/ in a handout,
 * build/book-student/ or build/book/ in the repository), else at its .md.
 *
 * Rules this file lives by:
 *
 *  - Every string in a record came, in the end, from a student's program,
 *    so none is trusted.  Fields are made valid UTF-8 once, as they are
 *    loaded (utf8_repair); after that each writer only escapes for its
 *    own format and never meets an invalid byte.
 *  - Files are written to NAME.tmp and renamed into place, so a reader
 *    never sees half a file.
 *  - Exit 0 means "reported", not "passed": a failing score is the normal
 *    case while someone works through the labs.  Only --strict turns the
 *    score into the exit status (1).  2 means there was nothing to report
 *    or the report could not be written.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "stub.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD, UTF-8 */
#define ELLIPSIS "\xe2\x80\xa6"    /* U+2026 */
#define EM_DASH "\xe2\x80\x94"     /* U+2014 */
#define TRUNCATED ELLIPSIS "[truncated]"

#define OUTPUT_CAP 500         /* code points; Exercism's output limit */
#define MESSAGE_CAP 4000       /* code points, for every message field */
#define JUNIT_OUTPUT_CAP 65536 /* test viewers cope with more than 500 */
#define NO_CAP SIZE_MAX

#define TABLE_WIDTH 62     /* "Lab x ... 7/20" lines are this wide */
#define DETAIL_COL 15      /* messages line up under the test name */
#define TABLE_LINE_CAP 160 /* code points: one huge line, one row */
#define LAB_MESSAGE_LINES 15
#define OUTPUT_LINES 4
/* Messages, hints and "Next:" wrap at blanks to the terminal's width (the
 * table's width): COLUMNS, else the terminal's, else WRAP_DEFAULT. */
#define WRAP_DEFAULT 100
#define WRAP_MIN 40
#define WRAP_MAX 400
#define TEST_MESSAGE_LINES 8 /* screen lines, wrapped */
#define HINT_LINES 6
#define NEXT_LINES 6

#define TEST_FIELDS 13        /* "test" plus twelve values */
#define TAMPER_MAX 1000       /* entries kept from --tampered */
#define TAMPER_SHOWN 10       /* entries the table and summaries list */
#define COUNT_MAX 0xffffffffu /* sums of these cannot overflow 64 bits */

enum state { PASS, FAIL, ERROR };

struct test {
  char *id, *status, *section, *hint, *message, *file, *output;
  uint64_t points, max_points, line;
  bool hidden;
};

struct lab {
  char *id, *status, *message;
  size_t first, count; /* its tests: report.tests[first..+count) */
  uint64_t score, max_score;
  size_t passed, failures, errors;
};

struct tamper {
  char *path, *what;
};

struct palette {
  const char *bold, *green, *red, *reset;
};

struct report {
  const char *dir;
  char *title;
  bool title_given, strict;
  struct lab *labs;
  size_t nlabs, labs_cap;
  struct test *tests;
  size_t ntests, tests_cap;
  uint64_t score, max_score;
  size_t passed, failed, failures, errors;
  bool any_hidden, all_labs_ok;
  size_t nhidden;
  const char *tampered_path;
  struct tamper *tampered;
  size_t ntampered, tampered_cap, tampered_more;
  bool brief, progress;
  struct palette pal;
  size_t width; /* of the terminal: where messages and hints wrap */
};

/* ---- small utilities ---- */

static void die(const char *fmt, const char *arg, int err)
{
  fprintf(stderr, "report: ");
  fprintf(stderr, fmt, arg);
  if (err)
    fprintf(stderr, ": %s", strerror(err));
  fputc('\n', stderr);
  exit(2);
}

static void *xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);

  if (!p)
    die("%s", "out of memory", 0);
  return p;
}

static void *grow(void *p, size_t *cap, size_t elem)
{
  *cap = *cap ? *cap * 2 : 16;
  p = realloc(p, *cap * elem);
  if (!p)
    die("%s", "out of memory", 0);
  return p;
}

static char *join(const char *a, const char *b, const char *c)
{
  size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
  char *s = xmalloc(la + lb + lc + 1);

  memcpy(s, a, la);
  memcpy(s + la, b, lb);
  memcpy(s + la + lb, c, lc + 1);
  return s;
}

static bool env_set(const char *name)
{
  const char *v = getenv(name);

  return v && *v;
}

/* ---- UTF-8 ---- */

/*
 * Classifies a lead byte.  The narrowed second-byte range is what rejects
 * overlong forms (E0, F0), surrogates (ED) and code points past U+10FFFF
 * (F4); C0, C1 and F5..FF can only start overlong or out-of-range forms.
 */
static size_t utf8_lead(unsigned char c, unsigned char *lo, unsigned char *hi)
{
  *lo = 0x80;
  *hi = 0xbf;
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf)
    return 2;
  if (c == 0xe0)
    *lo = 0xa0;
  if (c == 0xed)
    *hi = 0x9f;
  if (c >= 0xe0 && c <= 0xef)
    return 3;
  if (c == 0xf0)
    *lo = 0x90;
  if (c == 0xf4)
    *hi = 0x8f;
  if (c >= 0xf0 && c <= 0xf4)
    return 4;
  return 0;
}

/*
 * Length of the valid sequence at s, or 0 with *bad set to the length of
 * the broken prefix, so that the prefix becomes one U+FFFD (Unicode's
 * "maximal subpart" rule, which is what browsers and Python do).
 */
static size_t utf8_valid(const unsigned char *s, size_t n, size_t *bad)
{
  unsigned char lo, hi;
  size_t need = utf8_lead(s[0], &lo, &hi), i;

  *bad = 1;
  for (i = 1; i < need; i++) {
    if (i >= n || s[i] < lo || s[i] > hi) {
      *bad = i;
      return 0;
    }
    lo = 0x80;
    hi = 0xbf;
  }
  return need;
}

static char *utf8_repair(const char *in, size_t n)
{
  const unsigned char *s = (const unsigned char *) in;
  char *out = xmalloc(3 * n + 1), *o = out; /* 1 byte -> U+FFFD */
  size_t i = 0, len, bad;

  while (i < n) {
    len = utf8_valid(s + i, n - i, &bad);
    if (len) {
      memcpy(o, s + i, len);
      o += len;
      i += len;
    } else {
      memcpy(o, REPLACEMENT, 3);
      o += 3;
      i += bad;
    }
  }
  *o = '\0';
  return out;
}

/* Decodes one code point of a string utf8_repair has already vetted. */
static uint32_t next_cp(const char **p)
{
  const unsigned char *s = (const unsigned char *) *p;
  unsigned char lo, hi;
  size_t n = utf8_lead(s[0], &lo, &hi), i;
  uint32_t c = n == 1 ? s[0] : s[0] & (0x7f >> n);

  for (i = 1; i < n; i++)
    c = c << 6 | (s[i] & 0x3f);
  *p += n;
  return c;
}

/* Bytes in the first max code points of s; *cut says whether more remain. */
static size_t prefix_len(const char *s, size_t max, bool *cut)
{
  const char *p = s;
  size_t n = 0;

  while (*p && n < max) {
    next_cp(&p);
    n++;
  }
  *cut = *p != '\0';
  return (size_t) (p - s);
}

static size_t cp_count(const char *s, size_t len)
{
  const char *p = s;
  size_t n = 0;

  while (p < s + len) {
    next_cp(&p);
    n++;
  }
  return n;
}

/* ---- loading records ---- */

/* The byte the escape "\\c" stands for, or 0 when it is not an escape. */
static char unescaped(char c)
{
  static const char from[] = "\\tnr", to[] = "\\\t\n\r";
  const char *p = c ? strchr(from, c) : NULL;

  return p ? to[p - from] : 0;
}

static size_t unescape(char *s, size_t n)
{
  size_t i, o = 0;
  char d;

  for (i = 0; i < n; i++) {
    d = s[i] == '\\' && i + 1 < n ? unescaped(s[i + 1]) : 0;
    if (d)
      i++;
    s[o++] = d ? d : s[i];
  }
  return o;
}

/*
 * Splits line in place on raw tabs and decodes each field into a fresh
 * valid-UTF-8 string.  Fields past max are ignored so that the runner can
 * add fields without breaking an older reporter.
 */
static size_t split_fields(char *line, size_t n, char **field, size_t max)
{
  size_t nf = 0, start = 0, i, len;

  for (i = 0; i <= n && nf < max; i++) {
    if (i < n && line[i] != '\t')
      continue;
    len = unescape(line + start, i - start);
    field[nf++] = utf8_repair(line + start, len);
    start = i + 1;
  }
  return nf;
}

static struct lab *add_lab(struct report *r, char *id, char *status, char *message)
{
  struct lab *lab;

  if (r->nlabs == r->labs_cap)
    r->labs = grow(r->labs, &r->labs_cap, sizeof *r->labs);
  lab = &r->labs[r->nlabs++];
  memset(lab, 0, sizeof *lab);
  lab->id = id;
  lab->status = status;
  lab->message = message;
  lab->first = r->ntests;
  return lab;
}

static uint64_t parse_count(const char *s)
{
  uint64_t v = 0;

  if (!*s)
    return 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return 0;
    v = v * 10 + (uint64_t) (*s - '0');
    if (v > COUNT_MAX)
      v = COUNT_MAX;
  }
  return v;
}

/* f holds TEST_FIELDS fields; the struct takes over the ones it keeps. */
static void add_test(struct report *r, char **f)
{
  struct test *t;

  if (r->ntests == r->tests_cap)
    r->tests = grow(r->tests, &r->tests_cap, sizeof *r->tests);
  t = &r->tests[r->ntests++];
  t->id = f[2];
  t->status = f[3];
  t->points = parse_count(f[4]);
  t->max_points = parse_count(f[5]);
  t->hidden = strcmp(f[6], "1") == 0;
  t->section = f[7];
  t->hint = f[8];
  t->message = f[9];
  t->file = f[10];
  t->line = parse_count(f[11]);
  t->output = f[12];
  free(f[0]);
  free(f[1]); /* the lab line before it names the lab */
  free(f[4]);
  free(f[5]);
  free(f[6]);
  free(f[11]);
  r->labs[r->nlabs - 1].count++;
}

/*
 * A runner that dies mid-file may leave test lines without their lab line,
 * or an empty file; both still show up as a lab, named after the file.
 */
static void add_orphan_lab(struct report *r, const char *stem, const char *why)
{
  add_lab(r, utf8_repair(stem, strlen(stem)), utf8_repair("runner-crashed", 14),
          utf8_repair(why, strlen(why)));
}

/* f holds TEST_FIELDS fields; a lab line without a name takes the file's. */
static void take_lab(struct report *r, char **f, const char *stem)
{
  size_t i;

  if (!*f[1]) {
    free(f[1]);
    f[1] = utf8_repair(stem, strlen(stem));
  }
  add_lab(r, f[1], f[2], f[3]);
  free(f[0]);
  for (i = 4; i < TEST_FIELDS; i++)
    free(f[i]);
}

/* Drops the line end; returns the length left. */
static size_t clean_line(char *line, size_t n)
{
  size_t i;

  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    n--;
  /* NUL is promised absent; should one come, it must not cut a C
   * string short, so it becomes an invalid byte and then U+FFFD. */
  for (i = 0; i < n; i++)
    if (line[i] == '\0')
      line[i] = (char) 0xff;
  return n;
}

static void load_line(struct report *r, char *line, size_t n, const char *stem, bool *have_lab)
{
  char *f[TEST_FIELDS];
  size_t nf, i;

  n = clean_line(line, n);
  nf = split_fields(line, n, f, TEST_FIELDS);
  for (i = nf; i < TEST_FIELDS; i++)
    f[i] = utf8_repair("", 0);
  if (strcmp(f[0], "lab") == 0) {
    take_lab(r, f, stem);
    *have_lab = true;
    return;
  }
  if (strcmp(f[0], "test") == 0) {
    if (!*have_lab)
      add_orphan_lab(r, stem, "tests without a lab line");
    *have_lab = true;
    add_test(r, f);
    return;
  }
  for (i = 0; i < TEST_FIELDS; i++)
    free(f[i]);
}

static void load_file(struct report *r, const char *path, const char *stem)
{
  FILE *f = fopen(path, "r");
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  bool have_lab = false;

  if (!f)
    die("cannot open %s", path, errno);
  while ((n = getline(&line, &cap, f)) != -1)
    load_line(r, line, (size_t) n, stem, &have_lab);
  if (ferror(f))
    die("cannot read %s", path, errno);
  if (!have_lab)
    add_orphan_lab(r, stem, "empty record file");
  free(line);
  fclose(f);
}

/*
 * Picks the files a "*.rec" glob in DIR/raw would, without glob's trouble
 * with metacharacters in DIR itself.
 */
static int is_record(const struct dirent *d)
{
  size_t n = strlen(d->d_name);

  return d->d_name[0] != '.' && n > 4 && strcmp(d->d_name + n - 4, ".rec") == 0;
}

/*
 * Returns how many record files there were; a missing DIR/raw counts as
 * none.  alphasort compares with strcoll, and nothing here calls
 * setlocale, so the order is plain byte order, as glob's is in "C".
 */
static int load_records(struct report *r)
{
  char *raw = join(r->dir, "/raw", ""), *path;
  struct dirent **names;
  int n = scandir(raw, &names, is_record, alphasort), i;

  if (n < 0 && errno != ENOENT && errno != ENOTDIR)
    die("cannot read %s", raw, errno);

  for (i = 0; i < n; i++) {
    path = join(raw, "/", names[i]->d_name);
    names[i]->d_name[strlen(names[i]->d_name) - 4] = '\0';
    load_file(r, path, names[i]->d_name);
    free(path);
    free(names[i]);
  }
  if (n >= 0)
    free(names);
  free(raw);
  return n < 0 ? 0 : n;
}

static void add_tamper(struct report *r, char *line, size_t n)
{
  char *f[2];
  size_t nf;

  if (r->ntampered == TAMPER_MAX) {
    r->tampered_more++;
    return;
  }
  nf = split_fields(line, n, f, 2);
  if (nf < 2)
    f[1] = utf8_repair("changed", 7);
  if (r->ntampered == r->tampered_cap)
    r->tampered = grow(r->tampered, &r->tampered_cap, sizeof *r->tampered);
  r->tampered[r->ntampered].path = f[0];
  r->tampered[r->ntampered++].what = f[1];
}

/* The --tampered file: one "path<TAB>what" per line; absent means none. */
static void load_tampered(struct report *r)
{
  FILE *f = r->tampered_path ? fopen(r->tampered_path, "r") : NULL;
  char *line = NULL;
  size_t cap = 0, len;
  ssize_t n;

  if (!f && r->tampered_path && errno != ENOENT)
    die("cannot open %s", r->tampered_path, errno);
  if (!f)
    return;
  while ((n = getline(&line, &cap, f)) != -1)
    if ((len = clean_line(line, (size_t) n)) > 0)
      add_tamper(r, line, len);
  if (ferror(f))
    die("cannot read %s", r->tampered_path, errno);
  free(line);
  fclose(f);
}

/* ---- scoring ---- */

static enum state test_state(const struct test *t)
{
  if (strcmp(t->status, "pass") == 0)
    return PASS;
  if (strcmp(t->status, "fail") == 0)
    return FAIL;
  return ERROR; /* "error", and anything a broken runner invents */
}

static uint64_t test_score(const struct test *t)
{
  return test_state(t) == PASS ? t->points : 0;
}

static bool lab_ok(const struct lab *lab)
{
  return strcmp(lab->status, "ok") == 0;
}

static enum state lab_state(const struct lab *lab)
{
  if (!lab_ok(lab))
    return ERROR;
  return lab->failures + lab->errors ? FAIL : PASS;
}

static const char *state_name(enum state s)
{
  return s == PASS ? "pass" : s == FAIL ? "fail" : "error";
}

static void tally_lab(struct report *r, struct lab *lab)
{
  const struct test *t;
  size_t i;

  for (i = 0; i < lab->count; i++) {
    t = &r->tests[lab->first + i];
    lab->score += test_score(t);
    lab->max_score += t->max_points;
    lab->passed += test_state(t) == PASS;
    lab->failures += test_state(t) == FAIL;
    lab->errors += test_state(t) == ERROR;
    r->any_hidden |= t->hidden;
    r->nhidden += t->hidden;
  }
  r->score += lab->score;
  r->max_score += lab->max_score;
  r->passed += lab->passed;
  r->failures += lab->failures;
  r->errors += lab->errors;
  r->all_labs_ok &= lab_ok(lab);
}

static void tally(struct report *r)
{
  size_t i;

  r->all_labs_ok = true;
  for (i = 0; i < r->nlabs; i++)
    tally_lab(r, &r->labs[i]);
  r->failed = r->failures + r->errors;
}

static enum state report_state(const struct report *r)
{
  if (!r->all_labs_ok)
    return ERROR;
  return r->failed ? FAIL : PASS;
}

/*
 * --strict also fails a crashed runner whose surviving tests all passed:
 * the missing tests never reached max_score, so the score alone would lie;
 * and a run whose grader files were tampered with.
 */
static bool perfect(const struct report *r)
{
  return r->ntests > 0 && r->all_labs_ok && r->score >= r->max_score && !r->ntampered;
}

static const char *lab_problem(const struct lab *lab)
{
  if (strcmp(lab->status, "build-failed") == 0)
    return "build failed";
  if (strcmp(lab->status, "runner-crashed") == 0)
    return "the grader's runner crashed";
  if (strcmp(lab->status, "refused") == 0)
    return "not run: the lab's code does what lab code may not";
  return "unknown lab status";
}

static size_t first_line_len(const char *s, size_t cap)
{
  bool cut;
  size_t len = prefix_len(s, cap, &cut), nl = strcspn(s, "\n");

  return nl < len ? nl : len;
}

/* "lab: build failed: first line of its message", one line per bad lab. */
static char *problem_summary(const struct report *r)
{
  char *buf = NULL;
  size_t size = 0, i;
  FILE *f = open_memstream(&buf, &size);
  const struct lab *lab;

  if (!f)
    die("%s", "out of memory", errno);
  for (i = 0; i < r->nlabs; i++) {
    lab = &r->labs[i];
    if (lab_ok(lab))
      continue;
    fprintf(f, "%s%s: %s", ftell(f) ? "\n" : "", lab->id, lab_problem(lab));
    if (*lab->message)
      fprintf(f, ": %.*s", (int) first_line_len(lab->message, TABLE_LINE_CAP), lab->message);
  }
  if (r->ntampered)
    fprintf(f, "%sthe grader was changed: %zu finding(s)", ftell(f) ? "\n" : "",
            r->ntampered + r->tampered_more);
  fclose(f);
  return buf;
}

/*
 * C0 controls but tab, DEL and C1 (which xterm and others obey as 8-bit
 * CSI and friends even when UTF-8 encoded) can move the cursor or recolour
 * a terminal; no writer lets them through raw.
 */
static bool term_unsafe(uint32_t c)
{
  return (c < 0x20 && c != '\t') || (c >= 0x7f && c <= 0x9f);
}

/* ---- results.json (and the YAML in TAP, which reuses JSON strings) ---- */

/*
 * Beyond what JSON demands (< 0x20): DEL and C1 so that cat-ing the file
 * cannot drive a terminal, U+2028/9 which break JavaScript, and U+FFFE/F,
 * which YAML does not allow raw in TAP's diagnostic blocks.
 */
static bool json_must_escape(uint32_t c)
{
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029 || c == 0xfffe ||
         c == 0xffff;
}

static void json_chars(FILE *f, const char *s, size_t len)
{
  const char *end = s + len, *start;
  uint32_t c;

  while (s < end) {
    start = s;
    c = next_cp(&s);
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", (int) c);
    else if (c == '\n')
      fputs("\\n", f);
    else if (c == '\t')
      fputs("\\t", f);
    else if (c == '\r')
      fputs("\\r", f);
    else if (json_must_escape(c))
      fprintf(f, "\\u%04x", (unsigned) c);
    else
      fwrite(start, 1, (size_t) (s - start), f);
  }
}

static void json_str(FILE *f, const char *s, size_t cap)
{
  bool cut;
  size_t len = prefix_len(s, cap, &cut);

  fputc('"', f);
  json_chars(f, s, len);
  if (cut)
    fputs(TRUNCATED, f);
  fputc('"', f);
}

/* Exercism uses null, not "", for "nothing to say". */
static void json_opt(FILE *f, const char *s, size_t cap)
{
  if (*s)
    json_str(f, s, cap);
  else
    fputs("null", f);
}

/* The json_field_* helpers write one ",\n  key: value" of a test object. */
static void json_field_raw(FILE *f, const char *key, const char *value)
{
  fprintf(f, ",\n      \"%s\": %s", key, value);
}

static void json_field_num(FILE *f, const char *key, uint64_t n)
{
  fprintf(f, ",\n      \"%s\": %llu", key, (unsigned long long) n);
}

static void json_field_str(FILE *f, const char *key, const char *s, size_t cap)
{
  json_field_raw(f, key, "");
  json_str(f, s, cap);
}

static void json_field_opt(FILE *f, const char *key, const char *s, size_t cap)
{
  json_field_raw(f, key, "");
  json_opt(f, s, cap);
}

static void json_lab(FILE *f, const struct lab *lab, bool first)
{
  fputs(first ? "\n    {\"lab\": " : ",\n    {\"lab\": ", f);
  json_str(f, lab->id, NO_CAP);
  fprintf(f,
          ", \"status\": \"%s\", \"score\": %llu, "
          "\"max_score\": %llu, \"message\": ",
          state_name(lab_state(lab)), (unsigned long long) lab->score,
          (unsigned long long) lab->max_score);
  json_opt(f, lab->message, MESSAGE_CAP);
  fputc('}', f);
}

static void json_test(FILE *f, const struct lab *lab, const struct test *t, size_t task_id,
                      bool first)
{
  fputs(first ? "\n    {" : ",\n    {", f);
  fputs("\n      \"name\": \"", f);
  json_chars(f, lab->id, strlen(lab->id));
  fputs(": ", f);
  json_chars(f, t->id, strlen(t->id));
  fputc('"', f);
  json_field_str(f, "lab", lab->id, NO_CAP);
  json_field_str(f, "test", t->id, NO_CAP);
  json_field_str(f, "status", state_name(test_state(t)), NO_CAP);
  json_field_opt(f, "message", t->message, MESSAGE_CAP);
  json_field_opt(f, "output", t->output, OUTPUT_CAP);
  json_field_num(f, "points", test_score(t));
  json_field_num(f, "max_points", t->max_points);
  json_field_raw(f, "hidden", t->hidden ? "true" : "false");
  json_field_str(f, "section", t->section, NO_CAP);
  json_field_str(f, "hint", t->hint, MESSAGE_CAP);
  json_field_str(f, "file", t->file, NO_CAP);
  json_field_num(f, "line", t->line);
  json_field_num(f, "task_id", task_id);
  fputs("\n    }", f);
}

static void write_json(FILE *f, const struct report *r)
{
  char *why = problem_summary(r);
  const struct lab *lab;
  size_t i, j;

  fprintf(f,
          "{\n  \"version\": 3,\n  \"status\": \"%s\",\n"
          "  \"message\": ",
          state_name(report_state(r)));
  json_opt(f, why, MESSAGE_CAP);
  fprintf(f,
          ",\n  \"score\": %llu,\n  \"max_score\": %llu,\n"
          "  \"hidden_tests_run\": %s,\n  \"tampered\": [",
          (unsigned long long) r->score, (unsigned long long) r->max_score,
          r->any_hidden ? "true" : "false");
  for (i = 0; i < r->ntampered; i++) {
    fputs(i ? ", " : "", f);
    json_str(f, r->tampered[i].path, MESSAGE_CAP);
  }
  fputs("],\n  \"labs\": [", f);
  for (i = 0; i < r->nlabs; i++)
    json_lab(f, &r->labs[i], i == 0);
  fputs("\n  ],\n  \"tests\": [", f);
  for (i = 0; i < r->nlabs; i++) {
    lab = &r->labs[i];
    for (j = lab->first; j < lab->first + lab->count; j++)
      json_test(f, lab, &r->tests[j], i + 1, j == 0);
  }
  fputs("\n  ]\n}\n", f);
  free(why);
}

/* ---- junit.xml ---- */

/*
 * Characters XML 1.0 forbids become U+FFFD, and so do DEL and C1, which it
 * merely discourages, so that cat-ing the file cannot drive a terminal.
 * In attributes, tab, LF and CR are written as references because a
 * parser would fold them to spaces; in text only CR needs one.
 */
static const char *xml_entity(uint32_t c, bool attr)
{
  switch (c) {
  case '&': return "&amp;";
  case '<': return "&lt;";
  case '>': return "&gt;";
  case '"': return "&quot;";
  case '\'': return "&apos;";
  case '\r': return "&#13;";
  case '\t': return attr ? "&#9;" : NULL;
  case '\n': return attr ? "&#10;" : NULL;
  }
  return NULL;
}

static void xml_chars(FILE *f, const char *s, size_t len, bool attr)
{
  const char *end = s + len, *start, *entity;
  uint32_t c;

  while (s < end) {
    start = s;
    c = next_cp(&s);
    entity = xml_entity(c, attr);
    if (entity)
      fputs(entity, f);
    else if (c != '\n' && (term_unsafe(c) || c == 0xfffe || c == 0xffff))
      fputs(REPLACEMENT, f);
    else
      fwrite(start, 1, (size_t) (s - start), f);
  }
}

static void xml_text(FILE *f, const char *s, size_t cap)
{
  bool cut;

  xml_chars(f, s, prefix_len(s, cap, &cut), false);
  if (cut)
    fputs(TRUNCATED, f);
}

static void xml_attr(FILE *f, const char *name, const char *s, size_t len)
{
  fprintf(f, " %s=\"", name);
  xml_chars(f, s, len, true);
  fputc('"', f);
}

static void junit_problem(FILE *f, const struct test *t)
{
  const char *tag = test_state(t) == FAIL ? "failure" : "error";

  fprintf(f, "      <%s", tag);
  xml_attr(f, "message", t->message, first_line_len(t->message, MESSAGE_CAP));
  fprintf(f, " type=\"%s\">", state_name(test_state(t)));
  xml_text(f, t->message, MESSAGE_CAP);
  if (*t->hint) {
    fputs("\nhint: ", f);
    xml_text(f, t->hint, MESSAGE_CAP);
  }
  fprintf(f, "</%s>\n", tag);
}

static void junit_case(FILE *f, const struct lab *lab, const struct test *t)
{
  fputs("    <testcase", f);
  xml_attr(f, "classname", lab->id, strlen(lab->id));
  xml_attr(f, "name", t->id, strlen(t->id));
  xml_attr(f, "file", t->file, strlen(t->file));
  fprintf(f, " line=\"%llu\">\n", (unsigned long long) t->line);
  if (test_state(t) != PASS)
    junit_problem(f, t);
  if (*t->output) {
    fputs("      <system-out>", f);
    xml_text(f, t->output, JUNIT_OUTPUT_CAP);
    fputs("</system-out>\n", f);
  }
  fputs("    </testcase>\n", f);
}

static void junit_suite(FILE *f, const struct report *r, const struct lab *lab)
{
  size_t i;

  fputs("  <testsuite", f);
  xml_attr(f, "name", lab->id, strlen(lab->id));
  fprintf(f,
          " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\""
          " skipped=\"0\">\n",
          lab->count, lab->failures, lab->errors);
  for (i = 0; i < lab->count; i++)
    junit_case(f, lab, &r->tests[lab->first + i]);
  if (!lab_ok(lab) && *lab->message) {
    fputs("    <system-err>", f);
    xml_text(f, lab->message, MESSAGE_CAP);
    fputs("</system-err>\n", f);
  }
  fputs("  </testsuite>\n", f);
}

static void write_junit(FILE *f, const struct report *r)
{
  size_t i;

  fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", f);
  xml_attr(f, "name", r->title, strlen(r->title));
  fprintf(f, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\">\n", r->ntests, r->failures,
          r->errors);
  for (i = 0; i < r->nlabs; i++)
    junit_suite(f, r, &r->labs[i]);
  fputs("</testsuites>\n", f);
}

/* ---- results.tap ---- */

/* A raw '#' would start a TAP directive ("# SKIP") inside a test name. */
static void tap_chars(FILE *f, const char *s)
{
  const char *start;
  uint32_t c;

  while (*s) {
    start = s;
    c = next_cp(&s);
    if (c == '#' || c == '\\')
      fprintf(f, "\\%c", (int) c);
    else if (c == '\t')
      fputc(' ', f);
    else if (term_unsafe(c))
      fputs(REPLACEMENT, f);
    else
      fwrite(start, 1, (size_t) (s - start), f);
  }
}

static void tap_yaml(FILE *f, const struct test *t)
{
  fputs("  ---\n  message: ", f);
  json_str(f, t->message, MESSAGE_CAP);
  fprintf(f, "\n  severity: %s\n  points: %llu/%llu\n", state_name(test_state(t)),
          (unsigned long long) test_score(t), (unsigned long long) t->max_points);
  if (*t->hint) {
    fputs("  hint: ", f);
    json_str(f, t->hint, MESSAGE_CAP);
    fputc('\n', f);
  }
  if (*t->output) {
    fputs("  output: ", f);
    json_str(f, t->output, OUTPUT_CAP);
    fputc('\n', f);
  }
  fputs("  ...\n", f);
}

static void write_tap(FILE *f, const struct report *r)
{
  const struct lab *lab;
  const struct test *t;
  size_t i, j, k = 0;

  fprintf(f, "TAP version 13\n1..%zu\n", r->ntests);
  for (i = 0; i < r->nlabs; i++) {
    lab = &r->labs[i];
    if (!lab_ok(lab)) {
      fputs("# ", f);
      tap_chars(f, lab->id);
      fprintf(f, ": %s\n", lab_problem(lab));
    }
    for (j = 0; j < lab->count; j++) {
      t = &r->tests[lab->first + j];
      fprintf(f, "%sok %zu - ", test_state(t) == PASS ? "" : "not ", ++k);
      tap_chars(f, lab->id);
      fputs(": ", f);
      tap_chars(f, t->id);
      fputc('\n', f);
      if (test_state(t) != PASS)
        tap_yaml(f, t);
    }
  }
}

static void write_summary_txt(FILE *f, const struct report *r)
{
  fprintf(f, "%llu %llu %zu %zu\n", (unsigned long long) r->score,
          (unsigned long long) r->max_score, r->passed, r->failed);
}

/* ---- the table on stdout ---- */

/*
 * At most cap code points, with nothing that moves the cursor; a tab shows
 * as a space when the caller counts columns (wrapped text).
 */
static void term_text(const char *s, size_t len, size_t cap, bool tab_as_space)
{
  const char *end = s + len, *start;
  size_t n = 0;
  uint32_t c;

  while (s < end) {
    if (n++ == cap) {
      fputs(ELLIPSIS, stdout);
      return;
    }
    start = s;
    c = next_cp(&s);
    if (c == '\t' && tab_as_space)
      putchar(' ');
    else if (term_unsafe(c) || c == '\n')
      fputs(REPLACEMENT, stdout);
    else
      fwrite(start, 1, (size_t) (s - start), stdout);
  }
}

/* One table line: a name, a path, a line of a compiler's message. */
static void term_line(const char *s, size_t len)
{
  term_text(s, len, TABLE_LINE_CAP, false);
}

static size_t count_lines(const char *s, const char *end)
{
  size_t n = 1;

  while ((s = memchr(s, '\n', (size_t) (end - s))) != NULL) {
    n++;
    s++;
  }
  return n;
}

/*
 * Prints up to max lines of s at the detail column; label (e.g. "hint: ")
 * goes on the first line and the rest line up after it.
 */
static void print_block(const char *s, const char *label, size_t max)
{
  const char *end = s + strlen(s), *nl;
  int pad = (int) strlen(label);
  size_t shown = 0;

  while (end > s && end[-1] == '\n') /* no empty last line */
    end--;
  while (s < end && shown < max) {
    nl = memchr(s, '\n', (size_t) (end - s));
    printf("%*s%-*s", DETAIL_COL, "", pad, shown ? "" : label);
    term_line(s, (size_t) ((nl ? nl : end) - s));
    putchar('\n');
    s = nl ? nl + 1 : end;
    shown++;
  }
  if (s < end)
    printf("%*s%*s" ELLIPSIS " %zu more lines\n", DETAIL_COL, "", pad, "", count_lines(s, end));
}

static bool is_blank(char c)
{
  return c == ' ' || c == '\t';
}

/*
 * The first screen line of [s, end) in width code points: up to the last
 * blank that fits, or all width code points of a word longer than a line.
 * Returns its length in bytes without its trailing blanks; *next is where
 * the following screen line starts, past the blanks at the break.
 */
static size_t wrap_at(const char *s, const char *end, size_t width, const char **next)
{
  const char *p = s, *brk = NULL;
  size_t n = 0, len;
  bool word = false; /* leading blanks are indentation, not a break */

  for (; p < end && n < width; n++) {
    if (!is_blank(*p))
      word = true;
    else if (word)
      brk = p;
    next_cp(&p);
  }
  if (p < end && !is_blank(*p) && brk)
    p = brk;
  for (len = (size_t) (p - s); len > 0 && is_blank(s[len - 1]); len--)
    ;
  while (p < end && is_blank(*p))
    p++;
  *next = p;
  return len;
}

/* Said when a wrapped text had more lines than the table shows. */
static void print_cut(const struct report *r, int indent)
{
  printf("%*s" ELLIPSIS, indent, "");
  if (!r->progress) { /* --progress writes no results.json */
    fputs(" more in ", stdout);
    term_line(r->dir, strlen(r->dir));
    fputs("/results.json", stdout);
  }
  putchar('\n');
}

/*
 * Prints s from column margin, label (e.g. "hint: ") on its first line,
 * wrapped at blanks to the terminal's width; a line of s that wraps goes on
 * indented like it.  At most max screen lines: a huge message cannot flood
 * the terminal, and the line after the last says where the rest is.
 */
static void print_wrapped(const struct report *r, int margin, const char *label, const char *s,
                          size_t max)
{
  const char *end = s + strlen(s), *line_end, *next;
  int pad = (int) strlen(label);
  size_t used = (size_t) (margin + pad), shown = 0, lead, indent, len;
  size_t width = r->width > used + WRAP_MIN / 2 ? r->width - used : WRAP_MIN / 2;

  while (end > s && end[-1] == '\n') /* no empty last line */
    end--;
  while (s < end && shown < max) {
    line_end = memchr(s, '\n', (size_t) (end - s));
    line_end = line_end ? line_end : end;
    for (lead = 0; s + lead < line_end && is_blank(s[lead]) && lead < width / 2; lead++)
      ;
    indent = 0;
    do {
      len = wrap_at(s, line_end, width - indent, &next);
      printf("%*s%-*s%*s", margin, "", pad, shown ? "" : label, (int) indent, "");
      term_text(s, len, NO_CAP, true);
      putchar('\n');
      s = next;
      indent = lead;
    } while (++shown < max && s < line_end);
    if (s == line_end && line_end < end)
      s = line_end + 1;
  }
  if (s < end)
    print_cut(r, margin + pad);
}

/* "Lab 00-the-loop ........ 7/20", the score flush with TABLE_WIDTH. */
static void print_score_line(const struct report *r, const char *label, const char *name,
                             uint64_t score, uint64_t max)
{
  char pts[48];
  int used;

  snprintf(pts, sizeof pts, "%llu/%llu", (unsigned long long) score, (unsigned long long) max);
  used = (int) (strlen(label) + strlen(pts) + cp_count(name, strlen(name)));
  printf("%s%s", r->pal.bold, label);
  term_line(name, strlen(name));
  printf("%*s%s%s", used < TABLE_WIDTH ? TABLE_WIDTH - used : 1, "", pts, r->pal.reset);
}

static void print_status(const struct report *r, enum state s)
{
  const char *word = s == PASS ? "PASS" : s == FAIL ? "FAIL" : "ERROR";

  printf("  %s%s%s%*s", s == PASS ? r->pal.green : r->pal.red, word, r->pal.reset,
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
  term_line(section, stem);
  fputs(ext, stdout);
  term_line(section + stem, strlen(section + stem));
  putchar('\n');
}

/*
 * A test that stopped at a starter's stub fails with grader/child.c's
 * message "not implemented yet: FUNC() at FILE:LINE still has its TODO
 * stub" (stub.h; AP_TODO, helpers/todo.c, says where it is).  Its hint is about
 * what the test checks, not about that function: the next step is to
 * write the function.  Fills the two spans; false for any other failure.
 */
struct stub {
  const char *func, *where;
  int func_len, where_len;
};

static bool todo_stub(const struct test *t, struct stub *st)
{
  static const char head[] = GRADE_STUB_HEAD, mid[] = GRADE_STUB_MID, tail[] = GRADE_STUB_TAIL;
  const char *s = t->message, *at, *end = s + strcspn(s, "\n");
  size_t n = sizeof tail - 1;

  if (test_state(t) != FAIL || strncmp(s, head, sizeof head - 1) != 0)
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
static const struct test *first_failing(const struct report *r)
{
  size_t i;

  for (i = 0; i < r->ntests; i++)
    if (test_state(&r->tests[i]) != PASS)
      return &r->tests[i];
  return NULL;
}

static void print_test(const struct report *r, const struct test *t)
{
  struct stub stub;
  char pts[48];
  int n;

  print_status(r, test_state(t));
  n = snprintf(pts, sizeof pts, "%llu/%llu", (unsigned long long) test_score(t),
               (unsigned long long) t->max_points);
  printf("%s%*s", pts, n < 6 ? 6 - n : 1, "");
  term_line(t->id, strlen(t->id));
  puts(t->hidden ? " (hidden)" : "");
  if (test_state(t) == PASS)
    return;
  if (r->brief && t != first_failing(r)) {
    print_wrapped(r, DETAIL_COL, "", t->message, 1);
    return;
  }
  print_wrapped(r, DETAIL_COL, "", t->message, TEST_MESSAGE_LINES);
  print_block(t->output, "output: ", OUTPUT_LINES);
  if (!todo_stub(t, &stub))
    print_wrapped(r, DETAIL_COL, "hint: ", t->hint, HINT_LINES);
  if (*t->section)
    print_section(DETAIL_COL, t->section);
}

static void print_lab(const struct report *r, const struct lab *lab)
{
  size_t i;

  print_score_line(r, "Lab ", lab->id, lab->score, lab->max_score);
  putchar('\n');
  if (!lab_ok(lab)) {
    print_status(r, ERROR);
    printf("%6s%s\n", "", lab_problem(lab));
  }
  print_block(lab->message, "", LAB_MESSAGE_LINES);
  for (i = 0; i < lab->count; i++)
    print_test(r, &r->tests[lab->first + i]);
}

/*
 * Work through the labs in order: the first failure is the next step, and
 * its hint says what to fix; a stub that still runs is written first.
 */
static void print_next(const struct report *r)
{
  const struct lab *lab;
  const struct test *t = first_failing(r);
  struct stub st;
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
    die("%s", "out of memory", errno);
  fprintf(f, "%s: ", lab->id);
  if (todo_stub(t, &st))
    fprintf(f, "write %.*s() at %.*s " EM_DASH " %s stops at its TODO stub", st.func_len, st.func,
            st.where_len, st.where, t->id);
  else if (*t->hint)
    fprintf(f, "%s " EM_DASH " %.*s", t->id, (int) first_line_len(t->hint, MESSAGE_CAP), t->hint);
  else
    fputs(t->id, f);
  fclose(f);
  print_wrapped(r, 0, "Next: ", buf, NEXT_LINES);
  free(buf);
  if (*t->section)
    print_section((int) strlen("Next: "), t->section);
}

/* Shown first: a score earned with changed tests is no score. */
static void print_tampered(const struct report *r)
{
  size_t i, total = r->ntampered + r->tampered_more;

  if (!total)
    return;
  printf("%sTAMPERED%s: the grader was changed (%zu finding%s); this score will not count:\n",
         r->pal.red, r->pal.reset, total, total == 1 ? "" : "s");
  for (i = 0; i < r->ntampered && i < TAMPER_SHOWN; i++) {
    printf("%*s", DETAIL_COL, "");
    term_line(r->tampered[i].path, strlen(r->tampered[i].path));
    fputs(" (", stdout);
    term_line(r->tampered[i].what, strlen(r->tampered[i].what));
    puts(")");
  }
  if (total > TAMPER_SHOWN)
    printf("%*s" ELLIPSIS " %zu more\n", DETAIL_COL, "", total - TAMPER_SHOWN);
}

static void print_title(const struct report *r)
{
  if (!r->title_given)
    return;
  printf("%s", r->pal.bold);
  term_line(r->title, strlen(r->title));
  printf("%s\n", r->pal.reset);
}

/* Never "all tests passed" when the hidden tests did not run. */
static void print_verdict(const struct report *r)
{
  if (!perfect(r))
    return;
  if (r->any_hidden)
    printf("%sAll tests passed, hidden tests included.%s\n", r->pal.green, r->pal.reset);
  else
    printf("%sAll public tests passed.%s Hidden tests, if the course has any, did not run "
           "here: they run when your work is graded.\n",
           r->pal.green, r->pal.reset);
}

static void print_table(const struct report *r)
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

/* ---- make progress: one line per lab, then the next step ---- */

static const char *progress_word(const struct lab *lab)
{
  if (!lab_ok(lab))
    return "does not build";
  if (lab->max_score && lab->score >= lab->max_score)
    return "done";
  return lab->score ? "partly done" : "not started";
}

static void print_progress(const struct report *r)
{
  size_t i, done = 0, partly = 0;
  const struct lab *lab;
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

/* ---- GitHub Actions ---- */

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
    c = next_cp(&s);
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
    else if (term_unsafe(c))
      fputs(REPLACEMENT, stdout);
    else
      fwrite(start, 1, (size_t) (s - start), stdout);
  }
}

static void gha_capped(const char *s, size_t cap)
{
  bool cut;

  gha_chars(s, prefix_len(s, cap, &cut), false);
  if (cut)
    fputs(TRUNCATED, stdout);
}

static void gha_test(const struct lab *lab, const struct test *t)
{
  struct stub stub;

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
  gha_capped(*t->message ? t->message : state_name(test_state(t)), MESSAGE_CAP);
  if (*t->hint && !todo_stub(t, &stub)) { /* a hint about another function */
    fputs("%0Ahint: ", stdout);
    gha_capped(t->hint, MESSAGE_CAP);
  }
  putchar('\n');
}

/* A lab that did not build gets its own annotation: the compiler's words. */
static void gha_lab(const struct lab *lab)
{
  fputs("::error title=", stdout);
  gha_chars(lab->id, strlen(lab->id), true);
  gha_chars(": ", 2, true);
  gha_chars(lab_problem(lab), strlen(lab_problem(lab)), true);
  fputs("::", stdout);
  gha_capped(*lab->message ? lab->message : lab_problem(lab), MESSAGE_CAP);
  putchar('\n');
}

static void gha_tampered(const struct report *r)
{
  size_t i;

  printf("::error title=grader changed::%zu finding(s), this score will not count:",
         r->ntampered + r->tampered_more);
  for (i = 0; i < r->ntampered && i < TAMPER_SHOWN; i++) {
    fputs(i ? ", " : " ", stdout);
    gha_capped(r->tampered[i].path, TABLE_LINE_CAP);
  }
  putchar('\n');
}

static void print_annotations(const struct report *r)
{
  const struct lab *lab;
  size_t i, j;

  if (r->ntampered)
    gha_tampered(r);
  for (i = 0; i < r->nlabs; i++) {
    lab = &r->labs[i];
    if (!lab_ok(lab))
      gha_lab(lab);
    for (j = 0; j < lab->count; j++)
      if (test_state(&r->tests[lab->first + j]) != PASS)
        gha_test(lab, &r->tests[lab->first + j]);
  }
}

/*
 * The runner treats any log line starting with "::" (after blanks) as a
 * command, and the table quotes student output.  stop-commands with a
 * token chosen after that output was produced keeps it inert.
 */
static void make_token(char *buf, size_t size)
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

static void print_stdout(const struct report *r, bool gha)
{
  char token[40] = "report";

  if (gha) {
    print_annotations(r);
    make_token(token, sizeof token);
    printf("::stop-commands::%s\n", token);
  }
  print_table(r);
  if (gha)
    printf("::%s::\n", token);
  printf("%zu passed, %zu failed\n", r->passed, r->failed);
}

/* Table cells: '|' ends a cell, a newline ends the table, HTML is live. */
static void md_chars(FILE *f, const char *s)
{
  const char *start;
  uint32_t c;

  while (*s) {
    start = s;
    c = next_cp(&s);
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
    else if (term_unsafe(c))
      fputs(REPLACEMENT, f);
    else
      fwrite(start, 1, (size_t) (s - start), f);
  }
}

static void write_step_summary(FILE *f, const struct report *r)
{
  /* indexed by enum state: check mark, cross, warning sign */
  static const char *mark[] = {"\xe2\x9c\x85", "\xe2\x9d\x8c", "\xe2\x9a\xa0\xef\xb8\x8f"};
  const struct lab *lab;
  size_t i;

  fputs("### ", f);
  md_chars(f, r->title);
  fputs("\n\n| Lab | Status | Score |\n| :-- | :-- | --: |\n", f);
  for (i = 0; i < r->nlabs; i++) {
    lab = &r->labs[i];
    fputs("| ", f);
    md_chars(f, lab->id);
    fprintf(f, " | %s %s | %llu/%llu |\n", mark[lab_state(lab)], state_name(lab_state(lab)),
            (unsigned long long) lab->score, (unsigned long long) lab->max_score);
  }
  fprintf(f,
          "| **Total** | %s **%s** | **%llu/%llu** |\n\n"
          "%zu passed, %zu failed\n\n",
          mark[report_state(r)], state_name(report_state(r)), (unsigned long long) r->score,
          (unsigned long long) r->max_score, r->passed, r->failed);
  if (!r->any_hidden)
    fputs("Public tests only: hidden tests did not run here.\n\n", f);
  for (i = 0; i < r->ntampered && i < TAMPER_SHOWN; i++) {
    fputs(i ? ", " : "**Tampered:** the grader was changed: ", f);
    md_chars(f, r->tampered[i].path);
  }
  if (r->ntampered)
    fputs("\n\n", f);
}

/* ---- output files ---- */

typedef void writer(FILE *f, const struct report *r);

static void close_or_die(FILE *f, const char *path)
{
  bool bad = ferror(f);

  if (fclose(f) != 0 || bad)
    die("cannot write %s", path, errno);
}

static void write_file(const struct report *r, const char *name, writer *fn)
{
  char *path = join(r->dir, "/", name), *tmp = join(path, ".tmp", "");
  FILE *f = fopen(tmp, "w");

  if (!f)
    die("cannot create %s", tmp, errno);
  fn(f, r);
  close_or_die(f, tmp);
  if (rename(tmp, path) != 0)
    die("cannot rename to %s", path, errno);
  free(tmp);
  free(path);
}

/* Appended, not replaced: other steps share the summary file. */
static void append_step_summary(const struct report *r, const char *path)
{
  FILE *f = fopen(path, "a");

  if (!f)
    die("cannot open %s", path, errno);
  write_step_summary(f, r);
  close_or_die(f, path);
}

/* ---- main ---- */

static int usage(void)
{
  fputs("usage: report --results DIR [--strict] [--title TEXT] [--tampered FILE]\n"
        "              [--brief | --progress]\n",
        stderr);
  return 2;
}

static bool parse_args(struct report *r, int argc, char **argv)
{
  int i;

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--strict") == 0)
      r->strict = true;
    else if (strcmp(argv[i], "--results") == 0 && i + 1 < argc)
      r->dir = argv[++i];
    else if (strcmp(argv[i], "--tampered") == 0 && i + 1 < argc)
      r->tampered_path = argv[++i];
    else if (strcmp(argv[i], "--brief") == 0)
      r->brief = true;
    else if (strcmp(argv[i], "--progress") == 0)
      r->progress = true;
    else if (strcmp(argv[i], "--title") == 0 && i + 1 < argc) {
      i++;
      free(r->title);
      r->title = utf8_repair(argv[i], strlen(argv[i]));
      r->title_given = true;
    } else
      return false;
  }
  if (!r->title)
    r->title = utf8_repair("Grader results", 14);
  return r->dir && *r->dir;
}

static void choose_palette(struct report *r)
{
  static const struct palette plain = {"", "", "", ""};
  static const struct palette ansi = {"\033[1m", "\033[32m", "\033[31m", "\033[0m"};

  r->pal = isatty(STDOUT_FILENO) && !env_set("NO_COLOR") ? ansi : plain;
}

/* COLUMNS when set (as Python's shutil does), else the terminal's width. */
static size_t terminal_width(void)
{
  const char *columns = getenv("COLUMNS");
  uint64_t n = columns ? parse_count(columns) : 0;
  struct winsize ws;

  if (!n && isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
    n = ws.ws_col;
  if (!n)
    n = WRAP_DEFAULT;
  return n < WRAP_MIN ? WRAP_MIN : n > WRAP_MAX ? WRAP_MAX : (size_t) n;
}

static void test_free(struct test *t)
{
  free(t->id);
  free(t->status);
  free(t->section);
  free(t->hint);
  free(t->message);
  free(t->file);
  free(t->output);
}

static void report_free(struct report *r)
{
  size_t i;

  for (i = 0; i < r->nlabs; i++) {
    free(r->labs[i].id);
    free(r->labs[i].status);
    free(r->labs[i].message);
  }
  for (i = 0; i < r->ntests; i++)
    test_free(&r->tests[i]);
  for (i = 0; i < r->ntampered; i++) {
    free(r->tampered[i].path);
    free(r->tampered[i].what);
  }
  free(r->tampered);
  free(r->labs);
  free(r->tests);
  free(r->title);
}

int main(int argc, char **argv)
{
  struct report r = {0};
  const char *gha = getenv("GITHUB_ACTIONS");
  bool in_actions = gha && strcmp(gha, "true") == 0;
  int status;

  if (!parse_args(&r, argc, argv)) {
    free(r.title);
    return usage();
  }
  if (load_records(&r) == 0) {
    fprintf(stderr, "report: no .rec files in %s/raw\n", r.dir);
    report_free(&r);
    return 2;
  }
  load_tampered(&r);
  tally(&r);
  choose_palette(&r);
  r.width = terminal_width();
  if (r.progress) {
    print_progress(&r);
    report_free(&r);
    return fflush(stdout) == 0 ? 0 : 2;
  }
  print_stdout(&r, in_actions);
  write_file(&r, "results.json", write_json);
  write_file(&r, "junit.xml", write_junit);
  write_file(&r, "results.tap", write_tap);
  write_file(&r, "summary.txt", write_summary_txt);
  if (in_actions && env_set("GITHUB_STEP_SUMMARY"))
    append_step_summary(&r, getenv("GITHUB_STEP_SUMMARY"));
  if (fflush(stdout) != 0 || ferror(stdout))
    die("%s", "cannot write to stdout", errno);
  status = r.strict && !perfect(&r) ? 1 : 0;
  report_free(&r);
  return status;
}
