/* bench.h — what every benchmark program shares: a clock, peak memory, the
 * arguments, and the one line of output that tools/bench.sh reads.
 *
 * Usage rules:
 *  - A program measures one variant per process (peak RSS is per process),
 *    prints one result line per measurement with bench_report(), and exits
 *    0; any failure prints to stderr and exits 1 (bench_die).
 *  - Result lines are CSV (BENCH_COLUMNS): the wall time and the process's
 *    CPU time (user + system, every thread) of the measured part, each in
 *    all and per operation, and the peak RSS. param is what the benchmark
 *    varies (the limit, the depth...); benchmarks with more to say append
 *    columns, named in their own header comment.
 *  - CPU time is taken at the same two points as the wall time, with
 *    bench_mark(): on a shared machine the wall time also counts the time
 *    spent waiting for a core, the CPU time does not.
 *  - Benchmarks run on an ap_rt_t and end with its leak check: a benchmark
 *    that leaks is a failed benchmark, not a fast one.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>
#include <stdio.h>

#include "ap.h"

#define BENCH_COLUMNS "bench,variant,param,n,wall_ns,wall_per_op_ns,cpu_ns,cpu_per_op_ns,maxrss_kb"

/* One instant: wall clock (uv_hrtime) and process CPU clock, in ns. */
typedef struct bench_mark {
  uint64_t wall;
  uint64_t cpu;
} bench_mark_t;

bench_mark_t bench_mark(void);
/* Monotonic nanoseconds (uv_hrtime). */
uint64_t bench_now_ns(void);
/* Peak resident set size of this process, in kB (getrusage ru_maxrss). */
long bench_maxrss_kb(void);
/* With argv[1] "--version": prints the libuv version and exits 0. */
void bench_version_arg(int argc, char **argv);
/* argv[i] as a positive number, or the default when absent; dies on junk. */
long bench_arg(int argc, char **argv, int i, long dflt);
/* Prints "message: libuv error name" to stderr and exits 1. */
void bench_die(const char *message, int err);
/* Runs the loop to its end, then the leak check (dies on a leak). */
void bench_run_and_close(ap_rt_t *rt);
/* One result line on stdout (extra may be NULL: no extra columns). */
void bench_report(const char *bench, const char *variant, long param, long n, bench_mark_t from,
                  bench_mark_t to, const char *extra);
/* The same for a measurement of another process: its CPU times in from
 * and to, and its peak RSS (overload.c measures a server from outside). */
void bench_report_as(const char *bench, const char *variant, long param, long n, bench_mark_t from,
                     bench_mark_t to, long maxrss_kb, const char *extra);

#endif /* BENCH_H */
