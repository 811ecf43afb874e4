/* demo.c — lab 00's demo: four naps gathered, shown as they happen.
 *
 *   make run LAB=00                  your lab
 *   demo --csv FILE                  also write the trace as CSV (the book's timeline)
 */
#include <stdlib.h>

#include "naps.h"

static void on_done(naps_t *g, int status)
{
  long *results = g->data;

  printf("\ndone (status %d), results in input order:", status);
  for (size_t i = 0; i < 4; i++)
    printf(" %ld", results[i]);
  printf("   <- the rank at which each nap woke\n");
}

int main(int argc, char **argv)
{
  uint64_t delays[] = {300, 100, 200, 50};
  long results[4] = {0};
  ap_rt_t rt;
  ap_trace_t trace;
  naps_t g = {.data = results, .trace = &trace};
  int err;

  ap_rt_init(&rt);
  ap_trace_init(&trace, &rt.loop);
  trace.echo = stdout;
  printf("gather four naps of 300, 100, 200 and 50 ms\n\n");
  err = naps_gather(&rt.loop, &g, delays, results, 4, on_done);
  if (err != 0)
    fprintf(stderr, "naps_gather: %s\n", uv_strerror(err));
  ap_rt_run(&rt);
  return ap_demo_finish(&rt, &trace, ap_demo_csv_path(argc, argv));
}
