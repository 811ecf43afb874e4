/* upstream.c — a small HTTP/1.1 upstream on 127.0.0.1 (protocol in ap.h).
 *
 * Usage rules:
 *  - Zero the struct, set the settings, add faults (before or after start),
 *    then ap_upstream_start(). Read the counters at any time; never touch
 *    the private fields.
 *  - Each connection owns a TCP handle and a timer (the wait before its
 *    answer, then the linger after it). It stays in the upstream's list until
 *    both close callbacks ran; only then is it freed. So stop can close each
 *    connection exactly once, and its memory outlives libuv's last use.
 *  - A connection moves READ -> (HELD) -> WAIT -> WRITE -> LINGER -> CLOSING.
 *    In any state, EOF or a read error closes it: the client went away.
 *  - Counters change when a connection starts closing, not in its close
 *    callback: uv_close() closes the socket at once, so "active" matches
 *    what the kernel and the client see.
 *  - stopped_cb runs from the last close callback, on a later turn.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ap.h"
#include "internal.h"

enum { UP_RUNNING = 0, UP_ENDING, UP_LISTENER_CLOSED, UP_STOPPED };
enum { C_READ = 0, C_HELD, C_WAIT, C_WRITE, C_LINGER, C_CLOSING };
enum { BY_CLIENT, BY_SERVER, BY_RESET, ABANDONED };

typedef struct up_conn up_conn_t;
struct up_conn {
  uv_tcp_t tcp;
  uv_timer_t timer; /* the wait before the answer, then the linger */
  uv_write_t write;
  uv_shutdown_t shutdown;
  ap_upstream_t *up;
  ap__node_t node; /* in up->conns */
  int state;       /* C_READ ... C_CLOSING */
  int admitted;    /* 0: turned away with 429 */
  int closes;      /* close callbacks still to come */
  int status;      /* HTTP status of the answer */
  int fault;       /* AP_UPSTREAM_OK ... */
  long item;       /* -1 until a /items/<n> request was read */
  char *answer;    /* the whole response; freed after the close callbacks */
  size_t used;     /* request bytes in req */
  char req[1024];
  char scratch[256]; /* whatever the client sends after its request */
};

static const char *const fault_names[] = {"ok", "reset", "slow", "500", "hold"};

static up_conn_t *conn_of(ap__node_t *n)
{
  return AP_CONTAINER_OF(n, up_conn_t, node);
}

static void maybe_stopped(ap_upstream_t *up)
{
  if (up->state != UP_LISTENER_CLOSED || up->conns != NULL)
    return;
  up->state = UP_STOPPED;
  if (up->stopped_cb != NULL)
    up->stopped_cb(up);
}

static void on_conn_closed(uv_handle_t *handle)
{
  up_conn_t *c = handle->data;
  ap_upstream_t *up = c->up;

  if (--c->closes > 0)
    return;
  ap__list_remove(&up->conns, &c->node);
  free(c->answer);
  free(c);
  maybe_stopped(up);
}

/* Idempotent. how says who ended the connection, for the counters. */
static void close_conn(up_conn_t *c, int how)
{
  ap_upstream_t *up = c->up;

  if (c->state == C_CLOSING)
    return;
  if (c->state == C_HELD)
    up->held--;
  if (c->admitted) {
    up->active--;
    up->closed++;
    up->abandoned += how == ABANDONED;
  }
  c->state = C_CLOSING;
  c->closes = 2;
  uv_close((uv_handle_t *) &c->timer, on_conn_closed);
  /* close_reset fails while a shutdown is pending: then close plainly. */
  if (how != BY_RESET || uv_tcp_close_reset(&c->tcp, on_conn_closed) != 0)
    uv_close((uv_handle_t *) &c->tcp, on_conn_closed);
}

/* ---- Answering ------------------------------------------------------------ */

static const char *reason(int status)
{
  switch (status) {
  case 200: return "OK";
  case 400: return "Bad Request";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 429: return "Too Many Requests";
  default: return "Internal Server Error";
  }
}

/* Builds the whole response in c->answer. Returns its length, 0 on ENOMEM. */
static size_t build_answer(up_conn_t *c)
{
  char head[192];
  size_t body = c->status == 200 ? ap_upstream_body(c->item, NULL, 0)
                                 : strlen(reason(c->status)) + 1;
  int n = snprintf(head, sizeof(head),
                   "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
                   "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                   c->status, reason(c->status), body);

  c->answer = malloc((size_t) n + body + 1);
  if (c->answer == NULL)
    return 0;
  memcpy(c->answer, head, (size_t) n);
  if (c->status == 200)
    ap_upstream_body(c->item, c->answer + n, body);
  else
    snprintf(c->answer + n, body + 1, "%s\n", reason(c->status));
  return (size_t) n + body;
}

static uint64_t setting(uint64_t value, uint64_t fallback)
{
  return value != 0 ? value : fallback;
}

static void on_linger_timeout(uv_timer_t *timer)
{
  close_conn(timer->data, ABANDONED);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
  if (status < 0) /* UV_ECANCELED when the connection is already closing */
    close_conn(req->data, BY_CLIENT);
}

/* $begin upstream-linger */
/* Answer written: half-close, then wait for the client to close its end. */
static void on_written(uv_write_t *req, int status)
{
  up_conn_t *c = req->data;

  if (status < 0) {
    close_conn(c, BY_CLIENT);
    return;
  }
  if (c->status == 200)
    c->up->served++;
  c->state = C_LINGER;
  c->shutdown.data = c;
  if (uv_shutdown(&c->shutdown, (uv_stream_t *) &c->tcp, on_shutdown) != 0) {
    close_conn(c, BY_SERVER);
    return;
  }
  uv_timer_start(&c->timer, on_linger_timeout, setting(c->up->linger_ms, 2000), 0);
}
/* $end upstream-linger */

static void send_answer(up_conn_t *c)
{
  size_t len = build_answer(c);
  uv_buf_t buf = uv_buf_init(c->answer, (unsigned int) len);

  c->state = C_WRITE;
  c->write.data = c;
  if (len == 0 || uv_write(&c->write, (uv_stream_t *) &c->tcp, &buf, 1, on_written) != 0)
    close_conn(c, BY_SERVER);
}

static void on_waited(uv_timer_t *timer)
{
  up_conn_t *c = timer->data;

  if (c->fault == AP_UPSTREAM_RESET) {
    close_conn(c, BY_RESET);
    return;
  }
  if (c->fault == AP_UPSTREAM_ERROR)
    c->status = 500;
  send_answer(c);
}

static void start_wait(up_conn_t *c)
{
  uint64_t ms = c->up->latency_ms;

  if (c->fault == AP_UPSTREAM_SLOW)
    ms += setting(c->up->slow_ms, 1000);
  c->state = C_WAIT;
  uv_timer_start(&c->timer, on_waited, ms, 0);
}

/* ---- Reading the request -------------------------------------------------- */

static int parse_query(up_conn_t *c, const char *q)
{
  while (*q != '\0') {
    size_t len = strcspn(q, "&");

    if (len > 6 && strncmp(q, "fault=", 6) == 0) {
      int kind = ap_upstream_fault_kind(q + 6, len - 6);
      if (kind < 0 || kind == AP_UPSTREAM_HOLD)
        return 400; /* nobody could release it */
      c->fault = kind;
    }
    q += len + (q[len] == '&');
  }
  return 200;
}

/* s follows "/items/": digits, then the end or a query string. */
static int parse_item(up_conn_t *c, const char *s)
{
  size_t digits = strspn(s, "0123456789");

  if (digits == 0 || digits > 9 || (s[digits] != '\0' && s[digits] != '?'))
    return 404;
  c->item = strtol(s, NULL, 10);
  return s[digits] == '?' ? parse_query(c, s + digits + 1) : 200;
}

/* The request line, "GET /items/7 HTTP/1.1", cut in place. */
static int route(up_conn_t *c)
{
  char *line = c->req, *end = strchr(line, '\n'), *target, *version;

  if (end > line && end[-1] == '\r')
    end--;
  *end = '\0';
  target = strchr(line, ' ');
  if (target == NULL)
    return 400;
  *target++ = '\0';
  version = strchr(target, ' ');
  if (version == NULL || strncmp(version + 1, "HTTP/1.", 7) != 0)
    return 400;
  *version = '\0';
  if (strcmp(line, "GET") != 0)
    return 405;
  if (strncmp(target, "/items/", 7) != 0)
    return 404;
  return parse_item(c, target + 7);
}

/* The fault table's verdict for the next request of item. */
static int take_fault(ap_upstream_t *up, long item)
{
  for (size_t i = 0; i < up->nfaults; i++) {
    ap_upstream_fault_t *f = &up->faults[i];
    if (f->item != item || f->times == 0)
      continue;
    if (f->times > 0)
      f->times--;
    return f->kind;
  }
  return AP_UPSTREAM_OK;
}

static void choose_fault(ap_upstream_t *up, up_conn_t *c)
{
  if (c->status != 200)
    return;
  if (c->fault == AP_UPSTREAM_OK)
    c->fault = take_fault(up, c->item);
  if (c->fault == AP_UPSTREAM_OK && up->hold_next > 0) {
    up->hold_next--;
    c->fault = AP_UPSTREAM_HOLD;
  }
  up->faulted += c->fault != AP_UPSTREAM_OK && c->fault != AP_UPSTREAM_HOLD;
}

static void on_request(up_conn_t *c)
{
  ap_upstream_t *up = c->up;

  c->status = route(c);
  if (!c->admitted) {
    c->status = 429;
    send_answer(c); /* at once: a rejection costs no latency */
    return;
  }
  up->requests++;
  choose_fault(up, c);
  if (c->fault == AP_UPSTREAM_HOLD) {
    c->state = C_HELD;
    up->held++;
  } else {
    start_wait(c);
  }
  if (up->on_request != NULL)
    up->on_request(up, c->status == 200 ? c->item : -1, c->fault);
}

static int request_complete(up_conn_t *c)
{
  c->req[c->used] = '\0';
  return strstr(c->req, "\r\n\r\n") != NULL || strstr(c->req, "\n\n") != NULL;
}

static void on_alloc(uv_handle_t *handle, size_t size, uv_buf_t *buf)
{
  up_conn_t *c = handle->data;

  (void) size;
  if (c->state == C_READ && c->used < sizeof(c->req) - 1)
    *buf = uv_buf_init(c->req + c->used, (unsigned int) (sizeof(c->req) - 1 - c->used));
  else
    *buf = uv_buf_init(c->scratch, sizeof(c->scratch));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  up_conn_t *c = stream->data;

  if (nread < 0) { /* UV_EOF or an error: the client is gone */
    close_conn(c, BY_CLIENT);
    return;
  }
  if (c->state != C_READ || buf->base != c->req + c->used)
    return; /* after the request: ignored */
  c->used += (size_t) nread;
  if (request_complete(c)) {
    on_request(c);
  } else if (c->used == sizeof(c->req) - 1) {
    c->status = 400; /* a request line and headers this long: refuse */
    send_answer(c);
  }
}

/* ---- Accepting ------------------------------------------------------------ */

/* A client that closed its end (EOF pending) no longer counts as open. */
static int client_gone(up_conn_t *c)
{
  uv_os_fd_t fd;
  char byte;

  return uv_fileno((uv_handle_t *) &c->tcp, &fd) == 0 && recv(fd, &byte, 1, MSG_PEEK) == 0;
}

/* The limit counts open connections. A client may hang up and connect
 * again before this loop has read its EOF: reap those first. */
static void reap_gone_clients(ap_upstream_t *up)
{
  for (ap__node_t *node = up->conns; node != NULL; node = node->next) {
    up_conn_t *c = conn_of(node);

    if (c->admitted && c->state != C_CLOSING && client_gone(c))
      close_conn(c, BY_CLIENT);
  }
}

static void admit(ap_upstream_t *up, up_conn_t *c)
{
  if (up->max_conns > 0 && up->active >= up->max_conns)
    reap_gone_clients(up);
  if (up->max_conns > 0 && up->active >= up->max_conns) {
    up->rejected++;
    return;
  }
  c->admitted = 1;
  up->accepted++;
  if (++up->active > up->peak)
    up->peak = up->active;
}

static void on_connection(uv_stream_t *listener, int status)
{
  ap_upstream_t *up = AP_CONTAINER_OF(listener, ap_upstream_t, listener);
  up_conn_t *c;

  if (status != 0 || (c = calloc(1, sizeof(*c))) == NULL)
    return;
  c->up = up;
  c->item = -1;
  uv_tcp_init(listener->loop, &c->tcp);
  uv_timer_init(listener->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  ap__list_push(&up->conns, &c->node);
  if (uv_accept(listener, (uv_stream_t *) &c->tcp) != 0) {
    close_conn(c, BY_SERVER);
    return;
  }
  admit(up, c);
  if (uv_read_start((uv_stream_t *) &c->tcp, on_alloc, on_read) != 0)
    close_conn(c, BY_SERVER);
}

/* ---- Public functions ----------------------------------------------------- */

static int listen_on(ap_upstream_t *up)
{
  struct sockaddr_storage name;
  struct sockaddr_in addr;
  int len = sizeof(name);
  int err;

  uv_ip4_addr("127.0.0.1", up->port, &addr);
  err = uv_tcp_bind(&up->listener, (const struct sockaddr *) &addr, 0);
  if (err == 0)
    err = uv_listen((uv_stream_t *) &up->listener, 511, on_connection);
  if (err == 0)
    err = uv_tcp_getsockname(&up->listener, (struct sockaddr *) &name, &len);
  if (err == 0)
    up->port = ntohs(((struct sockaddr_in *) &name)->sin_port);
  return err;
}

int ap_upstream_start(uv_loop_t *loop, ap_upstream_t *up)
{
  int err;

  if (up->max_conns < 0 || up->port < 0 || up->port > 65535)
    return UV_EINVAL;
  up->accepted = up->rejected = up->active = up->peak = 0;
  up->requests = up->served = up->faulted = up->held = 0;
  up->closed = up->abandoned = 0;
  up->conns = NULL;
  up->stopped_cb = NULL;
  up->state = UP_RUNNING;
  err = uv_tcp_init(loop, &up->listener);
  if (err != 0)
    return err;
  err = listen_on(up);
  if (err != 0) {
    up->state = UP_STOPPED;
    uv_close((uv_handle_t *) &up->listener, NULL);
  }
  return err;
}

int ap_upstream_fault(ap_upstream_t *up, long item, int kind, int times)
{
  if (kind < AP_UPSTREAM_RESET || kind > AP_UPSTREAM_HOLD || times < -1 || times == 0)
    return UV_EINVAL;
  if (up->nfaults == AP_UPSTREAM_FAULTS)
    return UV_ENOSPC;
  up->faults[up->nfaults++] = (ap_upstream_fault_t){.item = item, .kind = kind, .times = times};
  return 0;
}

long ap_upstream_release(ap_upstream_t *up)
{
  long n = 0;

  for (ap__node_t *node = up->conns; node != NULL; node = node->next) {
    up_conn_t *c = conn_of(node);

    if (c->state != C_HELD)
      continue;
    up->held--;
    start_wait(c);
    n++;
  }
  return n;
}

static void on_listener_closed(uv_handle_t *handle)
{
  ap_upstream_t *up = AP_CONTAINER_OF(handle, ap_upstream_t, listener);

  up->state = UP_LISTENER_CLOSED;
  maybe_stopped(up);
}

int ap_upstream_drain(ap_upstream_t *up, ap_upstream_cb cb)
{
  if (up->state == UP_STOPPED)
    return UV_EALREADY;
  up->stopped_cb = cb;
  if (up->state == UP_RUNNING) {
    up->state = UP_ENDING;
    uv_close((uv_handle_t *) &up->listener, on_listener_closed);
  }
  return 0;
}

int ap_upstream_stop(ap_upstream_t *up, ap_upstream_cb cb)
{
  int err = ap_upstream_drain(up, cb);

  if (err != 0)
    return err;
  for (ap__node_t *node = up->conns; node != NULL; node = node->next) {
    up_conn_t *c = conn_of(node);

    close_conn(c, c->state == C_LINGER ? ABANDONED : BY_SERVER);
  }
  return 0;
}

/* 16 to 63 lines of 64 bytes: "item 7 line 3 " and letters from an LCG
 * seeded by the item, so that every item's text (and checksum) differs. */
size_t ap_upstream_body(long item, char *buf, size_t size)
{
  unsigned long u = (unsigned long) item;
  size_t lines = 16 + u % 48;
  uint32_t x = (uint32_t) u * 2654435761u + 1;
  char line[64];

  for (size_t k = 0; k < lines && k * 64 < size; k++) {
    int n = snprintf(line, sizeof(line), "item %lu line %zu ", u, k);
    for (int i = n; i < 63; i++) {
      x = x * 1103515245u + 12345u;
      line[i] = (char) ('a' + (x >> 16) % 26);
    }
    line[63] = '\n';
    memcpy(buf + k * 64, line, size - k * 64 < 64 ? size - k * 64 : 64);
  }
  return lines * 64;
}

const char *ap_upstream_fault_name(int kind)
{
  if (kind < 0 || kind >= (int) AP_COUNT_OF(fault_names))
    return "?";
  return fault_names[kind];
}

int ap_upstream_fault_kind(const char *name, size_t len)
{
  for (size_t i = 0; i < AP_COUNT_OF(fault_names); i++)
    if (strlen(fault_names[i]) == len && strncmp(name, fault_names[i], len) == 0)
      return (int) i;
  return len == 5 && strncmp(name, "error", 5) == 0 ? AP_UPSTREAM_ERROR : -1;
}
