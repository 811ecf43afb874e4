/* echo.c — lab 03: a TCP request as an operation the fan-out can start.
 *
 * The steps: connect, write the line, read until the whole line came back,
 * shut down our side, read until the server's end-of-file, close. Any error
 * on the way closes the socket at once. Requests still pending on a closed
 * socket (the write, the shutdown) get UV_ECANCELED before the close
 * callback runs, so the close callback is the one place that frees.
 */
#include <stdlib.h>
#include <string.h>

#include "echo.h"

typedef struct echo_call {
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_write_t write;
  uv_shutdown_t shutdown;
  bf_op_t *op;
  bf_echo_target_t *target;
  int status; /* the first error, or 0 */
  size_t out_len;
  size_t in_len;
  char out[32]; /* "item <n>\n" */
  char in[32];  /* what came back */
} echo_call_t;

static void note(echo_call_t *c, const char *what)
{
  bf_echo_target_t *target = c->target;

  if (target->trace != NULL)
    ap_trace_add(target->trace, what, c->op->item,
                 target->inflight != NULL ? target->inflight->current : 0);
}

static void on_closed(uv_handle_t *handle)
{
  echo_call_t *c = AP_CONTAINER_OF(handle, echo_call_t, tcp);
  bf_op_t *op = c->op;
  int status = c->status;
  long value = (long) c->in_len;

  if (c->target->inflight != NULL)
    ap_gauge_dec(c->target->inflight);
  note(c, status == 0 ? "close" : "fail");
  free(c);
  bf_op_done(op, status, value);
}

/* Ends the request with status (the first one given wins). */
static void finish(echo_call_t *c, int status)
{
  if (c->status == 0)
    c->status = status;
  if (!uv_is_closing((uv_handle_t *) &c->tcp))
    uv_close((uv_handle_t *) &c->tcp, on_closed);
}

/* What the server's answer means, once it closed its side. */
static int verdict(const echo_call_t *c)
{
  if (c->in_len == c->out_len && memcmp(c->in, c->out, c->out_len) == 0)
    return 0;
  if (c->in_len == 5 && memcmp(c->in, "BUSY\n", 5) == 0)
    return UV_EBUSY;
  return UV_EPROTO;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
  echo_call_t *c = AP_CONTAINER_OF(req, echo_call_t, shutdown);

  if (status != 0)
    finish(c, status);
}

static void on_alloc(uv_handle_t *handle, size_t size, uv_buf_t *buf)
{
  echo_call_t *c = AP_CONTAINER_OF(handle, echo_call_t, tcp);

  (void) size;
  *buf = uv_buf_init(c->in + c->in_len, (unsigned int) (sizeof(c->in) - c->in_len));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  echo_call_t *c = AP_CONTAINER_OF(stream, echo_call_t, tcp);
  int err;

  (void) buf;
  if (nread < 0) {
    finish(c, nread == UV_EOF ? verdict(c) : (int) nread);
    return;
  }
  c->in_len += (size_t) nread;
  if (c->in_len == sizeof(c->in))
    finish(c, UV_EPROTO); /* far more than we sent */
  else if (c->in_len == c->out_len && verdict(c) == 0) {
    /* All of it came back: tell the server we are done, wait for its EOF. */
    err = uv_shutdown(&c->shutdown, stream, on_shutdown);
    if (err != 0)
      finish(c, err);
  }
}

static void on_written(uv_write_t *req, int status)
{
  echo_call_t *c = AP_CONTAINER_OF(req, echo_call_t, write);

  if (status != 0)
    finish(c, status);
}

static void on_connect(uv_connect_t *req, int status)
{
  echo_call_t *c = AP_CONTAINER_OF(req, echo_call_t, connect);
  uv_buf_t buf = uv_buf_init(c->out, (unsigned int) c->out_len);
  int err = status;

  if (err == 0)
    err = uv_read_start((uv_stream_t *) &c->tcp, on_alloc, on_read);
  if (err == 0)
    err = uv_write(&c->write, (uv_stream_t *) &c->tcp, &buf, 1, on_written);
  if (err != 0)
    finish(c, err);
}

/* $begin echo-start */
void bf_echo_start(bf_op_t *op)
{
  bf_echo_target_t *target = op->ctx;
  echo_call_t *c = calloc(1, sizeof(*c));
  struct sockaddr_in addr;
  int err;

  if (c == NULL) {
    bf_op_done(op, UV_ENOMEM, 0);
    return;
  }
  c->op = op;
  c->target = target;
  c->out_len = (size_t) snprintf(c->out, sizeof(c->out), "item %ld\n", op->item);
  if (target->inflight != NULL)
    ap_gauge_inc(target->inflight);
  note(c, "open");
  uv_tcp_init(op->loop, &c->tcp);
  uv_ip4_addr("127.0.0.1", target->port, &addr);
  err = uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *) &addr, on_connect);
  if (err != 0)
    finish(c, err); /* reported from the close callback, like any other end */
}
/* $end echo-start */
