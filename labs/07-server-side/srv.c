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
  // TODO: srv.h [srv.9]: read only while the connection can take bytes
  // (#backpressure).
  AP_TODO();
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
  // TODO: srv.h [srv.9]: resume at low water; a last word closes once written
  // (#backpressure).
  AP_TODO();
}

/* Writes out (a whole line) on c; out is c's from now on. */
static void conn_send(conn_t *c, out_t *out)
{
  uv_stream_t *stream = (uv_stream_t *) &c->tcp;
  uv_buf_t buf = uv_buf_init(out->text, (unsigned int) out->len);

  out->c = c;
  // TODO: srv.h [srv.9]: write; above high water the connection pauses
  // (#backpressure).
  AP_TODO();
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

  // TODO: srv.h [srv.6]: one answer line per request, counted; then the next
  // line (#answers).
  AP_TODO();
}
/* $end srv-finish */

/* Runs on a later turn than srv_answer(). */
static void on_answer(ap_soon_t *soon)
{
  srv_req_t *req = AP_CONTAINER_OF(soon, srv_req_t, soon);
  conn_t *c = AP_CONTAINER_OF(req, conn_t, req);

  // TODO: srv.h [srv.4]: the permit goes back whatever the status (#answers).
  AP_TODO();
}

int srv_answer(srv_req_t *req, int status, const char *text, size_t len)
{
  // TODO: srv.h [srv.5]: record the answer; act on it on a later turn (#answers).
  return AP_TODO();
}

/* $begin srv-permit */
static void on_permit(bf_waiter_t *w, int status)
{
  conn_t *c = AP_CONTAINER_OF(w, conn_t, waiter);

  // TODO: srv.h [srv.4]: a granted request runs its handler (#admission).
  AP_TODO();
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
  // TODO: srv.h [srv.3]: admitted (a permit or a place in line) or BUSY at once
  // (#admission).
  return AP_TODO();
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
  // TODO: srv.h [srv.2], [srv.7], [srv.8]: start the next line, or wait with the
  // right timer, or close (#one-connection).
  AP_TODO();
}
/* $end srv-next */

/* ---- deadlines ---------------------------------------------------------------------- */

/* $begin srv-deadline */
/* The request of c must end early, for cause ([srv.8], [srv.11]). */
static void conn_deadline(conn_t *c, int cause)
{
  // TODO: srv.h [srv.8]: a queued request leaves the line, a running one is
  // cancelled once (#deadlines).
  AP_TODO();
}

static void on_conn_timer(uv_timer_t *timer)
{
  conn_t *c = timer->data;

  // TODO: srv.h [srv.7], [srv.8]: idle, a line too slow, a request too slow
  // (#deadlines).
  AP_TODO();
}
/* $end srv-deadline */

/* ---- the listener ------------------------------------------------------------------ */

static void on_connection(uv_stream_t *listener, int status)
{
  srv_t *srv = listener->data;
  conn_t *c;

  if (status < 0)
    return;
  // TODO: srv.h [srv.12], [srv.14]: one block per connection; out of memory
  // shuts the server down (#accepting).
  AP_TODO();
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
  // TODO: srv.h [srv.12]: done once every handle of the server is closed
  // (#shutdown).
  AP_TODO();
}

static void on_drain(uv_timer_t *timer)
{
  srv_t *srv = timer->data;

  // TODO: srv.h [srv.11]: past the drain deadline, cancel what is left
  // (#shutdown).
  AP_TODO();
}
/* $end srv-done */

/* $begin srv-shutdown */
int srv_shutdown(srv_t *srv)
{
  // TODO: srv.h [srv.11]: the listener first, then drain under a deadline
  // (#shutdown).
  return AP_TODO();
}
/* $end srv-shutdown */

static void on_signal(uv_signal_t *handle, int signum)
{
  (void) signum;
  // TODO: srv.h [srv.13] (#signals).
  AP_TODO();
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

  // TODO: srv.h [srv.1]: check cfg, set every field, listen (#accepting).
  return AP_TODO();
}
/* $end srv-start */
