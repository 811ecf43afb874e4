/*
 * main.c: the reporter's options, the order of the work (load, tally, print,
 * write the files), and its exit status.  report.h says what it does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "report.h"

/* Messages, hints and "Next:" wrap at blanks to the terminal's width (the
 * table's width): COLUMNS, else the terminal's, else WRAP_DEFAULT. */
#define WRAP_DEFAULT 100
#define WRAP_MAX 400

static void write_summary_txt(FILE *f, const struct rp_report *r)
{
  fprintf(f, "%llu %llu %zu %zu\n", (unsigned long long) r->score,
          (unsigned long long) r->max_score, r->passed, r->failed);
}

static bool env_set(const char *name)
{
  const char *v = getenv(name);

  return v && *v;
}

typedef void writer(FILE *f, const struct rp_report *r);

static void close_or_die(FILE *f, const char *path)
{
  bool bad = ferror(f);

  if (fclose(f) != 0 || bad)
    rp_die("cannot write %s", path, errno);
}

static void write_file(const struct rp_report *r, const char *name, writer *fn)
{
  char *path = rp_join(r->dir, "/", name), *tmp = rp_join(path, ".tmp", "");
  FILE *f = fopen(tmp, "w");

  if (!f)
    rp_die("cannot create %s", tmp, errno);
  fn(f, r);
  close_or_die(f, tmp);
  if (rename(tmp, path) != 0)
    rp_die("cannot rename to %s", path, errno);
  free(tmp);
  free(path);
}

/* Appended, not replaced: other steps share the summary file. */
static void append_step_summary(const struct rp_report *r, const char *path)
{
  FILE *f = fopen(path, "a");

  if (!f)
    rp_die("cannot open %s", path, errno);
  rp_write_step_summary(f, r);
  close_or_die(f, path);
}

static int usage(void)
{
  fputs("usage: report --results DIR [--strict] [--title TEXT] [--tampered FILE]\n"
        "              [--brief | --progress]\n",
        stderr);
  return 2;
}

static bool parse_args(struct rp_report *r, int argc, char **argv)
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
      r->title = rp_utf8_repair(argv[i], strlen(argv[i]));
      r->title_given = true;
    } else
      return false;
  }
  if (!r->title)
    r->title = rp_utf8_repair("Grader results", 14);
  return r->dir && *r->dir;
}

static void choose_palette(struct rp_report *r)
{
  static const struct rp_palette plain = {"", "", "", ""};
  static const struct rp_palette ansi = {"\033[1m", "\033[32m", "\033[31m", "\033[0m"};

  r->pal = isatty(STDOUT_FILENO) && !env_set("NO_COLOR") ? ansi : plain;
}

/* COLUMNS when set (as Python's shutil does), else the terminal's width. */
static size_t terminal_width(void)
{
  const char *columns = getenv("COLUMNS");
  uint64_t n = columns ? rp_parse_count(columns) : 0;
  struct winsize ws;

  if (!n && isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
    n = ws.ws_col;
  if (!n)
    n = WRAP_DEFAULT;
  return n < RP_WRAP_MIN ? RP_WRAP_MIN : n > WRAP_MAX ? WRAP_MAX : (size_t) n;
}

static void print_stdout(const struct rp_report *r, bool gha)
{
  char token[40] = "report";

  if (gha) {
    rp_gha_annotations(r);
    rp_gha_token(token, sizeof token);
    printf("::stop-commands::%s\n", token);
  }
  rp_print_table(r);
  if (gha)
    printf("::%s::\n", token);
  printf("%zu passed, %zu failed\n", r->passed, r->failed);
}

int main(int argc, char **argv)
{
  struct rp_report r = {0};
  const char *gha = getenv("GITHUB_ACTIONS");
  bool in_actions = gha && strcmp(gha, "true") == 0;
  int status;

  if (!parse_args(&r, argc, argv)) {
    free(r.title);
    return usage();
  }
  if (rp_load_records(&r) == 0) {
    fprintf(stderr, "report: no .rec files in %s/raw\n", r.dir);
    rp_report_free(&r);
    return 2;
  }
  rp_load_tampered(&r);
  rp_tally(&r);
  choose_palette(&r);
  r.width = terminal_width();
  if (r.progress) {
    rp_print_progress(&r);
    rp_report_free(&r);
    return fflush(stdout) == 0 ? 0 : 2;
  }
  print_stdout(&r, in_actions);
  write_file(&r, "results.json", rp_write_json);
  write_file(&r, "junit.xml", rp_write_junit);
  write_file(&r, "results.tap", rp_write_tap);
  write_file(&r, "summary.txt", write_summary_txt);
  if (in_actions && env_set("GITHUB_STEP_SUMMARY"))
    append_step_summary(&r, getenv("GITHUB_STEP_SUMMARY"));
  if (fflush(stdout) != 0 || ferror(stdout))
    rp_die("%s", "cannot write to stdout", errno);
  status = r.strict && !rp_perfect(&r) ? 1 : 0;
  rp_report_free(&r);
  return status;
}
