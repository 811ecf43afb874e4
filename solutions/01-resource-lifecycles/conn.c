/* conn.c — lab 01: a TCP connection as a resource.
 *
 * Both ways out of the connection end in on_tcp_closed: the exit step, and
 * an enter that fails after the handle was made (connection refused). That
 * callback frees the handle and only then reports, so whoever receives the
 * report may connect again at once. Records "tcp-open" and "tcp-closed" in
 * the resource's trace.
 */
#include <stdlib.h>

#include "conn.h"

/* $begin conn-closed */
static void on_tcp_closed(uv_handle_t *handle)
{
  res_conn_t *c = handle->data;

  /* SOLUTION BEGIN */
  /* libuv is done with the handle: now, and not before, it may be freed. */
  free(c->tcp);
  c->tcp = NULL;
  res_trace(&c->res, "tcp-closed", c->status);
  c->done(&c->res, c->status);
  /* SOLUTION END */
  /* STARTER: // TODO: the handle is closed: only now may it be freed; then exit or the failed */
  /* STARTER: // enter reports (conn.h; #close-protocol). */
  /* STARTER: AP_TODO(); */
}
/* $end conn-closed */

/* Closes the handle; on_tcp_closed then reports status through c->done. */
static void close_then_report(res_conn_t *c, int status)
{
  c->status = status;
  c->echo_cb = NULL; /* the body is over: a running echo is cut off */
  uv_close((uv_handle_t *) c->tcp, on_tcp_closed);
}

/* $begin conn-enter */
static void on_connected(uv_connect_t *req, int status)
{
  res_conn_t *c = AP_CONTAINER_OF(req, res_conn_t, connect);

  /* SOLUTION BEGIN */
  if (status != 0) {
    /* Failed half-way: the handle exists. Release it before reporting,
     * since no exit step will ever run for this enter. */
    close_then_report(c, status);
    return;
  }
  c->done(&c->res, 0);
  /* SOLUTION END */
  /* STARTER: // TODO: conn.h, enter: connected is 0; a refused connect holds nothing afterwards, */
  /* STARTER: // since no exit runs for a failed enter (#tcp-connection). */
  /* STARTER: AP_TODO(); */
}

static void conn_enter(res_t *r, res_cb done)
{
  res_conn_t *c = AP_CONTAINER_OF(r, res_conn_t, res);
  struct sockaddr_in addr;
  int err;

  c->done = done;
  /* SOLUTION BEGIN */
  c->tcp = malloc(sizeof(*c->tcp));
  if (c->tcp == NULL) {
    res_report_later(r, done, UV_ENOMEM);
    return;
  }
  uv_tcp_init(r->loop, c->tcp);
  c->tcp->data = c;
  res_trace(r, "tcp-open", c->port);
  uv_ip4_addr("127.0.0.1", c->port, &addr);
  err = uv_tcp_connect(&c->connect, c->tcp, (const struct sockaddr *) &addr, on_connected);
  if (err != 0)
    close_then_report(c, err); /* on_connected will never run */
  /* SOLUTION END */
  /* STARTER: // TODO: conn.h, enter: connect to 127.0.0.1:c->port; every failure, at once or */
  /* STARTER: // later, leaves no handle behind and is reported once (#tcp-connection, version */
  /* STARTER: // notes). */
  /* STARTER: res_report_later(r, done, AP_TODO()); */
}
/* $end conn-enter */

/* $begin conn-exit */
static void conn_exit(res_t *r, int status, res_cb done)
{
  res_conn_t *c = AP_CONTAINER_OF(r, res_conn_t, res);

  /* SOLUTION BEGIN */
  c->done = done;
  /* Closing cannot fail, and a connection has no reason to suppress the
   * body's error: the outcome is the status received. */
  close_then_report(c, status);
  /* SOLUTION END */
  /* STARTER: // TODO: conn.h, exit: reports only once the handle is closed (#close-protocol). */
  /* STARTER: res_report_later(r, done, AP_TODO()); */
}
/* $end conn-exit */

static const res_ops_t conn_ops = {.enter = conn_enter, .exit = conn_exit};

void res_conn_init(res_conn_t *c, uv_loop_t *loop, int port)
{
  c->res.ops = &conn_ops;
  c->res.loop = loop;
  c->port = port;
  c->tcp = NULL;
  c->echo_cb = NULL;
}

/* ---- The echo, for bodies (given) ----------------------------------------- */

static void echo_finish(res_conn_t *c, int status)
{
  res_echo_cb cb = c->echo_cb;

  if (cb == NULL)
    return; /* already reported, or cut off by exit */
  c->echo_cb = NULL;
  uv_read_stop((uv_stream_t *) c->tcp);
  cb(c, status);
}

static void echo_alloc(uv_handle_t *handle, size_t size, uv_buf_t *buf)
{
  res_conn_t *c = handle->data;

  (void) size;
  *buf = uv_buf_init(c->reply + c->got, (unsigned int) (c->want - c->got));
}

static void echo_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  res_conn_t *c = stream->data;

  (void) buf;
  if (nread < 0)
    echo_finish(c, (int) nread);
  else if ((c->got += (size_t) nread) == c->want)
    echo_finish(c, 0);
}

static void echo_written(uv_write_t *req, int status)
{
  res_conn_t *c = AP_CONTAINER_OF(req, res_conn_t, write);

  if (status != 0)
    echo_finish(c, status);
}

int res_conn_echo(res_conn_t *c, const char *text, char *reply, size_t len, res_echo_cb cb)
{
  uv_buf_t buf = uv_buf_init((char *) text, (unsigned int) len);
  int err;

  if (c->tcp == NULL || len == 0 || cb == NULL)
    return UV_EINVAL;
  if (c->echo_cb != NULL)
    return UV_EBUSY;
  err = uv_write(&c->write, (uv_stream_t *) c->tcp, &buf, 1, echo_written);
  if (err == 0)
    err = uv_read_start((uv_stream_t *) c->tcp, echo_alloc, echo_read);
  if (err != 0)
    return err; /* a write already queued reports to echo_written, which ignores it */
  c->reply = reply;
  c->want = len;
  c->got = 0;
  c->echo_cb = cb;
  return 0;
}
