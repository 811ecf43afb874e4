/* demo.c — lab 02's demo: the same eight timers consumed as they complete
 * (as_completed, with a progress line) and gathered in input order; then
 * once more with a timeout that cancels the slow tail.
 *
 *   make run LAB=02                  your lab
 *   demo --csv FILE                  also write the trace as CSV (the book's timeline)
 *
 * On a terminal the progress is a bar redrawn in place with '\r'; when the
 * output is a pipe or a file it is plain lines, one per result.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "co.h"

enum { N = 8 };
static const uint64_t delays[N] = {480, 120, 360, 60, 600, 240, 30, 900};

/* One timer operation: an ap_sleep that reports through its completion. */
typedef struct demo_op {
  ap_sleep_t sleep;
  co_completion_t *c;
} demo_op_t;

typedef struct demo_set {
  demo_op_t ops[N];
  int traced;   /* 1: its events go to the trace */
  long id_base; /* trace id of operation i: id_base + i */
} demo_set_t;

static ap_trace_t trace;
static uint64_t t0;
static int tty;                   /* stdout is a terminal: draw the progress bar */
static size_t bar_k, bar_n;       /* the bar's state; bar_n == 0: no bar shown */
static unsigned long first_ms[2]; /* when each side first had a result: 0 as_completed, 1 gather */

/* Trace ids: part one's operations are 0-7, gather's result 8, its all-done 9;
 * part two's operations are 10-17, its all-done 19. One timeline row per id. */
static void note(const demo_set_t *set, const char *what, long index, long value)
{
  if (set->traced)
    ap_trace_add(&trace, what, set->id_base + index, value);
}

static unsigned long elapsed_ms(void)
{
  return (unsigned long) ((uv_hrtime() - t0) / 1000000);
}

/* The progress bar, redrawn in place with '\r'. Only on a terminal: in a
 * pipe or a file, the "(k/n)" at the end of each result line says it. */
static void draw_bar(void)
{
  char bar[N + 1];
  size_t width = bar_n < N ? bar_n : N;

  if (!tty || bar_n == 0)
    return;
  for (size_t i = 0; i < width; i++)
    bar[i] = i < bar_k ? '#' : '.';
  bar[width] = '\0';
  printf("\r  progress [%s] %zu/%zu", bar, bar_k, bar_n);
  fflush(stdout);
}

/* Prints one line above the bar: erase the bar, print, draw it again. */
static void say(const char *fmt, ...)
{
  va_list ap;

  if (tty)
    printf("\r\033[K");
  printf("  %5lu ms  ", elapsed_ms());
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  draw_bar();
}

static void on_sleep(ap_sleep_t *sleep, int status)
{
  demo_op_t *op = AP_CONTAINER_OF(sleep, demo_op_t, sleep);
  demo_set_t *set = op->c->data;
  long index = (long) op->c->index;

  note(set, status == 0 ? "done" : "cancelled", index, status);
  if (status != 0)
    say("                #%ld ended: %s, its timer closed", index, uv_err_name(status));
  co_complete(op->c, status, (long) delays[index]);
}

static int start_sleep(uv_loop_t *loop, size_t index, void *ctx, co_completion_t *c)
{
  demo_set_t *set = ctx;
  demo_op_t *op = &set->ops[index];

  op->c = c;
  c->data = set;
  note(set, "start", (long) index, (long) delays[index]);
  return ap_sleep_start(loop, &op->sleep, delays[index], on_sleep);
}

static int cancel_sleep(uv_loop_t *loop, size_t index, void *ctx, co_completion_t *c)
{
  demo_set_t *set = ctx;

  (void) loop, (void) c;
  note(set, "cancel", (long) index, 0);
  return ap_sleep_cancel(&set->ops[index].sleep);
}

/* $begin demo-consume */
static void consume(co_queue_t *q, const co_item_t *item)
{
  note(q->data, "consume", (long) item->index, (long) item->k);
  if (item->k == 1)
    first_ms[0] = elapsed_ms();
  bar_k = item->k;
  bar_n = item->n;
  if (item->status == 0)
    say("as_completed: #%zu -> %ld ms   (%zu/%zu)", item->index, item->value, item->k, item->n);
  else
    say("as_completed: #%zu -> %s   (%zu/%zu)", item->index, uv_err_name(item->status), item->k,
        item->n);
}
/* $end demo-consume */

static void queue_done(co_queue_t *q)
{
  note(q->data, "all-done", 9, (long) q->timed_out);
  bar_n = 0;
  say("as_completed: done, %zu timed out", q->timed_out);
}

static void gather_done(co_gather_t *g)
{
  co_result_t *results = g->data;
  char line[128];
  int used = 0;

  ap_trace_add(&trace, "gathered", 8, (long) g->failed);
  first_ms[1] = elapsed_ms();
  for (size_t i = 0; i < N && used < (int) sizeof(line); i++)
    used += snprintf(line + used, sizeof(line) - (size_t) used, " %ld", results[i].value);
  say("gather: all %d in, input order:%s", N, line);
}

static void report_error(const char *what, int err)
{
  if (err != 0)
    fprintf(stderr, "%s: %s\n", what, uv_strerror(err));
}

static void part_one(uv_loop_t *loop)
{
  static demo_set_t traced, quiet;
  static co_kind_t traced_kind = {start_sleep, cancel_sleep, &traced};
  static co_kind_t quiet_kind = {start_sleep, cancel_sleep, &quiet};
  static co_queue_t q = {.data = &traced};
  static co_result_t results[N];
  static co_gather_t g = {.data = results};

  traced.traced = 1;
  printf("as_completed and gather over the same %d timers:", N);
  for (size_t i = 0; i < N; i++)
    printf(" %llu", (unsigned long long) delays[i]);
  printf(" ms\n\n");
  t0 = uv_hrtime();
  report_error("co_as_completed",
               co_as_completed(loop, &q, &traced_kind, N, NULL, consume, queue_done));
  report_error("co_gather", co_gather(loop, &g, &quiet_kind, N, results, gather_done));
  bar_k = 0;
  bar_n = N;
  draw_bar();
}

static void part_two(uv_loop_t *loop)
{
  static demo_set_t set;
  static co_kind_t kind = {start_sleep, cancel_sleep, &set};
  static co_queue_t q = {.data = &set};
  static co_timeout_t timeout = {.ms = 400, .policy = CO_CANCEL};

  set.traced = 1;
  set.id_base = 10;
  printf("\nthe same timers, timeout %llu ms, policy CO_CANCEL:\n\n",
         (unsigned long long) timeout.ms);
  t0 = uv_hrtime();
  report_error("co_as_completed",
               co_as_completed(loop, &q, &kind, N, &timeout, consume, queue_done));
  bar_k = 0;
  bar_n = N;
  draw_bar();
}

int main(int argc, char **argv)
{
  ap_rt_t rt;

  tty = isatty(STDOUT_FILENO);
  ap_rt_init(&rt);
  ap_trace_init(&trace, &rt.loop);
  part_one(&rt.loop);
  ap_rt_run(&rt);
  printf("\nfirst result in hand: as_completed after %lu ms, gather after %lu ms\n", first_ms[0],
         first_ms[1]);
  part_two(&rt.loop);
  ap_rt_run(&rt);
  return ap_demo_finish(&rt, &trace, ap_demo_csv_path(argc, argv));
}
