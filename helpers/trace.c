/* trace.c — the event trace and the gauge.
 *
 * Tests compare the order of events, never their times: times are kept for
 * demos and for the book's timelines only.
 */
#include <stdlib.h>
#include <string.h>

#include "ap.h"

void ap_trace_init(ap_trace_t *t, uv_loop_t *loop)
{
  memset(t, 0, sizeof(*t));
  t->loop = loop;
  t->t0 = uv_hrtime();
}

void ap_trace_free(ap_trace_t *t)
{
  free(t->events);
  t->events = NULL;
  t->count = t->capacity = 0;
}

static void grow(ap_trace_t *t)
{
  size_t capacity = t->capacity == 0 ? 64 : t->capacity * 2;
  ap_event_t *events = realloc(t->events, capacity * sizeof(*events));

  if (events == NULL) {
    fprintf(stderr, "ap_trace: out of memory after %zu events\n", t->count);
    abort();
  }
  t->events = events;
  t->capacity = capacity;
}

void ap_trace_add(ap_trace_t *t, const char *what, long id, long value)
{
  ap_event_t *e;

  if (t->count == t->capacity)
    grow(t);
  e = &t->events[t->count++];
  e->ns = uv_hrtime() - t->t0;
  e->loop_ms = t->loop != NULL ? uv_now(t->loop) : 0;
  e->what = what;
  e->id = id;
  e->value = value;
  if (t->echo != NULL)
    fprintf(t->echo, "%8.3f ms  %-12s #%ld  %ld\n", e->ns / 1e6, what, id, value);
}

char *ap_trace_format(const ap_trace_t *t, const char *prefix, char *buf, size_t size)
{
  size_t used = 0, plen = strlen(prefix);

  buf[0] = '\0';
  for (size_t i = 0; i < t->count && used + 1 < size; i++) {
    const ap_event_t *e = &t->events[i];
    if (strncmp(e->what, prefix, plen) != 0)
      continue;
    used += snprintf(buf + used, size - used, "%s%s:%ld", used ? " " : "", e->what, e->id);
  }
  return buf;
}

long ap_trace_find(const ap_trace_t *t, const char *what, long id, size_t from)
{
  for (size_t i = from; i < t->count; i++)
    if (t->events[i].id == id && strcmp(t->events[i].what, what) == 0)
      return (long) i;
  return -1;
}

size_t ap_trace_count(const ap_trace_t *t, const char *what)
{
  size_t n = 0;

  for (size_t i = 0; i < t->count; i++)
    n += strcmp(t->events[i].what, what) == 0;
  return n;
}

int ap_trace_write_csv(const ap_trace_t *t, FILE *out)
{
  fprintf(out, "ms,event,id,value\n");
  for (size_t i = 0; i < t->count; i++) {
    const ap_event_t *e = &t->events[i];
    fprintf(out, "%.3f,%s,%ld,%ld\n", e->ns / 1e6, e->what, e->id, e->value);
  }
  return ferror(out) ? UV_EIO : 0;
}

void ap_gauge_inc(ap_gauge_t *g)
{
  g->current++;
  g->starts++;
  if (g->current > g->peak)
    g->peak = g->current;
}

void ap_gauge_dec(ap_gauge_t *g)
{
  g->current--;
  g->ends++;
}
