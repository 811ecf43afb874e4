/*
 * wrap.c: text on the student's terminal.  Every string passes through
 * term_text, which lets nothing through that moves the cursor or recolours
 * the screen; long text is cut or wrapped at blanks to r->width, a few
 * screen lines at most, then says where the rest is.
 */
#include <stdio.h>
#include <string.h>

#include "report.h"

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
      fputs(RP_ELLIPSIS, stdout);
      return;
    }
    start = s;
    c = rp_next_cp(&s);
    if (c == '\t' && tab_as_space)
      putchar(' ');
    else if (rp_term_unsafe(c) || c == '\n')
      fputs(RP_REPLACEMENT, stdout);
    else
      fwrite(start, 1, (size_t) (s - start), stdout);
  }
}

/* One table line: a name, a path, a line of a compiler's message. */
void rp_term_line(const char *s, size_t len)
{
  term_text(s, len, RP_TABLE_LINE_CAP, false);
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
void rp_print_block(const char *s, const char *label, size_t max)
{
  const char *end = s + strlen(s), *nl;
  int pad = (int) strlen(label);
  size_t shown = 0;

  while (end > s && end[-1] == '\n') /* no empty last line */
    end--;
  while (s < end && shown < max) {
    nl = memchr(s, '\n', (size_t) (end - s));
    printf("%*s%-*s", RP_DETAIL_COL, "", pad, shown ? "" : label);
    rp_term_line(s, (size_t) ((nl ? nl : end) - s));
    putchar('\n');
    s = nl ? nl + 1 : end;
    shown++;
  }
  if (s < end)
    printf("%*s%*s" RP_ELLIPSIS " %zu more lines\n", RP_DETAIL_COL, "", pad, "",
           count_lines(s, end));
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
    rp_next_cp(&p);
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
static void print_cut(const struct rp_report *r, int indent)
{
  printf("%*s" RP_ELLIPSIS, indent, "");
  if (!r->progress) { /* --progress writes no results.json */
    fputs(" more in ", stdout);
    rp_term_line(r->dir, strlen(r->dir));
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
void rp_print_wrapped(const struct rp_report *r, int margin, const char *label, const char *s,
                      size_t max)
{
  const char *end = s + strlen(s), *line_end, *next;
  int pad = (int) strlen(label);
  size_t used = (size_t) (margin + pad), shown = 0, lead, indent, len;
  size_t width = r->width > used + RP_WRAP_MIN / 2 ? r->width - used : RP_WRAP_MIN / 2;

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
      term_text(s, len, RP_NO_CAP, true);
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
