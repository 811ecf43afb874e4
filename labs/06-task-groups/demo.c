/* demo.c — lab 06's demo: one child fails, the group cancels the others and
 * waits for the one it cannot stop.
 *
 *   make run LAB=06                  your lab
 *   demo --csv FILE                  also write the trace as CSV (the book's timeline)
 *
 * The thread pool has one thread here, so job 1 runs and job 2 waits in the
 * queue when child 5 fails at 30 ms.
 */
#include <stdlib.h>
#include <string.h>

#include "taskgroup.h"

static const char *names[] = {
    [0] = "the group",
    [1] = "job 1 (runs 100 ms in the pool)",
    [2] = "job 2 (queued behind job 1)",
    [3] = "timer 3 (1 s)",
    [4] = "inner group 4",
    [5] = "timer 5 (fails after 30 ms)",
    [6] = "timer 6 (2 s, inside group 4)",
};

static int slow_job(void *arg)
{
  uv_sleep(*(unsigned *) arg);
  return 0;
}

static int done_calls, done_status, done_others;

static void on_done(tg_t *g, int status, int others)
{
  (void) g;
  done_calls++;
  done_status = status;
  done_others = others;
}

static void print_trace(const ap_trace_t *t)
{
  for (size_t i = 0; i < t->count; i++) {
    const ap_event_t *e = &t->events[i];
    char value[32];

    if (e->value < 0)
      snprintf(value, sizeof(value), "%s", uv_err_name((int) e->value));
    else
      snprintf(value, sizeof(value), "%ld", e->value);
    printf("%8.1f ms  %-9s %-12s %s\n", e->ns / 1e6, e->what, value, names[e->id]);
  }
}

int main(int argc, char **argv)
{
  static unsigned ms = 100;
  ap_rt_t rt;
  ap_trace_t trace;
  tg_t g = {.id = 0, .trace = &trace}, inner = {0};
  tg_work_t job1, job2;
  tg_timer_t t3, t5, t6;
  int err;

  setenv("UV_THREADPOOL_SIZE", "1", 1); /* read once, at the first job */
  ap_rt_init(&rt);
  ap_trace_init(&trace, &rt.loop);
  printf("a group of five children; child 5 fails with UV_EIO at 30 ms\n"
         "value: open = deadline (ms), add = group, cancel = what cancel returned,\n"
         "       exit = the child's status, finish = the group's status\n\n");
  err = tg_start(&rt.loop, &g, 5000, on_done);
  if (err == 0) {
    tg_work_start(&g, &job1, 1, slow_job, &ms);
    tg_work_start(&g, &job2, 2, slow_job, &ms);
    tg_timer_start(&g, &t3, 3, 1000, 0);
    tg_group_start(&g, &inner, 4, 0);
    tg_timer_start(&inner, &t6, 6, 2000, 0);
    tg_wait(&inner);
    tg_timer_start(&g, &t5, 5, 30, UV_EIO);
    err = tg_wait(&g);
  }
  if (err != 0)
    fprintf(stderr, "task group: %s\n", uv_strerror(err));
  ap_rt_run(&rt);
  printf("%11s  %-9s %-12s %s\n", "time", "event", "value", "child");
  print_trace(&trace);
  printf("\ndone ran %d time(s): status %s, %d other error(s)\n", done_calls,
         done_status < 0 ? uv_err_name(done_status) : "0", done_others);
  return ap_demo_finish(&rt, &trace, ap_demo_csv_path(argc, argv));
}
