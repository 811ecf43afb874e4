/* ask.c — a one-line request over TCP to 127.0.0.1 (ap.h, "One-line client").
 *
 * Every ending goes through finish(): the socket is closed first and cb runs
 * from its close callback, so cb owns the request again and may free it or
 * start it anew. A write that ends after the close gets UV_ECANCELED and
 * finds the request finished already.
 */
#include <string.h>

#include "ap.h"

static void on_closed(uv_handle_t *handle)
{
  ap_ask_t *ask = AP_CONTAINER_OF(handle, ap_ask_t, tcp);

  ask->cb(ask, ask->status);
}

static void finish(ap_ask_t *ask, int status)
{
  if (uv_is_closing((uv_handle_t *) &ask->tcp))
    return;
  ask->t1 = uv_hrtime();
  ask->status = status;
  uv_close((uv_handle_t *) &ask->tcp, on_closed);
}

static void on_alloc(uv_handle_t *handle, size_t size, uv_buf_t *buf)
{
  ap_ask_t *ask = AP_CONTAINER_OF(handle, ap_ask_t, tcp);

  (void) size;
  *buf = uv_buf_init(ask->answer + ask->len, (unsigned int) (sizeof(ask->answer) - 1 - ask->len));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  ap_ask_t *ask = AP_CONTAINER_OF(stream, ap_ask_t, tcp);

  (void) buf;
  if (nread < 0) {
    finish(ask, (int) nread); /* UV_EOF: closed before a whole line */
    return;
  }
  ask->len += (size_t) nread;
  ask->answer[ask->len] = '\0';
  if (memchr(ask->answer, '\n', ask->len) != NULL)
    finish(ask, 0);
  else if (ask->len == sizeof(ask->answer) - 1)
    finish(ask, UV_ENOBUFS);
}

static void on_written(uv_write_t *req, int status)
{
  if (status != 0)
    finish(AP_CONTAINER_OF(req, ap_ask_t, write), status);
}

static void on_connect(uv_connect_t *req, int status)
{
  ap_ask_t *ask = AP_CONTAINER_OF(req, ap_ask_t, connect);

  if (status == 0)
    status = uv_read_start((uv_stream_t *) &ask->tcp, on_alloc, on_read);
  if (status == 0)
    status = uv_write(&ask->write, (uv_stream_t *) &ask->tcp, &ask->line, 1, on_written);
  if (status != 0)
    finish(ask, status);
}

int ap_ask_start(uv_loop_t *loop, ap_ask_t *ask, int port, const char *line, ap_ask_cb cb)
{
  struct sockaddr_in addr;
  int err;

  if (cb == NULL || line == NULL || port <= 0 || port > 65535)
    return UV_EINVAL;
  if ((err = uv_ip4_addr("127.0.0.1", port, &addr)) != 0 ||
      (err = uv_tcp_init(loop, &ask->tcp)) != 0)
    return err;
  ask->cb = cb;
  ask->status = 0;
  ask->len = 0;
  ask->answer[0] = '\0';
  ask->line = uv_buf_init((char *) line, (unsigned int) strlen(line));
  ask->t0 = ask->t1 = uv_hrtime();
  err = uv_tcp_connect(&ask->connect, &ask->tcp, (const struct sockaddr *) &addr, on_connect);
  if (err != 0)
    finish(ask, err); /* a connect that fails is an ending like any other */
  return 0;
}
