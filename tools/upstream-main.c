/* upstream-main.c — the workbook's HTTP upstream (helpers/upstream.c) as a
 * program of its own, to talk to with curl or nc:
 *
 *   make upstream && build/debug/bin/upstream --port 8080 --max-conns 4 --latency 100
 *   curl -i http://127.0.0.1:8080/items/7
 *   curl -i 'http://127.0.0.1:8080/items/7?fault=500'     (or reset, slow)
 *
 * Options:
 *   --port P            port on 127.0.0.1 (default 8080; 0: any free port)
 *   --max-conns N       connections served at once; more get 429 (default 0: no limit)
 *   --latency MS        wait before each answer (default 0)
 *   --slow MS           extra wait of a "slow" answer (default 1000)
 *   --linger MS         how long to wait for a client to close (default 2000)
 *   --fault ITEM:KIND[:TIMES]   fault requests of ITEM (KIND reset, slow or
 *                       500; TIMES requests, default all); repeatable
 *   --quiet             no line per request
 * Ctrl-C (SIGINT) or SIGTERM stops it; it prints its counters on the way out.
 */
#include <stdlib.h>
#include <string.h>

#include "ap.h"

typedef struct main_state {
  ap_upstream_t up;
  uv_signal_t sigint;
  uv_signal_t sigterm;
  int quiet;
} main_state_t;

static void usage(void)
{
  fprintf(stderr, "usage: upstream [--port P] [--max-conns N] [--latency MS] [--slow MS]\n"
                  "                [--linger MS] [--fault ITEM:KIND[:TIMES]]... [--quiet]\n"
                  "  KIND: reset, slow or 500; TIMES: how many requests (default: all)\n");
  exit(2);
}

/* A whole decimal number in [0, max], or usage(). */
static long number(const char *s, long max)
{
  char *end;
  long v = strtol(s, &end, 10);

  if (*s == '\0' || *end != '\0' || v < 0 || v > max)
    usage();
  return v;
}

/* "7:reset" or "7:500:2". */
static void add_fault(ap_upstream_t *up, char *spec)
{
  char *kind = strchr(spec, ':'), *times;
  int k;

  if (kind == NULL)
    usage();
  *kind++ = '\0';
  times = strchr(kind, ':');
  if (times != NULL)
    *times++ = '\0';
  k = ap_upstream_fault_kind(kind, strlen(kind));
  if (k <= 0 || k == AP_UPSTREAM_HOLD)
    usage();
  if (ap_upstream_fault(up, number(spec, 999999999), k,
                        times != NULL ? (int) number(times, 1000000) : -1) != 0)
    usage();
}

static void parse_args(main_state_t *m, int argc, char **argv)
{
  m->up.port = 8080;
  for (int i = 1; i < argc; i++) {
    const char *opt = argv[i];
    if (strcmp(opt, "--quiet") == 0) {
      m->quiet = 1;
      continue;
    }
    if (i + 1 == argc)
      usage();
    if (strcmp(opt, "--port") == 0)
      m->up.port = (int) number(argv[++i], 65535);
    else if (strcmp(opt, "--max-conns") == 0)
      m->up.max_conns = (int) number(argv[++i], 1000000);
    else if (strcmp(opt, "--latency") == 0)
      m->up.latency_ms = (uint64_t) number(argv[++i], 3600000);
    else if (strcmp(opt, "--slow") == 0)
      m->up.slow_ms = (uint64_t) number(argv[++i], 3600000);
    else if (strcmp(opt, "--linger") == 0)
      m->up.linger_ms = (uint64_t) number(argv[++i], 3600000);
    else if (strcmp(opt, "--fault") == 0)
      add_fault(&m->up, argv[++i]);
    else
      usage();
  }
}

static void log_request(ap_upstream_t *up, long item, int fault)
{
  main_state_t *m = up->data;

  if (!m->quiet)
    printf("request item %ld%s%s   (open %ld, peak %ld, rejected %ld)\n", item,
           fault != AP_UPSTREAM_OK ? ", fault " : "",
           fault != AP_UPSTREAM_OK ? ap_upstream_fault_name(fault) : "", up->active, up->peak,
           up->rejected);
  fflush(stdout);
}

static void on_stopped(ap_upstream_t *up)
{
  main_state_t *m = up->data;

  printf("\naccepted %ld, rejected %ld, peak %ld, requests %ld, served %ld, faults %ld, "
         "closed %ld, abandoned %ld\n",
         up->accepted, up->rejected, up->peak, up->requests, up->served, up->faulted, up->closed,
         up->abandoned);
  uv_close((uv_handle_t *) &m->sigint, NULL);
  uv_close((uv_handle_t *) &m->sigterm, NULL);
}

static void on_signal(uv_signal_t *sig, int signum)
{
  main_state_t *m = sig->data;

  (void) signum;
  ap_upstream_stop(&m->up, on_stopped);
}

int main(int argc, char **argv)
{
  static main_state_t m;
  ap_rt_t rt;
  ap_leaks_t leaks;
  int err;

  parse_args(&m, argc, argv);
  m.up.data = &m;
  m.up.on_request = log_request;
  ap_rt_init(&rt);
  err = ap_upstream_start(&rt.loop, &m.up);
  if (err != 0) {
    fprintf(stderr, "upstream: port %d: %s\n", m.up.port, uv_strerror(err));
    ap_rt_run(&rt);
    ap_rt_close(&rt, NULL);
    return 1;
  }
  m.sigint.data = m.sigterm.data = &m;
  uv_signal_init(&rt.loop, &m.sigint);
  uv_signal_init(&rt.loop, &m.sigterm);
  uv_signal_start(&m.sigint, on_signal, SIGINT);
  uv_signal_start(&m.sigterm, on_signal, SIGTERM);
  printf("upstream on http://127.0.0.1:%d/items/<n>  (max-conns %d, latency %llu ms)\n"
         "try: curl -i http://127.0.0.1:%d/items/7    stop: Ctrl-C\n",
         m.up.port, m.up.max_conns, (unsigned long long) m.up.latency_ms, m.up.port);
  fflush(stdout);
  ap_rt_run(&rt);
  err = ap_rt_close(&rt, &leaks);
  if (err != 0)
    fprintf(stderr, "upstream: leak check: %s\n", leaks.text);
  return err == 0 ? 0 : 1;
}
