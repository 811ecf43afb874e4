/*
 * json.c: results.json, Exercism's test-runner format (version 3) with the
 * grader's fields added; tap.c reuses its strings for TAP's YAML.
 *
 * No JSON library: students install only libuv, Check, make, pkg-config
 * and a C compiler, and jansson would add a dependency for one writer.
 * Writing is the easy half of JSON: a fixed shape and one string escaper.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

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
    c = rp_next_cp(&s);
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

void rp_json_str(FILE *f, const char *s, size_t cap)
{
  bool cut;
  size_t len = rp_prefix_len(s, cap, &cut);

  fputc('"', f);
  json_chars(f, s, len);
  if (cut)
    fputs(RP_TRUNCATED, f);
  fputc('"', f);
}

/* Exercism uses null, not "", for "nothing to say". */
static void json_opt(FILE *f, const char *s, size_t cap)
{
  if (*s)
    rp_json_str(f, s, cap);
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
  rp_json_str(f, s, cap);
}

static void json_field_opt(FILE *f, const char *key, const char *s, size_t cap)
{
  json_field_raw(f, key, "");
  json_opt(f, s, cap);
}

static void json_lab(FILE *f, const struct rp_lab *lab, bool first)
{
  fputs(first ? "\n    {\"lab\": " : ",\n    {\"lab\": ", f);
  rp_json_str(f, lab->id, RP_NO_CAP);
  fprintf(f,
          ", \"status\": \"%s\", \"score\": %llu, "
          "\"max_score\": %llu, \"outcome\": ",
          rp_state_name(rp_lab_state(lab)), (unsigned long long) lab->score,
          (unsigned long long) lab->max_score);
  /* How its run went, as the record says (ok, build-failed, refused,
   * runner-crashed): what the gradebook and make check read, never the
   * record itself. */
  rp_json_str(f, lab->status, RP_NO_CAP);
  fputs(", \"message\": ", f);
  json_opt(f, lab->message, RP_MESSAGE_CAP);
  fputc('}', f);
}

static void json_test(FILE *f, const struct rp_lab *lab, const struct rp_test *t, size_t task_id,
                      bool first)
{
  fputs(first ? "\n    {" : ",\n    {", f);
  fputs("\n      \"name\": \"", f);
  json_chars(f, lab->id, strlen(lab->id));
  fputs(": ", f);
  json_chars(f, t->id, strlen(t->id));
  fputc('"', f);
  json_field_str(f, "lab", lab->id, RP_NO_CAP);
  json_field_str(f, "test", t->id, RP_NO_CAP);
  json_field_str(f, "status", rp_state_name(rp_test_state(t)), RP_NO_CAP);
  json_field_opt(f, "message", t->message, RP_MESSAGE_CAP);
  json_field_opt(f, "output", t->output, RP_OUTPUT_CAP);
  json_field_num(f, "points", rp_test_score(t));
  json_field_num(f, "max_points", t->max_points);
  json_field_raw(f, "hidden", t->hidden ? "true" : "false");
  json_field_str(f, "section", t->section, RP_NO_CAP);
  json_field_str(f, "hint", t->hint, RP_MESSAGE_CAP);
  json_field_str(f, "file", t->file, RP_NO_CAP);
  json_field_num(f, "line", t->line);
  json_field_num(f, "task_id", task_id);
  fputs("\n    }", f);
}

void rp_write_json(FILE *f, const struct rp_report *r)
{
  char *why = rp_problem_summary(r);
  const struct rp_lab *lab;
  size_t i, j;

  fprintf(f,
          "{\n  \"version\": 3,\n  \"status\": \"%s\",\n"
          "  \"message\": ",
          rp_state_name(rp_report_state(r)));
  json_opt(f, why, RP_MESSAGE_CAP);
  fprintf(f,
          ",\n  \"score\": %llu,\n  \"max_score\": %llu,\n"
          "  \"hidden_tests_run\": %s,\n  \"tampered\": [",
          (unsigned long long) r->score, (unsigned long long) r->max_score,
          r->any_hidden ? "true" : "false");
  for (i = 0; i < r->ntampered; i++) {
    fputs(i ? ", " : "", f);
    rp_json_str(f, r->tampered[i].path, RP_MESSAGE_CAP);
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
