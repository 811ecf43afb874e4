/* srv.c — lab 07: the line server.
 *
 * A connection owns two handles (its socket and one timer, the idle timer or
 * its request's deadline), a fixed input buffer of SRV_LINE_MAX bytes, and
 * one request at a time, embedded in it: the request's waiter queues on the
 * server's semaphore (lab 03), its srv_req_t goes to the handler. A
 * connection is freed when both handles are closed, and it is closed only
 * while no request of it is admitted: the handler may hold req until it
 * answers. Everything here runs on the loop thread.
 *
 * conn_next() is the one place that decides what a connection does next:
 * start its next line, wait, or close. Every event (bytes read, an answer,
 * a write ended, the shutdown) updates the connection's flags and calls it.
 */
#include <stdlib.h>
#include <string.h>

#include "srv.h"

enum { T_NONE, T_IDLE, T_REQUEST };

typedef struct srv_conn conn_t;
struct srv_conn {
  uv_tcp_t tcp;
  uv_timer_t timer; /* T_IDLE or T_REQUEST */
  srv_t *srv;
  conn_t *prev, *next; /* the server's list */
  bf_waiter_t waiter;  /* the request's claim on a permit */
  srv_req_t req;
  int timer_mode;
  int busy;        /* a request admitted and not yet answered */
  int cause;       /* UV_ETIMEDOUT or UV_ECANCELED once a deadline passed */
  int cancel_sent; /* handler.cancel was called for this request */
  int paused;      /* more than high_water unsent */
  int reading;
  int eof;       /* the peer sends nothing more */
  int broken;    /* a read or write failed: no more lines */
  int last_word; /* closes once its writes are done */
  int closing;
  int closes_left; /* handles whose close callback has not run */
  int writes;      /* writes not yet ended */
  size_t len;      /* bytes in in[] */
  char in[SRV_LINE_MAX];
};

/* One line being written. */
typedef struct out {
  uv_write_t req;
  conn_t *c;
  size_t len;
  char text[];
} out_t;

static void conn_next(conn_t *c);
static void on_conn_timer(uv_timer_t *timer);

/* ---- given: memory, lists, closing ------------------------------------------- */

/* text and a '\n', in a block of its own; NULL when out of memory. */
static out_t *out_new(const char *text, size_t len)
{
  out_t *out = malloc(sizeof(*out) + len + 1);

  if (out == NULL)
    return NULL;
  if (len > 0)
    memcpy(out->text, text, len);
  out->text[len] = '\n';
  out->len = len + 1;
  return out;
}

static void conn_link(srv_t *srv, conn_t *c)
{
  c->prev = NULL;
  c->next = srv->conns;
  if (srv->conns != NULL)
    srv->conns->prev = c;
  srv->conns = c;
}

static void conn_unlink(srv_t *srv, conn_t *c)
{
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    srv->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
}

static void srv_maybe_done(srv_t *srv);

static void on_conn_closed(uv_handle_t *handle)
{
  conn_t *c = handle->data;
  srv_t *srv = c->srv;

  if (--c->closes_left > 0)
    return;
  conn_unlink(srv, c);
  srv->stats.open--;
  free(c);
  srv_maybe_done(srv);
}

/* Closes at once: writes still queued get UV_ECANCELED. Never while busy. */
static void conn_close(conn_t *c)
{
  if (c->closing)
    return;
  c->closing = 1;
  c->reading = 0;
  uv_close((uv_handle_t *) &c->tcp, on_conn_closed);
  uv_close((uv_handle_t *) &c->timer, on_conn_closed);
}

static void on_alloc(uv_handle_t *handle, size_t size, uv_buf_t *buf)
{
  conn_t *c = handle->data;

  (void) size;
  *buf = uv_buf_init(c->in + c->len, (unsigned int) (SRV_LINE_MAX - c->len));
}

static void conn_timer(conn_t *c, int mode, uint64_t ms)
{
  c->timer_mode = mode;
  uv_timer_start(&c->timer, on_conn_timer, ms, 0);
}

/* Drops the line of the request that just ended from the buffer. */
static void conn_consume(conn_t *c)
{
  size_t used = c->req.len + 1;

  memmove(c->in, c->in + used, c->len - used);
  c->len -= used;
}

/* ---- reading and writing ------------------------------------------------------ */

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  conn_t *c = stream->data;

  (void) buf;
  if (nread > 0)
    c->len += (size_t) nread;
  else if (nread == UV_EOF)
    c->eof = 1;
  else if (nread < 0)
    c->broken = 1;
  conn_next(c);
}

/* $begin srv-reading */
/* Reads while the connection can take bytes ([srv.9]). */
static void conn_update_reading(conn_t *c)
{
  /* SOLUTION BEGIN */
  int want = !c->closing && !c->eof && !c->broken && !c->last_word && !c->paused &&
             c->len < SRV_LINE_MAX && c->srv->state == SRV_RUNNING;

  if (want && !c->reading)
    c->reading = uv_read_start((uv_stream_t *) &c->tcp, on_alloc, on_read) == 0;
  else if (!want && c->reading) {
    uv_read_stop((uv_stream_t *) &c->tcp);
    c->reading = 0;
  }
  /* SOLUTION END */
  /* STARTER: // TODO: srv.h [srv.9]: read only while the connection can take bytes */
  /* STARTER: // (#backpressure). */
  /* STARTER: AP_TODO(); */
}
/* $end srv-reading */

/* $begin srv-written */
static void on_written(uv_write_t *req, int status)
{
  out_t *out = AP_CONTAINER_OF(req, out_t, req);
  conn_t *c = out->c;

  free(out);
  c->writes--;
  if (c->closing)
    return; /* cancelled by the close */
  /* SOLUTION BEGIN */
  if (status < 0)
    c->broken = 1;
  if (c->paused && uv_stream_get_write_queue_size((uv_stream_t *) &c->tcp) <= c->srv->cfg.low_water)
    c->paused = 0;
  if (c->last_word && c->writes == 0)
    conn_close(c);
  else
    conn_next(c);
  /* SOLUTION END */
  /* STARTER: // TODO: srv.h [srv.9]: resume at low water; a last word closes once written */
  /* STARTER: // (#backpressure). */
  /* STARTER: AP_TODO(); */
}

/* Writes out (a whole line) on c; out is c's from now on. */
static void conn_send(conn_t *c, out_t *out)
{
  uv_stream_t *stream = (uv_stream_t *) &c->tcp;
  uv_buf_t buf = uv_buf_init(out->text, (unsigned int) out->len);

  out->c = c;
  /* SOLUTION BEGIN */
  if (uv_write(&out->req, stream, &buf, 1, on_written) != 0) {
    free(out);
    c->broken = 1;
    return;
  }
  c->writes++;
  if (uv_stream_get_write_queue_size(stream) > c->srv->cfg.high_water)
    c->paused = 1;
  /* SOLUTION END */
  /* STARTER: // TODO: srv.h [srv.9]: write; above high water the connection pauses */
  /* STARTER: // (#backpressure). */
  /* STARTER: AP_TODO(); */
}
/* $end srv-written */

/* Writes a line of the server's own; a connection that cannot is broken. */
static void conn_say(conn_t *c, const char *text)
{
  out_t *out = out_new(text, strlen(text));

  if (out == NULL)
    c->broken = 1;
  else
    conn_send(c, out);
}

/* Says text, then closes once it is written ([srv.8]). */
static void conn_cut(conn_t *c, const char *text)
{
  c->srv->stats.cut++;
  conn_say(c, text);
  c->last_word = 1;
  conn_timer(c, T_IDLE, c->srv->cfg.idle_ms); /* a peer that never reads */
  conn_update_reading(c);
  if (c->writes == 0)
    conn_close(c);
}

/* ---- one request ---------------------------------------------------------------- */

/* $begin srv-finish */
/* The request ended (answered, or taken off the line): write its answer
 * ([srv.6]) and go on with the next line. */
static void finish(conn_t *c, int status, out_t *out)
{
  srv_t *srv = c->srv;
  const char *err = NULL;

  /* SOLUTION BEGIN */
  c->busy = 0;
  uv_timer_stop(&c->timer);
  c->timer_mode = T_NONE;
  if (c->cause == UV_ETIMEDOUT)
    err = "ERR timeout";
  else if (c->cause == UV_ECANCELED)
    err = "ERR shutdown";
  else if (status != 0)
    err = "ERR failed";
  if (err != NULL) {
    free(out);
    out = out_new(err, strlen(err));
  }
  if (out == NULL || c->cause == UV_ECANCELED)
    srv->stats.cancelled++;
  else
    srv->stats.answered++;
  if (out == NULL)
    c->broken = 1;
  else
    conn_send(c, out);
  conn_consume(c);
  conn_next(c);
  /* SOLUTION END */
  /* STARTER: // TODO: srv.h [srv.6]: one answer line per request, counted; then the next */
  /* STARTER: // line (#answers). */
  /* STARTER: AP_TODO(); */
}
/* $end srv-finish */

/* Runs on a later turn than srv_answer(). */
static void on_answer(ap_soon_t *soon)
{
  srv_req_t *req = AP_CONTAINER_OF(soon, srv_req_t, soon);
  conn_t *c = AP_CONTAINER_OF(req, conn_t, req);

  /* SOLUTION BEGIN */
  bf_sem_release(&c->waiter);
  finish(c, req->status, req->out);
  /* SOLUTION END */
  /* STARTER: // TODO: srv.h [srv.4]: the permit goes back whatever the status (#answers). */
  /* STARTER: AP_TODO(); */
}

int srv_answer(srv_req_t *req, int status, const char *text, size_t len)
{
  /* SOLUTION BEGIN */
  if (!req->running)
    return UV_EINVAL;
  req->running = 0;
  req->status = status;
  req->out = status == 0 ? out_new(text, len) : NULL;
  ap_soon(req->srv->loop, &req->soon, on_answer);
  return 0;
  /* SOLUTION END */
  /* STARTER: // TODO: srv.h [srv.5]: record the answer; act on it on a later turn (#answers). */
  /* STARTER: return AP_TODO(); */
}

/* $begin srv-permit */
static void on_permit(bf_waiter_t *w, int status)
{
  conn_t *c = AP_CONTAINER_OF(w, conn_t, waiter);

  /* SOLUTION BEGIN */
  if (status != 0) {
    finish(c, status, NULL); /* left the line: c->cause says why */
    return;
  }
  if (c->cause != 0) { /* the deadline passed while the grant was on its way */
    bf_sem_release(w);
    finish(c, c->cause, NULL);
    return;
  }
  c->req.running = 1;
  c->srv->cfg.handler.start(&c->req);
  /* SOLUTION END */
  /* STARTER: // TODO: srv.h [srv.4]: a granted request runs its handler (#admission). */
  /* STARTER: AP_TODO(); */
}

/* Begins the line that ends at nl: refused at once, or admitted ([srv.3]).
 * Returns 1 when it was admitted. */
static int conn_begin(conn_t *c, char *nl)
{
  srv_t *srv = c->srv;

  *nl = '\0';
  c->req.line = c->in;
  c->req.len = (size_t) (nl - c->in);
  c->req.id = srv->next_id++;
  /* SOLUTION BEGIN */
  if (srv->sem.available == 0 && srv->sem.waiting >= srv->cfg.max_queued) {
    srv->stats.refused++;
    conn_say(c, "BUSY");
    conn_consume(c);
    uv_timer_stop(&c->timer);
    c->timer_mode = T_NONE;
    return 0;
  }
  if (c->timer_mode != T_REQUEST)
    conn_timer(c, T_REQUEST, srv->cfg.request_ms);
  srv->stats.admitted++;
  c->busy = 1;
  c->cause = 0;
  c->cancel_sent = 0;
  bf_sem_acquire(&srv->sem, &c->waiter, on_permit);
  return 1;
  /* SOLUTION END */
  /* STARTER: // TODO: srv.h [srv.3]: admitted (a permit or a place in line) or BUSY at once */
  /* STARTER: // (#admission). */
  /* STARTER: return AP_TODO(); */
}
/* $end srv-permit */

/* $begin srv-next */
static void conn_next(conn_t *c)
{
  srv_t *srv = c->srv;
  char *nl = NULL;

  if (c->closing || c->last_word || c->busy) {
    conn_update_reading(c);
    return;
  }
  /* SOLUTION BEGIN */
  while (!c->paused && !c->broken && srv->state == SRV_RUNNING &&
         (nl = memchr(c->in, '\n', c->len)) != NULL)
    if (conn_begin(c, nl)) {
      conn_update_reading(c); /* its buffer may be full */
      return;
    }
  nl = memchr(c->in, '\n', c->len);
  if (c->broken || srv->state != SRV_RUNNING || (c->eof && nl == NULL)) {
    /* Nothing more to start: close, once the answers are out. */
    c->last_word = 1;
    if (c->writes == 0 || c->broken || srv->drain_passed) {
      conn_close(c);
      return;
    }
    if (c->timer_mode != T_IDLE) /* a peer that never reads */
      conn_timer(c, T_IDLE, srv->cfg.idle_ms);
    conn_update_reading(c);
    return;
  }
  if (nl == NULL && c->len == SRV_LINE_MAX) {
    conn_cut(c, "ERR too long");
    return;
  }
  /* Bytes of a line that can start: its deadline runs. Else idle. */
  if (!c->paused && c->len > 0) {
    if (c->timer_mode != T_REQUEST)
      conn_timer(c, T_REQUEST, srv->cfg.request_ms);
  } else if (c->timer_mode != T_IDLE)
    conn_timer(c, T_IDLE, srv->cfg.idle_ms);
  conn_update_reading(c);
  /* SOLUTION END */
  /* STARTER: // TODO: srv.h [srv.2], [srv.7], [srv.8]: start the next line, or wait with the */
  /* STARTER: // right timer, or close (#one-connection). */
  /* STARTER: AP_TODO(); */
}
/* $end srv-next */

/* ---- deadlines ---------------------------------------------------------------------- */

/* $begin srv-deadline */
/* The request of c must end early, for cause ([srv.8], [srv.11]). */
static void conn_deadline(conn_t *c, int cause)
{
  /* SOLUTION BEGIN */
  if (c->cause == 0)
    c->cause = cause;
  if (c->waiter.state == BF_QUEUED)
    bf_sem_cancel(&c->waiter);
  else if (c->req.running && !c->cancel_sent) {
    c->cancel_sent = 1;
    c->srv->cfg.handler.cancel(&c->req);
  }
  /* SOLUTION END */
  /* STARTER: // TODO: srv.h [srv.8]: a queued request leaves the line, a running one is */
  /* STARTER: // cancelled once (#deadlines). */
  /* STARTER: AP_TODO(); */
}

static void on_conn_timer(uv_timer_t *timer)
{
  conn_t *c = timer->data;

  /* SOLUTION BEGIN */
  if (c->busy) {
    conn_deadline(c, UV_ETIMEDOUT);
  } else if (c->timer_mode == T_REQUEST && !c->last_word) {
    conn_cut(c, "ERR timeout");
  } else {
    if (!c->last_word)
      c->srv->stats.cut++;
    conn_close(c);
  }
  /* SOLUTION END */
  /* STARTER: // TODO: srv.h [srv.7], [srv.8]: idle, a line too slow, a request too slow */
  /* STARTER: // (#deadlines). */
  /* STARTER: AP_TODO(); */
}
/* $end srv-deadline */

/* ---- the listener ------------------------------------------------------------------ */

static void on_connection(uv_stream_t *listener, int status)
{
  srv_t *srv = listener->data;
  conn_t *c;

  if (status < 0)
    return;
  /* SOLUTION BEGIN */
  c = malloc(sizeof(*c));
  if (c == NULL) {
    srv->status = UV_ENOMEM;
    srv_shutdown(srv);
    return;
  }
  memset(c, 0, sizeof(*c));
  c->srv = srv;
  c->req.srv = srv;
  uv_tcp_init(srv->loop, &c->tcp);
  uv_timer_init(srv->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  c->closes_left = 2;
  conn_link(srv, c);
  srv->stats.open++;
  if (uv_accept(listener, (uv_stream_t *) &c->tcp) != 0) {
    conn_close(c);
    return;
  }
  srv->stats.accepted++;
  conn_next(c);
  /* SOLUTION END */
  /* STARTER: // TODO: srv.h [srv.12], [srv.14]: one block per connection; out of memory */
  /* STARTER: // shuts the server down (#accepting). */
  /* STARTER: AP_TODO(); */
}

/* ---- shutdown ---------------------------------------------------------------------- */

static void on_srv_closed(uv_handle_t *handle)
{
  srv_t *srv = handle->data;

  srv->handles--;
  srv_maybe_done(srv);
}

/* $begin srv-done */
static void srv_maybe_done(srv_t *srv)
{
  /* SOLUTION BEGIN */
  if (srv->state != SRV_DRAINING || srv->conns != NULL)
    return;
  if (!uv_is_closing((uv_handle_t *) &srv->drain)) {
    uv_close((uv_handle_t *) &srv->drain, on_srv_closed);
    return;
  }
  if (srv->handles > 0)
    return;
  srv->state = SRV_DONE;
  srv->done(srv, srv->status);
  /* SOLUTION END */
  /* STARTER: // TODO: srv.h [srv.12]: done once every handle of the server is closed */
  /* STARTER: // (#shutdown). */
  /* STARTER: AP_TODO(); */
}

static void on_drain(uv_timer_t *timer)
{
  srv_t *srv = timer->data;

  /* SOLUTION BEGIN */
  srv->drain_passed = 1;
  for (conn_t *c = srv->conns; c != NULL; c = c->next) {
    if (c->busy)
      conn_deadline(c, UV_ECANCELED);
    else
      conn_close(c);
  }
  /* SOLUTION END */
  /* STARTER: // TODO: srv.h [srv.11]: past the drain deadline, cancel what is left */
  /* STARTER: // (#shutdown). */
  /* STARTER: AP_TODO(); */
}
/* $end srv-done */

/* $begin srv-shutdown */
int srv_shutdown(srv_t *srv)
{
  /* SOLUTION BEGIN */
  if (srv->state != SRV_RUNNING)
    return UV_EALREADY;
  srv->state = SRV_DRAINING;
  uv_close((uv_handle_t *) &srv->listener, on_srv_closed); /* first: no new connection */
  if (srv->cfg.signals) {
    uv_close((uv_handle_t *) &srv->sigterm, on_srv_closed);
    uv_close((uv_handle_t *) &srv->sigint, on_srv_closed);
  }
  uv_timer_start(&srv->drain, on_drain, srv->cfg.drain_ms, 0);
  for (conn_t *c = srv->conns; c != NULL; c = c->next)
    conn_next(c);
  srv_maybe_done(srv);
  return 0;
  /* SOLUTION END */
  /* STARTER: // TODO: srv.h [srv.11]: the listener first, then drain under a deadline */
  /* STARTER: // (#shutdown). */
  /* STARTER: return AP_TODO(); */
}
/* $end srv-shutdown */

static void on_signal(uv_signal_t *handle, int signum)
{
  (void) signum;
  /* SOLUTION BEGIN */
  srv_shutdown(handle->data);
  /* SOLUTION END */
  /* STARTER: // TODO: srv.h [srv.13] (#signals). */
  /* STARTER: AP_TODO(); */
}

/* ---- starting -------------------------------------------------------------------------- */

static int config_ok(const srv_config_t *cfg)
{
  return cfg->handler.start != NULL && cfg->handler.cancel != NULL && cfg->max_inflight >= 1 &&
         cfg->max_queued >= 0 && cfg->idle_ms > 0 && cfg->request_ms > 0 &&
         cfg->low_water < cfg->high_water;
}

static void catch_signal(srv_t *srv, uv_signal_t *handle, int signum)
{
  uv_signal_init(srv->loop, handle);
  handle->data = srv;
  uv_signal_start(handle, on_signal, signum);
  srv->handles++;
}

/* $begin srv-start */
int srv_start(uv_loop_t *loop, srv_t *srv, const srv_config_t *cfg, srv_done_cb done)
{
  struct sockaddr_in addr;
  struct sockaddr_storage name;
  int namelen = sizeof(name);
  const unsigned char *port;
  int err;

  /* SOLUTION BEGIN */
  if (cfg == NULL || done == NULL || !config_ok(cfg))
    return UV_EINVAL;
  srv->loop = loop;
  srv->cfg = *cfg;
  srv->done = done;
  srv->status = 0;
  srv->port = 0;
  memset(&srv->stats, 0, sizeof(srv->stats));
  srv->state = SRV_RUNNING;
  srv->conns = NULL;
  srv->next_id = 0;
  srv->drain_passed = 0;
  bf_sem_init(loop, &srv->sem, cfg->max_inflight);
  uv_tcp_init(loop, &srv->listener);
  srv->listener.data = srv;
  uv_ip4_addr("127.0.0.1", cfg->port, &addr);
  err = uv_tcp_bind(&srv->listener, (const struct sockaddr *) &addr, 0);
  if (err == 0)
    err = uv_listen((uv_stream_t *) &srv->listener, cfg->backlog > 0 ? cfg->backlog : SRV_BACKLOG,
                    on_connection);
  if (err == 0)
    err = uv_tcp_getsockname(&srv->listener, (struct sockaddr *) &name, &namelen);
  if (err != 0) {
    uv_close((uv_handle_t *) &srv->listener, NULL);
    return err;
  }
  port = (const unsigned char *) &((struct sockaddr_in *) &name)->sin_port; /* network order */
  srv->port = port[0] << 8 | port[1];
  uv_timer_init(loop, &srv->drain);
  srv->drain.data = srv;
  srv->handles = 2;
  if (cfg->signals) {
    catch_signal(srv, &srv->sigterm, SIGTERM);
    catch_signal(srv, &srv->sigint, SIGINT);
  }
  return 0;
  /* SOLUTION END */
  /* STARTER: // TODO: srv.h [srv.1]: check cfg, set every field, listen (#accepting). */
  /* STARTER: return AP_TODO(); */
}
/* $end srv-start */
