/*
 * load.c: the record files (grader/grader.h) and --tampered's file into a
 * struct rp_report.
 *
 * A record line is tab-separated fields, with backslash escapes for
 * backslash, tab, LF and CR; every field becomes a fresh, valid UTF-8
 * string the report owns.  A runner that crashed may have left a line
 * cut short, fields missing, tests before their lab line or an empty file:
 * each still loads as something the table can show.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "report.h"

#define TEST_FIELDS 13        /* "test" plus twelve values */
#define TAMPER_MAX 1000       /* entries kept from --tampered */
#define COUNT_MAX 0xffffffffu /* sums of these cannot overflow 64 bits */

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
    field[nf++] = rp_utf8_repair(line + start, len);
    start = i + 1;
  }
  return nf;
}

static struct rp_lab *add_lab(struct rp_report *r, char *id, char *status, char *message)
{
  struct rp_lab *lab;

  if (r->nlabs == r->labs_cap)
    r->labs = rp_grow(r->labs, &r->labs_cap, sizeof *r->labs);
  lab = &r->labs[r->nlabs++];
  memset(lab, 0, sizeof *lab);
  lab->id = id;
  lab->status = status;
  lab->message = message;
  lab->first = r->ntests;
  return lab;
}

uint64_t rp_parse_count(const char *s)
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
static void add_test(struct rp_report *r, char **f)
{
  struct rp_test *t;

  if (r->ntests == r->tests_cap)
    r->tests = rp_grow(r->tests, &r->tests_cap, sizeof *r->tests);
  t = &r->tests[r->ntests++];
  t->id = f[2];
  t->status = f[3];
  t->points = rp_parse_count(f[4]);
  t->max_points = rp_parse_count(f[5]);
  t->hidden = strcmp(f[6], "1") == 0;
  t->section = f[7];
  t->hint = f[8];
  t->message = f[9];
  t->file = f[10];
  t->line = rp_parse_count(f[11]);
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
static void add_orphan_lab(struct rp_report *r, const char *stem, const char *why)
{
  add_lab(r, rp_utf8_repair(stem, strlen(stem)), rp_utf8_repair("runner-crashed", 14),
          rp_utf8_repair(why, strlen(why)));
}

/* f holds TEST_FIELDS fields; a lab line without a name takes the file's. */
static void take_lab(struct rp_report *r, char **f, const char *stem)
{
  size_t i;

  if (!*f[1]) {
    free(f[1]);
    f[1] = rp_utf8_repair(stem, strlen(stem));
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

static void load_line(struct rp_report *r, char *line, size_t n, const char *stem, bool *have_lab)
{
  char *f[TEST_FIELDS];
  size_t nf, i;

  n = clean_line(line, n);
  nf = split_fields(line, n, f, TEST_FIELDS);
  for (i = nf; i < TEST_FIELDS; i++)
    f[i] = rp_utf8_repair("", 0);
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

static void load_file(struct rp_report *r, const char *path, const char *stem)
{
  FILE *f = fopen(path, "r");
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  bool have_lab = false;

  if (!f)
    rp_die("cannot open %s", path, errno);
  while ((n = getline(&line, &cap, f)) != -1)
    load_line(r, line, (size_t) n, stem, &have_lab);
  if (ferror(f))
    rp_die("cannot read %s", path, errno);
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
int rp_load_records(struct rp_report *r)
{
  char *raw = rp_join(r->dir, "/raw", ""), *path;
  struct dirent **names;
  int n = scandir(raw, &names, is_record, alphasort), i;

  if (n < 0 && errno != ENOENT && errno != ENOTDIR)
    rp_die("cannot read %s", raw, errno);

  for (i = 0; i < n; i++) {
    path = rp_join(raw, "/", names[i]->d_name);
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

static void add_tamper(struct rp_report *r, char *line, size_t n)
{
  char *f[2];
  size_t nf;

  if (r->ntampered == TAMPER_MAX) {
    r->tampered_more++;
    return;
  }
  nf = split_fields(line, n, f, 2);
  if (nf < 2)
    f[1] = rp_utf8_repair("changed", 7);
  if (r->ntampered == r->tampered_cap)
    r->tampered = rp_grow(r->tampered, &r->tampered_cap, sizeof *r->tampered);
  r->tampered[r->ntampered].path = f[0];
  r->tampered[r->ntampered++].what = f[1];
}

/* The --tampered file: one "path<TAB>what" per line; absent means none. */
void rp_load_tampered(struct rp_report *r)
{
  FILE *f = r->tampered_path ? fopen(r->tampered_path, "r") : NULL;
  char *line = NULL;
  size_t cap = 0, len;
  ssize_t n;

  if (!f && r->tampered_path && errno != ENOENT)
    rp_die("cannot open %s", r->tampered_path, errno);
  if (!f)
    return;
  while ((n = getline(&line, &cap, f)) != -1)
    if ((len = clean_line(line, (size_t) n)) > 0)
      add_tamper(r, line, len);
  if (ferror(f))
    rp_die("cannot read %s", r->tampered_path, errno);
  free(line);
  fclose(f);
}

static void test_free(struct rp_test *t)
{
  free(t->id);
  free(t->status);
  free(t->section);
  free(t->hint);
  free(t->message);
  free(t->file);
  free(t->output);
}

void rp_report_free(struct rp_report *r)
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
