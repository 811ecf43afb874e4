/* server.c — an in-process TCP echo server on 127.0.0.1, for labs that need
 * a real peer on their own loop.
 *
 * Usage rules:
 *  - Set max_conns (0: unlimited) before ap_server_start(); read port and the
 *    counters at any time; never touch the private fields.
 *  - Every connection, served or rejected, sits in one list until its close
 *    callback has run: that is where its memory is freed, and it is why
 *    ap_server_stop() can close each of them exactly once.
 *  - stopped_cb runs from the last close callback (the listener's or a
 *    connection's), so on a later turn; after it the server's memory is the
 *    caller's again.
 *  - If ap_server_start() fails after the listener was initialised, the
 *    listener is closed: run the loop before reusing the server's memory.
 */
#include <stdlib.h>
#include <string.h>

#include "ap.h"
#include "internal.h"

enum { SERVER_RUNNING = 0, SERVER_STOPPING, SERVER_STOPPED };

typedef struct conn conn_t;
struct conn {
  uv_tcp_t tcp;
  ap_server_t *server;
  int served;      /* 0: rejected with "BUSY\n" */
  ap__node_t node; /* in server->conns */
};

/* One echoed chunk: the write request owns the buffer read into. */
typedef struct echo {
  uv_write_t req;
  uv_buf_t buf;
} echo_t;

static const char busy_text[] = "BUSY\n";

/* Called after every close callback: the server is stopped once the
 * listener and the last connection are gone. */
static void maybe_stopped(ap_server_t *server)
{
  if (server->stopping != SERVER_STOPPED || server->conns != NULL)
    return;
  if (server->stopped_cb != NULL)
    server->stopped_cb(server);
}

static void on_conn_closed(uv_handle_t *handle)
{
  conn_t *c = AP_CONTAINER_OF(handle, conn_t, tcp);
  ap_server_t *server = c->server;

  ap__list_remove(&server->conns, &c->node);
  if (c->served) {
    server->active--;
    server->closed++;
  }
  free(c);
  maybe_stopped(server);
}

static void close_conn(conn_t *c)
{
  if (!uv_is_closing((uv_handle_t *) &c->tcp))
    uv_close((uv_handle_t *) &c->tcp, on_conn_closed);
}

static void on_alloc(uv_handle_t *handle, size_t size, uv_buf_t *buf)
{
  (void) handle;
  buf->base = malloc(size);
  buf->len = buf->base != NULL ? size : 0;
}

static void on_echoed(uv_write_t *req, int status)
{
  echo_t *e = AP_CONTAINER_OF(req, echo_t, req);

  (void) status; /* UV_ECANCELED when the connection closed first */
  free(e->buf.base);
  free(e);
}

static void echo_back(conn_t *c, char *base, size_t len)
{
  echo_t *e = malloc(sizeof(*e));

  if (e == NULL) {
    free(base);
    close_conn(c);
    return;
  }
  e->buf = uv_buf_init(base, (unsigned int) len);
  if (uv_write(&e->req, (uv_stream_t *) &c->tcp, &e->buf, 1, on_echoed) != 0) {
    free(base);
    free(e);
    close_conn(c);
  }
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  conn_t *c = AP_CONTAINER_OF(stream, conn_t, tcp);

  if (nread > 0) {
    echo_back(c, buf->base, (size_t) nread);
    return;
  }
  free(buf->base);
  if (nread < 0) /* UV_EOF or an error: either way the peer is done */
    close_conn(c);
}

static void on_busy_written(uv_write_t *req, int status)
{
  conn_t *c = req->data;

  (void) status;
  free(req);
  close_conn(c);
}

/* Turns a connection away: "BUSY\n", then close once the write is done. */
static void reject(conn_t *c)
{
  uv_write_t *req = malloc(sizeof(*req));
  uv_buf_t buf = uv_buf_init((char *) busy_text, sizeof(busy_text) - 1);

  c->server->rejected++;
  if (req == NULL) {
    close_conn(c);
    return;
  }
  req->data = c;
  if (uv_write(req, (uv_stream_t *) &c->tcp, &buf, 1, on_busy_written) != 0) {
    free(req);
    close_conn(c);
  }
}

static void serve(conn_t *c)
{
  ap_server_t *server = c->server;

  c->served = 1;
  server->accepted++;
  if (++server->active > server->peak)
    server->peak = server->active;
  if (uv_read_start((uv_stream_t *) &c->tcp, on_alloc, on_read) != 0)
    close_conn(c);
}

static void on_connection(uv_stream_t *listener, int status)
{
  ap_server_t *server = AP_CONTAINER_OF(listener, ap_server_t, listener);
  conn_t *c;

  if (status != 0 || (c = calloc(1, sizeof(*c))) == NULL)
    return;
  c->server = server;
  uv_tcp_init(listener->loop, &c->tcp);
  ap__list_push(&server->conns, &c->node);
  if (uv_accept(listener, (uv_stream_t *) &c->tcp) != 0)
    close_conn(c);
  else if (server->max_conns > 0 && server->active >= server->max_conns)
    reject(c);
  else
    serve(c);
}

static int listen_on_ephemeral_port(ap_server_t *server)
{
  struct sockaddr_storage name;
  struct sockaddr_in addr;
  int len = sizeof(name);
  int err;

  uv_ip4_addr("127.0.0.1", 0, &addr);
  err = uv_tcp_bind(&server->listener, (const struct sockaddr *) &addr, 0);
  if (err == 0)
    err = uv_listen((uv_stream_t *) &server->listener, 128, on_connection);
  if (err == 0)
    err = uv_tcp_getsockname(&server->listener, (struct sockaddr *) &name, &len);
  if (err == 0)
    server->port = ntohs(((struct sockaddr_in *) &name)->sin_port);
  return err;
}

int ap_server_start(uv_loop_t *loop, ap_server_t *server)
{
  int err;

  if (server->max_conns < 0)
    return UV_EINVAL;
  server->port = 0;
  server->accepted = server->rejected = server->active = 0;
  server->peak = server->closed = 0;
  server->conns = NULL;
  server->stopped_cb = NULL;
  server->stopping = SERVER_RUNNING;
  err = uv_tcp_init(loop, &server->listener);
  if (err != 0)
    return err;
  err = listen_on_ephemeral_port(server);
  if (err != 0)
    uv_close((uv_handle_t *) &server->listener, NULL);
  return err;
}

static void on_listener_closed(uv_handle_t *handle)
{
  ap_server_t *server = AP_CONTAINER_OF(handle, ap_server_t, listener);

  server->stopping = SERVER_STOPPED;
  maybe_stopped(server);
}

void ap_server_stop(ap_server_t *server, void (*stopped_cb)(ap_server_t *server))
{
  if (server->stopping != SERVER_RUNNING)
    return; /* stopping twice would close handles twice */
  server->stopping = SERVER_STOPPING;
  server->stopped_cb = stopped_cb;
  uv_close((uv_handle_t *) &server->listener, on_listener_closed);
  for (ap__node_t *node = server->conns; node != NULL; node = node->next)
    close_conn(AP_CONTAINER_OF(node, conn_t, node));
}
