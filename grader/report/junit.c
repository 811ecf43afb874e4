/*
 * junit.xml: one testsuite per lab, for CI test viewers.  Text and
 * attributes are escaped here; no character XML 1.0 forbids gets out.
 */
#include <stdio.h>
#include <string.h>

#include "report.h"

#define JUNIT_OUTPUT_CAP 65536 /* test viewers cope with more than 500 */

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
    c = rp_next_cp(&s);
    entity = xml_entity(c, attr);
    if (entity)
      fputs(entity, f);
    else if (c != '\n' && (rp_term_unsafe(c) || c == 0xfffe || c == 0xffff))
      fputs(RP_REPLACEMENT, f);
    else
      fwrite(start, 1, (size_t) (s - start), f);
  }
}

static void xml_text(FILE *f, const char *s, size_t cap)
{
  bool cut;

  xml_chars(f, s, rp_prefix_len(s, cap, &cut), false);
  if (cut)
    fputs(RP_TRUNCATED, f);
}

static void xml_attr(FILE *f, const char *name, const char *s, size_t len)
{
  fprintf(f, " %s=\"", name);
  xml_chars(f, s, len, true);
  fputc('"', f);
}

static void junit_problem(FILE *f, const struct rp_test *t)
{
  const char *tag = rp_test_state(t) == RP_FAIL ? "failure" : "error";

  fprintf(f, "      <%s", tag);
  xml_attr(f, "message", t->message, rp_first_line_len(t->message, RP_MESSAGE_CAP));
  fprintf(f, " type=\"%s\">", rp_state_name(rp_test_state(t)));
  xml_text(f, t->message, RP_MESSAGE_CAP);
  if (*t->hint) {
    fputs("\nhint: ", f);
    xml_text(f, t->hint, RP_MESSAGE_CAP);
  }
  fprintf(f, "</%s>\n", tag);
}

static void junit_case(FILE *f, const struct rp_lab *lab, const struct rp_test *t)
{
  fputs("    <testcase", f);
  xml_attr(f, "classname", lab->id, strlen(lab->id));
  xml_attr(f, "name", t->id, strlen(t->id));
  xml_attr(f, "file", t->file, strlen(t->file));
  fprintf(f, " line=\"%llu\">\n", (unsigned long long) t->line);
  if (rp_test_state(t) != RP_PASS)
    junit_problem(f, t);
  if (*t->output) {
    fputs("      <system-out>", f);
    xml_text(f, t->output, JUNIT_OUTPUT_CAP);
    fputs("</system-out>\n", f);
  }
  fputs("    </testcase>\n", f);
}

static void junit_suite(FILE *f, const struct rp_report *r, const struct rp_lab *lab)
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
  if (!rp_lab_ok(lab) && *lab->message) {
    fputs("    <system-err>", f);
    xml_text(f, lab->message, RP_MESSAGE_CAP);
    fputs("</system-err>\n", f);
  }
  fputs("  </testsuite>\n", f);
}

void rp_write_junit(FILE *f, const struct rp_report *r)
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
