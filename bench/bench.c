/* bench.c — the benchmarks' shared clock, memory and output (bench.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench.h"

bench_mark_t bench_mark(void)
{
  bench_mark_t m;
  struct timespec ts;

  m.wall = uv_hrtime();
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  m.cpu = (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
  return m;
}

uint64_t bench_now_ns(void)
{
  return uv_hrtime();
}

long bench_maxrss_kb(void)
{
  struct rusage ru;

  if (getrusage(RUSAGE_SELF, &ru) != 0)
    return -1;
  return ru.ru_maxrss; /* Linux: kilobytes */
}

void bench_version_arg(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "--version") == 0) {
    printf("libuv %s\n", uv_version_string());
    exit(0);
  }
}

long bench_arg(int argc, char **argv, int i, long dflt)
{
  char *end;
  long v;

  if (i >= argc)
    return dflt;
  v = strtol(argv[i], &end, 10);
  if (*argv[i] == '\0' || *end != '\0' || v < 1) {
    fprintf(stderr, "bench: argument %d: expected a positive number, got '%s'\n", i, argv[i]);
    exit(1);
  }
  return v;
}

void bench_die(const char *message, int err)
{
  fprintf(stderr, "bench: %s: %s\n", message, err != 0 ? uv_err_name(err) : "failed");
  exit(1);
}

void bench_run_and_close(ap_rt_t *rt)
{
  ap_leaks_t leaks;

  ap_rt_run(rt);
  if (ap_rt_close(rt, &leaks) != 0) {
    fprintf(stderr, "bench: leak check: %s\n", leaks.text);
    exit(1);
  }
}

void bench_report(const char *bench, const char *variant, long param, long n, bench_mark_t from,
                  bench_mark_t to, const char *extra)
{
  bench_report_as(bench, variant, param, n, from, to, bench_maxrss_kb(), extra);
}

void bench_report_as(const char *bench, const char *variant, long param, long n, bench_mark_t from,
                     bench_mark_t to, long maxrss_kb, const char *extra)
{
  uint64_t wall = to.wall - from.wall;
  uint64_t cpu = to.cpu - from.cpu;
  double per = n > 0 ? 1.0 / (double) n : 0.0;

  printf("%s,%s,%ld,%ld,%llu,%.2f,%llu,%.2f,%ld%s%s\n", bench, variant, param, n,
         (unsigned long long) wall, (double) wall * per, (unsigned long long) cpu,
         (double) cpu * per, maxrss_kb, extra != NULL ? "," : "", extra != NULL ? extra : "");
  fflush(stdout);
}
