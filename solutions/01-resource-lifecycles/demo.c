/* demo.c — lab 01's demo: an exit stack whose third acquire fails half-way.
 *
 *   make run LAB=01                  your lab
 *   demo --csv FILE                  also write the trace as CSV (the book's timeline)
 *
 * Three resources in one stack: #1 a connection to a live echo server, #2 a
 * file writer under a fresh /tmp directory, #3 a connection to a server that
 * was stopped. #3 makes its handle, is refused, and closes that handle
 * itself; then the stack releases #2 and #1, in that order.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "file.h"

typedef struct demo {
  ap_server_t live;
  res_conn_t echo_conn;
  res_file_t log;
  res_conn_t dead_conn;
  char reply[5];
  res_body_cb body_done;
  res_using_t *block;
} demo_t;

static void on_echoed(res_conn_t *c, int status)
{
  demo_t *d = c->res.data;

  if (status == 0)
    status = res_file_write(&d->log, d->reply, sizeof(d->reply));
  d->body_done(d->block, status);
}

/* Never runs here: #3 cannot be acquired, so the block's body is skipped. */
static void body(res_using_t *u, res_body_cb done)
{
  demo_t *d = u->data;
  int err;

  ap_trace_add(u->res->trace, "body", 0, 0);
  d->body_done = done;
  d->block = u;
  err = res_conn_echo(&d->echo_conn, "ping\n", d->reply, sizeof(d->reply), on_echoed);
  if (err != 0)
    done(u, err);
}

static void final(res_using_t *u, int status)
{
  demo_t *d = u->data;

  ap_trace_add(u->res->trace, "final", 0, status);
  printf("\nfinal: %s (%d)\n", status == 0 ? "ok" : uv_strerror(status), status);
  ap_server_stop(&d->live, NULL);
}

/* A port where nothing listens: start a server, note its port, stop it. */
static int dead_port(ap_rt_t *rt)
{
  ap_server_t gone = {0};

  if (ap_server_start(&rt->loop, &gone) != 0)
    return 0;
  ap_server_stop(&gone, NULL);
  ap_rt_run(rt);
  return gone.port;
}

static void run(ap_rt_t *rt, ap_trace_t *trace, demo_t *d, const char *path)
{
  res_t *items[] = {&d->echo_conn.res, &d->log.res, &d->dead_conn.res};
  res_stack_t stack = {.res = {.id = 0, .trace = trace}};
  res_using_t block = {.data = d};
  int err;

  res_conn_init(&d->dead_conn, &rt->loop, dead_port(rt));
  ap_server_start(&rt->loop, &d->live);
  res_conn_init(&d->echo_conn, &rt->loop, d->live.port);
  res_file_init(&d->log, &rt->loop, path);
  for (size_t i = 0; i < AP_COUNT_OF(items); i++) {
    items[i]->id = (long) i + 1;
    items[i]->trace = trace;
    items[i]->data = d;
  }
  err = res_stack_init(&stack, &rt->loop, items, AP_COUNT_OF(items));
  if (err == 0)
    err = res_using(&block, &stack.res, body, final);
  if (err != 0) {
    fprintf(stderr, "demo: %s\n", uv_strerror(err));
    ap_server_stop(&d->live, NULL);
  }
  ap_rt_run(rt);
  printf("the live server: %ld connection(s) accepted, %ld closed\n", d->live.accepted,
         d->live.closed);
}

int main(int argc, char **argv)
{
  char dir[] = "/tmp/ap-01-demo-XXXXXX";
  char path[sizeof(dir) + 16];
  demo_t d = {0};
  ap_rt_t rt;
  ap_trace_t trace;

  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(path, sizeof(path), "%s/log.txt", dir);
  ap_rt_init(&rt);
  ap_trace_init(&trace, &rt.loop);
  trace.echo = stdout;
  printf("exit stack: #1 conn to an echo server, #2 file %s,\n"
         "            #3 conn to a stopped server (#0 is the stack itself)\n\n",
         path);
  run(&rt, &trace, &d, path);
  unlink(path);
  rmdir(dir);
  return ap_demo_finish(&rt, &trace, ap_demo_csv_path(argc, argv));
}
