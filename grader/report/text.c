/*
 * text.c: the small utilities every module uses, and UTF-8.
 *
 * Errors end the program (rp_die, exit 2): the reporter has no partial
 * result worth keeping.  rp_utf8_repair runs once per field, as it is
 * loaded; rp_next_cp and the rest trust what it made and never see an
 * invalid byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

void rp_die(const char *fmt, const char *arg, int err)
{
  fprintf(stderr, "report: ");
  fprintf(stderr, fmt, arg);
  if (err)
    fprintf(stderr, ": %s", strerror(err));
  fputc('\n', stderr);
  exit(2);
}

void *rp_xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);

  if (!p)
    rp_die("%s", "out of memory", 0);
  return p;
}

void *rp_grow(void *p, size_t *cap, size_t elem)
{
  *cap = *cap ? *cap * 2 : 16;
  p = realloc(p, *cap * elem);
  if (!p)
    rp_die("%s", "out of memory", 0);
  return p;
}

char *rp_join(const char *a, const char *b, const char *c)
{
  size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
  char *s = rp_xmalloc(la + lb + lc + 1);

  memcpy(s, a, la);
  memcpy(s + la, b, lb);
  memcpy(s + la + lb, c, lc + 1);
  return s;
}

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

char *rp_utf8_repair(const char *in, size_t n)
{
  const unsigned char *s = (const unsigned char *) in;
  char *out = rp_xmalloc(3 * n + 1), *o = out; /* 1 byte -> U+FFFD */
  size_t i = 0, len, bad;

  while (i < n) {
    len = utf8_valid(s + i, n - i, &bad);
    if (len) {
      memcpy(o, s + i, len);
      o += len;
      i += len;
    } else {
      memcpy(o, RP_REPLACEMENT, 3);
      o += 3;
      i += bad;
    }
  }
  *o = '\0';
  return out;
}

/* Decodes one code point of a string rp_utf8_repair has already vetted. */
uint32_t rp_next_cp(const char **p)
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
size_t rp_prefix_len(const char *s, size_t max, bool *cut)
{
  const char *p = s;
  size_t n = 0;

  while (*p && n < max) {
    rp_next_cp(&p);
    n++;
  }
  *cut = *p != '\0';
  return (size_t) (p - s);
}

size_t rp_cp_count(const char *s, size_t len)
{
  const char *p = s;
  size_t n = 0;

  while (p < s + len) {
    rp_next_cp(&p);
    n++;
  }
  return n;
}

size_t rp_first_line_len(const char *s, size_t cap)
{
  bool cut;
  size_t len = rp_prefix_len(s, cap, &cut), nl = strcspn(s, "\n");

  return nl < len ? nl : len;
}

/*
 * C0 controls but tab, DEL and C1 (which xterm and others obey as 8-bit
 * CSI and friends even when UTF-8 encoded) can move the cursor or recolour
 * a terminal; no writer lets them through raw.
 */
bool rp_term_unsafe(uint32_t c)
{
  return (c < 0x20 && c != '\t') || (c >= 0x7f && c <= 0x9f);
}
