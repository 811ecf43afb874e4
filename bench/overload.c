/* overload.c — benchmark 6: chapter 07's overload scenario against a
 * server in a process of its own: lab 07's (srvd.c) or a peer's
 * (asyncio_bench.py server, node_bench.js server), one generator for all.
 *
 *   build/bench/bin/overload VARIANT REQUESTS BATCH UNLOADED -- SERVER [ARGS...]
 *
 * Starts SERVER, which prints the port it listens on (127.0.0.1) as its
 * first line, then runs the demo's two loads (solutions/07-server-side/demo.c):
 *  1. unloaded: UNLOADED requests, one at a time;
 *  2. overload: BATCH new requests every ms whatever the server does (open
 *     loop), REQUESTS in all;
 * then reads the server's peak RSS (VmHWM) from /proc, stops it with SIGTERM
 * and requires it to exit 0. A request is a connection that sends "work\n"
 * and reads one line: "done" (admitted and answered), "BUSY" (refused at
 * once), anything else or nothing (failed: "ERR timeout", a reset...).
 * Latency: from connect to the answer, of the "done" requests. Everything
 * ends within DEADLINE_S or the server is killed and the run fails.
 *
 * Prints one bench.h line: bench "server", variant VARIANT, param BATCH, n
 * REQUESTS; wall is the overload phase's, cpu and maxrss are the SERVER's
 * (its CPU time over the overload phase, its peak RSS over the whole run),
 * with extra columns admitted,refused,failed,p50_ms,p99_ms,unloaded_p99_ms,
 * unloaded_rss_kb (the server's peak RSS after the unloaded phase).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

enum { DEADLINE_S = 120 };

typedef struct phase {
  long total, started, finished;
  int closed_loop; /* one request at a time */
  long ok, busy, failed;
  double *latency; /* ms, of the ok requests */
  struct client *clients;
} phase_t;

typedef struct client {
  ap_ask_t ask;
  phase_t *phase;
} client_t;

static struct {
  uv_loop_t *loop;
  uv_process_t proc;
  uv_pipe_t out; /* the server's stdout: its port, then anything else */
  uv_timer_t generator, deadline;
  int port, running, stopping;
  size_t out_len;
  char out_buf[64];
  phase_t unloaded, overload;
  bench_mark_t t0, t1;
  uint64_t cpu0, cpu1; /* the server's CPU time, ns */
  long rss_unloaded, rss_peak;
} g;

static void start_phase(phase_t *p);

/* Dies, taking the server down with it. */
static void fail(const char *message, int err)
{
  if (g.running)
    uv_process_kill(&g.proc, SIGKILL);
  bench_die(message, err);
}

/* ---- the server, seen from outside ------------------------------------------ */

/* A "Name:  value kB" line of /proc/PID/status, in kB. */
static long proc_status_kb(const char *name)
{
  char path[64], line[256];
  size_t n = strlen(name);
  long kb = -1;
  FILE *f;

  snprintf(path, sizeof(path), "/proc/%d/status", g.proc.pid);
  if ((f = fopen(path, "r")) == NULL)
    fail("overload: /proc status of the server", UV_ENOENT);
  while (kb < 0 && fgets(line, sizeof(line), f) != NULL)
    if (strncmp(line, name, n) == 0 && line[n] == ':')
      kb = strtol(line + n + 1, NULL, 10);
  fclose(f);
  return kb;
}

/* The server's CPU time (user + system, all threads), ns: /proc/PID/stat. */
static uint64_t proc_cpu_ns(void)
{
  char path[64], buf[1024], *p;
  unsigned long utime = 0, stime = 0;
  size_t n;
  FILE *f;

  snprintf(path, sizeof(path), "/proc/%d/stat", g.proc.pid);
  if ((f = fopen(path, "r")) == NULL)
    fail("overload: /proc stat of the server", UV_ENOENT);
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* Fields 14 and 15, counted after the command's closing parenthesis. */
  if ((p = strrchr(buf, ')')) == NULL ||
      sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
    fail("overload: cannot read the server's CPU time", 0);
  return (uint64_t) (utime + stime) * (1000000000u / (uint64_t) sysconf(_SC_CLK_TCK));
}

static void on_exit_cb(uv_process_t *proc, int64_t status, int signal)
{
  g.running = 0;
  uv_close((uv_handle_t *) proc, NULL);
  if (!g.stopping)
    fail("overload: the server exited before the end", 0);
  if (status != 0 || signal != 0) {
    fprintf(stderr, "overload: the server ended with status %lld, signal %d\n", (long long) status,
            signal);
    exit(1);
  }
  uv_close((uv_handle_t *) &g.deadline, NULL);
}

static void on_out_alloc(uv_handle_t *handle, size_t size, uv_buf_t *buf)
{
  (void) handle, (void) size;
  *buf = uv_buf_init(g.out_buf + g.out_len, (unsigned int) (sizeof(g.out_buf) - 1 - g.out_len));
}

/* The first line is the port; the rest is read and dropped. */
static void on_out(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  (void) buf;
  if (nread < 0) {
    uv_close((uv_handle_t *) stream, NULL);
    return;
  }
  if (g.port != 0)
    return;
  g.out_len += (size_t) nread;
  g.out_buf[g.out_len] = '\0';
  if (strchr(g.out_buf, '\n') != NULL) {
    g.port = atoi(g.out_buf);
    if (g.port <= 0 || g.port > 65535)
      fail("overload: the server's first line is not a port", 0);
    start_phase(&g.unloaded);
  } else if (g.out_len == sizeof(g.out_buf) - 1) {
    fail("overload: the server's first line is not a port", 0);
  }
  g.out_len = g.port != 0 ? 0 : g.out_len;
}

static void start_server(char **args)
{
  uv_stdio_container_t stdio[3] = {{.flags = UV_IGNORE},
                                   {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
                                    .data.stream = (uv_stream_t *) &g.out},
                                   {.flags = UV_INHERIT_FD, .data.fd = 2}};
  uv_process_options_t opt = {
      .file = args[0], .args = args, .exit_cb = on_exit_cb, .stdio = stdio, .stdio_count = 3};
  int err;

  uv_pipe_init(g.loop, &g.out, 0);
  if ((err = uv_spawn(g.loop, &g.proc, &opt)) != 0)
    bench_die("overload: cannot start the server", err);
  g.running = 1;
  if ((err = uv_read_start((uv_stream_t *) &g.out, on_out_alloc, on_out)) != 0)
    fail("overload: reading the server's output", err);
}

static void on_deadline(uv_timer_t *timer)
{
  (void) timer;
  fail("overload: not done within the deadline", UV_ETIMEDOUT);
}

/* ---- the clients ------------------------------------------------------------- */

static void phase_done(phase_t *p)
{
  if (p == &g.unloaded) {
    g.rss_unloaded = proc_status_kb("VmHWM");
    g.cpu0 = proc_cpu_ns();
    g.t0 = bench_mark();
    start_phase(&g.overload);
    return;
  }
  g.t1 = bench_mark();
  g.cpu1 = proc_cpu_ns();
  g.rss_peak = proc_status_kb("VmHWM");
  g.stopping = 1;
  uv_process_kill(&g.proc, SIGTERM); /* the way an operator stops it */
}

static void on_answer(ap_ask_t *ask, int status)
{
  client_t *c = AP_CONTAINER_OF(ask, client_t, ask);
  phase_t *p = c->phase;

  if (status == 0 && strcmp(ask->answer, "done\n") == 0)
    p->latency[p->ok++] = (double) (ask->t1 - ask->t0) / 1e6;
  else if (status == 0 && strcmp(ask->answer, "BUSY\n") == 0)
    p->busy++;
  else
    p->failed++;
  if (++p->finished == p->total)
    phase_done(p);
  else if (p->closed_loop)
    start_phase(p);
}

/* The phase's next request. */
static void start_client(phase_t *p)
{
  client_t *c = &p->clients[p->started++];
  int err;

  c->phase = p;
  if ((err = ap_ask_start(g.loop, &c->ask, g.port, "work\n", on_answer)) != 0)
    fail("overload: ap_ask_start", err);
}

/* Open loop: BATCH new requests every ms, whatever the server does. */
static void on_tick(uv_timer_t *timer)
{
  phase_t *p = &g.overload;

  for (long i = 0; i < (long) (uintptr_t) timer->data && p->started < p->total; i++)
    start_client(p);
  if (p->started == p->total)
    uv_close((uv_handle_t *) timer, NULL);
}

static void start_phase(phase_t *p)
{
  if (p->clients == NULL) {
    p->clients = calloc((size_t) p->total, sizeof(*p->clients));
    p->latency = calloc((size_t) p->total, sizeof(*p->latency));
    if (p->clients == NULL || p->latency == NULL)
      fail("overload: setup", UV_ENOMEM);
  }
  if (p->closed_loop)
    start_client(p);
  else
    uv_timer_start(&g.generator, on_tick, 0, 1);
}

/* ---- the report ------------------------------------------------------------------ */

static int by_value(const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* The q-th percentile of p's latencies (sorts them). */
static double percentile(phase_t *p, int q)
{
  qsort(p->latency, (size_t) p->ok, sizeof(double), by_value);
  return p->ok > 0 ? p->latency[p->ok * q / 100] : 0.0;
}

static void report(const char *variant, long batch)
{
  phase_t *o = &g.overload;
  bench_mark_t from = {.wall = g.t0.wall, .cpu = g.cpu0}, to = {.wall = g.t1.wall, .cpu = g.cpu1};
  char extra[200];

  snprintf(extra, sizeof(extra), "%ld,%ld,%ld,%.2f,%.2f,%.2f,%ld", o->ok, o->busy, o->failed,
           percentile(o, 50), percentile(o, 99), percentile(&g.unloaded, 99), g.rss_unloaded);
  bench_report_as("server", variant, batch, o->total, from, to, g.rss_peak, extra);
}

int main(int argc, char **argv)
{
  ap_rt_t rt;
  const char *variant;
  long batch;
  int err;

  bench_version_arg(argc, argv);
  if (argc < 7 || strcmp(argv[5], "--") != 0) {
    fprintf(stderr, "usage: overload VARIANT REQUESTS BATCH UNLOADED -- SERVER [ARGS...]\n");
    return 2;
  }
  variant = argv[1];
  g.overload = (phase_t){.total = bench_arg(argc, argv, 2, 0)};
  batch = bench_arg(argc, argv, 3, 0);
  g.unloaded = (phase_t){.total = bench_arg(argc, argv, 4, 0), .closed_loop = 1};
  signal(SIGPIPE, SIG_IGN);
  if ((err = ap_rt_init(&rt)) != 0)
    bench_die("overload: ap_rt_init", err);
  g.loop = &rt.loop;
  uv_timer_init(g.loop, &g.generator);
  g.generator.data = (void *) (uintptr_t) batch;
  uv_timer_init(g.loop, &g.deadline);
  uv_timer_start(&g.deadline, on_deadline, DEADLINE_S * 1000, 0);
  start_server(argv + 6);
  bench_run_and_close(&rt);
  report(variant, batch);
  free(g.unloaded.clients), free(g.unloaded.latency);
  free(g.overload.clients), free(g.overload.latency);
  return 0;
}
