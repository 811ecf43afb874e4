/* demo.c — how every lab's demo ends: trace to CSV, leak check, verdict. */
#include <string.h>

#include "ap.h"

const char *ap_demo_csv_path(int argc, char **argv)
{
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "--csv") == 0)
      return argv[i + 1];
  return NULL;
}

static int save_csv(const ap_trace_t *trace, const char *path)
{
  FILE *csv = fopen(path, "w");
  int err;

  if (csv == NULL) {
    perror(path);
    return -1;
  }
  err = ap_trace_write_csv(trace, csv);
  if (fclose(csv) != 0 || err != 0) {
    fprintf(stderr, "%s: could not write the trace\n", path);
    return -1;
  }
  return 0;
}

int ap_demo_finish(ap_rt_t *rt, ap_trace_t *trace, const char *csv_path)
{
  ap_leaks_t leaks;
  int failed = 0;

  if (csv_path != NULL && trace != NULL)
    failed = save_csv(trace, csv_path) != 0;
  if (trace != NULL)
    ap_trace_free(trace);
  if (ap_rt_close(rt, &leaks) != 0) {
    printf("leak check: %s\n", leaks.text);
    return 1;
  }
  printf("leak check: clean\n");
  return failed;
}
