/* demo.c — lab 05's demo: the fetcher against a real upstream, started in
 * this process on an ephemeral port of 127.0.0.1.
 *
 *   make run LAB=05                  your lab
 *   demo [--n N] [--limit L] [--csv FILE] [--keep]
 *
 * The upstream serves at most 4 connections at once and answers after 40 ms.
 * The demo fetches N items (default 24, at most 100) twice, with one retry
 * each time: bounded (L connections at once, default 4; items 0..N-1), then
 * unbounded (N at once; items 100..), and compares the two. In each run the
 * upstream resets the first request of item 3 (103), answers 500 for item 7
 * (107) every time and answers item 11 (111) late. Ctrl-C stops the current
 * run (cap_fetch_stop): what was fetched is kept, the rest is cancelled.
 * --csv FILE writes the event trace of both runs; --keep keeps the files.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"

typedef struct run {
  const char *name;
  long limit;
  cap_summary_t sum;
  long rejected;    /* the upstream's 429s */
  long peak;        /* the upstream's most open connections */
  uint64_t mean_ms; /* mean and max time to a fetched result */
  uint64_t max_ms;
} run_t;

typedef struct demo {
  ap_rt_t rt;
  ap_trace_t trace;
  ap_upstream_t up;
  cap_fetch_t f;
  uv_signal_t sigint;
  long *items;
  cap_result_t *results;
  size_t n;
  char dir[64];
  int tty;     /* stdout is a terminal: draw a progress bar */
  int stopped; /* Ctrl-C: no second run */
  size_t current;
  run_t runs[2];
} demo_t;

static void start_run(demo_t *d);

static void progress_bar(demo_t *d, const cap_result_t *r, size_t k)
{
  char bar[41], why[96];
  size_t filled = k * 40 / d->n;

  memset(bar, '#', filled);
  memset(bar + filled, '.', 40 - filled);
  bar[40] = '\0';
  printf("\r  [%s] %3zu/%zu  item %-3ld %-26.26s", bar, k, d->n, r->item,
         r->status == 0 ? "ok" : cap_reason(r, why, sizeof(why)));
  if (k == d->n)
    printf("\n");
  fflush(stdout);
}

static void on_result(cap_fetch_t *f, const cap_result_t *r, size_t k)
{
  demo_t *d = f->data;
  char why[96];

  if (d->tty) {
    progress_bar(d, r, k);
  } else if (r->status == 0) {
    printf(
        "  %3zu/%zu  item %-3ld ok      %4zu bytes  fnv1a %016llx  at %3llu ms  (%d attempt%s)\n",
        k, d->n, r->item, r->bytes, (unsigned long long) r->checksum, (unsigned long long) r->ms,
        r->attempts, r->attempts == 1 ? "" : "s");
  } else if (r->status == UV_ECANCELED) {
    printf("  %3zu/%zu  item %-3ld cancelled\n", k, d->n, r->item);
  } else {
    printf("  %3zu/%zu  item %-3ld FAILED  %s  at %llu ms  (%d attempt%s)\n", k, d->n, r->item,
           cap_reason(r, why, sizeof(why)), (unsigned long long) r->ms, r->attempts,
           r->attempts == 1 ? "" : "s");
  }
}

/* The failures, one line per reason: "HTTP 429: items 4 5 6 ...". */
static void list_failures(demo_t *d)
{
  char why[96], other[96];

  for (size_t i = 0; i < d->n; i++) {
    const cap_result_t *r = &d->results[i];
    size_t shown = 0, j;
    if (r->status == 0 || r->status == UV_ECANCELED)
      continue;
    cap_reason(r, why, sizeof(why));
    for (j = 0; j < i; j++) /* listed already with an earlier item? */
      if (d->results[j].status == r->status &&
          strcmp(cap_reason(&d->results[j], other, sizeof(other)), why) == 0)
        break;
    if (j < i)
      continue;
    printf("  failed (%s): items", why);
    for (j = i; j < d->n; j++)
      if (d->results[j].status == r->status &&
          strcmp(cap_reason(&d->results[j], other, sizeof(other)), why) == 0 && shown++ < 12)
        printf(" %ld", d->results[j].item);
    printf("%s\n", shown > 12 ? " ..." : "");
  }
}

/* Time to result of the fetched items. */
static void summarize(demo_t *d, run_t *run)
{
  uint64_t total = 0;

  run->max_ms = 0;
  for (size_t i = 0; i < d->n; i++) {
    const cap_result_t *r = &d->results[i];
    if (r->status == 0) {
      total += r->ms;
      run->max_ms = r->ms > run->max_ms ? r->ms : run->max_ms;
    }
  }
  run->mean_ms = run->sum.fetched > 0 ? total / run->sum.fetched : 0;
  list_failures(d);
}

static void remove_files(demo_t *d, int keep)
{
  char path[128];

  for (size_t i = 0; i < 2 * d->n && !keep; i++) {
    snprintf(path, sizeof(path), "%s/item-%ld.txt", d->dir, (long) (i / d->n * 100 + i % d->n));
    unlink(path);
  }
  if (!keep)
    rmdir(d->dir);
}

static void compare(demo_t *d)
{
  printf("\n  %-10s %5s %8s %7s %10s %6s %5s %9s   %s\n", "run", "limit", "fetched", "failed",
         "cancelled", "429s", "peak", "total", "time to result, mean/max");
  for (size_t i = 0; i <= d->current && i < 2; i++) {
    run_t *r = &d->runs[i];
    printf("  %-10s %5ld %8zu %7zu %10zu %6ld %5ld %6llu ms   %llu/%llu ms\n", r->name, r->limit,
           r->sum.fetched, r->sum.failed, r->sum.cancelled, r->rejected, r->peak,
           (unsigned long long) r->sum.ms, (unsigned long long) r->mean_ms,
           (unsigned long long) r->max_ms);
  }
  printf("  (429s and peak: as counted by the upstream, which serves 4 connections at most)\n");
}

static void on_drained(ap_upstream_t *up)
{
  demo_t *d = up->data;
  run_t *run = &d->runs[d->current];

  run->rejected = up->rejected;
  run->peak = up->peak;
  printf("  upstream: %ld connections served, %ld turned away (429), peak %ld open, "
         "%ld closed by the client, %ld abandoned\n",
         up->accepted, up->rejected, up->peak, up->closed, up->abandoned);
  if (!d->stopped && ++d->current < 2) {
    start_run(d);
    return;
  }
  compare(d);
  uv_close((uv_handle_t *) &d->sigint, NULL);
}

static void on_done(cap_fetch_t *f, const cap_summary_t *s)
{
  demo_t *d = f->data;
  run_t *run = &d->runs[d->current];

  run->sum = *s;
  printf("  %s: %zu fetched, %zu failed, %zu cancelled, %ld retries, in %llu ms\n", run->name,
         s->fetched, s->failed, s->cancelled, s->retries, (unsigned long long) s->ms);
  summarize(d, run);
  ap_upstream_drain(&d->up, on_drained);
}

static void on_sigint(uv_signal_t *sig, int signum)
{
  demo_t *d = sig->data;

  (void) signum;
  d->stopped = 1;
  if (cap_fetch_stop(&d->f) == 0)
    printf("\n  Ctrl-C: stopping (fetched bodies are still written)\n");
}

static int start_upstream(demo_t *d)
{
  memset(&d->up, 0, sizeof(d->up));
  d->up.data = d;
  d->up.max_conns = 4;
  d->up.latency_ms = 40;
  d->up.slow_ms = 300;
  for (long base = 0; base <= 100; base += 100) {
    ap_upstream_fault(&d->up, base + 3, AP_UPSTREAM_RESET, 1);
    ap_upstream_fault(&d->up, base + 7, AP_UPSTREAM_ERROR, -1);
    ap_upstream_fault(&d->up, base + 11, AP_UPSTREAM_SLOW, -1);
  }
  return ap_upstream_start(&d->rt.loop, &d->up);
}

static void start_run(demo_t *d)
{
  run_t *run = &d->runs[d->current];
  int err = start_upstream(d);

  /* Items 0.. in the first run, 100.. in the second: one trace, distinct rows. */
  for (size_t i = 0; i < d->n; i++)
    d->items[i] = (long) (d->current * 100 + i);
  printf("\n%s run: items %ld..%ld, at most %ld connection%s at once, 1 retry\n", run->name,
         d->items[0], d->items[d->n - 1], run->limit, run->limit > 1 ? "s" : "");
  ap_trace_add(&d->trace, "run", -1, run->limit);
  memset(&d->f, 0, sizeof(d->f));
  d->f.data = d;
  d->f.port = d->up.port;
  d->f.limit = run->limit;
  d->f.retries = 1;
  d->f.dir = d->dir;
  d->f.trace = &d->trace;
  d->f.on_result = on_result;
  if (err == 0)
    err = cap_fetch_start(&d->rt.loop, &d->f, d->items, d->n, d->results, on_done);
  if (err != 0) {
    fprintf(stderr, "demo: %s\n", uv_strerror(err));
    ap_upstream_stop(&d->up, NULL);
    uv_close((uv_handle_t *) &d->sigint, NULL);
  }
}

static void parse_args(demo_t *d, int argc, char **argv, const char **csv, int *keep)
{
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--keep") == 0)
      *keep = 1;
    else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc)
      *csv = argv[++i];
    else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
      d->n = (size_t) strtoul(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
      d->runs[0].limit = strtol(argv[++i], NULL, 10);
    else
      fprintf(stderr, "demo: ignoring %s\n", argv[i]);
  }
  if (d->n < 1 || d->n > 100)
    d->n = 24;
  if (d->runs[0].limit < 1)
    d->runs[0].limit = 4;
  d->runs[1].limit = (long) d->n;
}

int main(int argc, char **argv)
{
  static demo_t d = {.runs = {{.name = "bounded"}, {.name = "unbounded"}}};
  const char *csv = NULL;
  int keep = 0;

  parse_args(&d, argc, argv, &csv, &keep);
  d.items = calloc(d.n, sizeof(*d.items));
  d.results = calloc(d.n, sizeof(*d.results));
  snprintf(d.dir, sizeof(d.dir), "/tmp/capstone-XXXXXX");
  if (d.items == NULL || d.results == NULL || mkdtemp(d.dir) == NULL) {
    perror("demo");
    return 1;
  }
  d.tty = isatty(STDOUT_FILENO);
  ap_rt_init(&d.rt);
  ap_trace_init(&d.trace, &d.rt.loop);
  uv_signal_init(&d.rt.loop, &d.sigint);
  d.sigint.data = &d;
  uv_signal_start(&d.sigint, on_sigint, SIGINT);
  printf("fetching into %s; the upstream: 4 connections at most, 40 ms per answer,\n"
         "items 3 and 103 reset once, 7 and 107 always 500, 11 and 111 slow (Ctrl-C stops)\n",
         d.dir);
  start_run(&d);
  ap_rt_run(&d.rt);
  remove_files(&d, keep);
  printf("\nfiles %s %s\n", keep ? "kept in" : "removed from", d.dir);
  free(d.items);
  free(d.results);
  return ap_demo_finish(&d.rt, &d.trace, csv);
}
