/* kit.h — lab 07's test kit: real clients on 127.0.0.1, a fake handler the
 * test answers, a sampler of the server's unsent bytes, and a guard.
 *
 * Nothing here reads a clock. The server, its clients and the handler all
 * run on the test's loop: run_until() turns the loop until a condition the
 * test names holds. The guard is a loop timer far beyond any deadline the
 * tests configure: it turns a server that never does what it must into a
 * clear failure instead of a hang. The sampler walks the loop's handles
 * before each poll and reads every server connection's write queue itself
 * (uv_stream_get_write_queue_size): the lab reports nothing of it.
 */
#ifndef KIT_H
#define KIT_H

#include <stdlib.h>
#include <string.h>

#include "grade.h"
#include "srv.h"

enum { MAX_CLIENTS = 48, KEEP = 512, GUARD_MS = 2000 };

/* ---- the server --------------------------------------------------------- */

static srv_t srv;
static srv_config_t cfg;
static int done_calls;
static int done_status;

static inline void on_done(srv_t *s, int status)
{
  EXPECT(s == &srv, "done got another srv_t than the one started");
  done_calls++;
  done_status = status;
}

/* ---- the fake handler ---------------------------------------------------- */

enum { HOLD, INSTANT, BIG, FAIL };
static int mode = HOLD;     /* what start does */
static int cancel_answers;  /* 1: cancel answers UV_ECANCELED inside the call */
static ap_gauge_t handlers; /* handlers running: raised by start, lowered by answer */
static srv_req_t *held[64]; /* HOLD: requests the test answers */
static size_t nheld;
static long starts, cancels;
static long queued_peak; /* srv.sem.waiting, seen at each start */
static size_t big_len = 32 * 1024;
static char big[64 * 1024];

static inline void fake_answer(srv_req_t *req, int status, const char *text)
{
  ap_gauge_dec(&handlers);
  EXPECT_ERR("srv_answer() of a running request", 0,
             srv_answer(req, status, text, text != NULL ? strlen(text) : 0));
}

static inline void unhold(srv_req_t *req)
{
  for (size_t i = 0; i < nheld; i++)
    if (held[i] == req) {
      memmove(&held[i], &held[i + 1], (nheld - i - 1) * sizeof(held[0]));
      nheld--;
      return;
    }
}

static inline void fake_start(srv_req_t *req)
{
  char text[64];

  starts++;
  ap_gauge_inc(&handlers);
  ap_trace_add(grade_trace(), "start", req->id, (long) req->len);
  grade_hint("A request holds its permit from its grant until its answer arrives, whatever its "
             "status: so at most max_inflight handlers run at once [srv.4].");
  EXPECT(handlers.current <= cfg.max_inflight,
         "%ld handlers ran at once; max_inflight is %ld (request %ld just started)",
         handlers.current, cfg.max_inflight, req->id);
  grade_hint(NULL);
  if (srv.sem.waiting > queued_peak)
    queued_peak = srv.sem.waiting;
  if (mode == HOLD) {
    held[nheld++] = req;
  } else if (mode == BIG) {
    int n = snprintf(big, sizeof(big), "%ld:", starts - 1);
    memset(big + n, 'x', big_len - (size_t) n);
    ap_gauge_dec(&handlers);
    EXPECT_ERR("srv_answer()", 0, srv_answer(req, 0, big, big_len));
  } else {
    snprintf(text, sizeof(text), "re:%s", req->line);
    fake_answer(req, mode == FAIL ? UV_EIO : 0, text);
  }
}

static inline void fake_cancel(srv_req_t *req)
{
  cancels++;
  ap_trace_add(grade_trace(), "cancel", req->id, 0);
  if (cancel_answers) {
    unhold(req);
    fake_answer(req, UV_ECANCELED, NULL);
  }
}

/* Answers held request i (in the order they started) with status and text. */
static inline void answer_held(size_t i, int status, const char *text)
{
  srv_req_t *req;

  EXPECT(i < nheld, "the test expected %zu requests held by the handler, there are %zu", i + 1,
         nheld);
  req = held[i];
  unhold(req);
  fake_answer(req, status, text);
}

/* A configuration that every test adjusts. */
static inline void config(long max_inflight, long max_queued)
{
  cfg = (srv_config_t){.max_inflight = max_inflight,
                       .max_queued = max_queued,
                       .idle_ms = 10000,
                       .request_ms = 10000,
                       .drain_ms = 10000,
                       .high_water = 64 * 1024,
                       .low_water = 16 * 1024,
                       .handler = {.start = fake_start, .cancel = fake_cancel}};
}

static inline void start_server(void)
{
  EXPECT_ERR("srv_start()", 0, srv_start(grade_loop(), &srv, &cfg, on_done));
  EXPECT(srv.port > 0, "srv.port after srv_start(): %d", srv.port);
}

/* ---- the guard and run_until ------------------------------------------------ */

static uv_timer_t guard;
static int guard_on, guard_fired;

static inline void on_guard(uv_timer_t *t)
{
  (void) t;
  guard_fired = 1;
}

static inline void guard_start(void)
{
  uv_timer_init(grade_loop(), &guard);
  uv_timer_start(&guard, on_guard, GUARD_MS, 0);
  guard_on = 1;
}

static inline void guard_stop(void)
{
  if (guard_on)
    uv_close((uv_handle_t *) &guard, NULL);
  guard_on = 0;
}

/* Turns the loop until cond() holds; fails with what otherwise. */
#define RUN_UNTIL(cond, ...)                                                                       \
  do {                                                                                             \
    if (!guard_on)                                                                                 \
      guard_start();                                                                               \
    while (!(cond) && !guard_fired)                                                                \
      uv_run(grade_loop(), UV_RUN_ONCE);                                                           \
    if (!(cond)) {                                                                                 \
      guard_stop();                                                                                \
      ck_abort_msg(__VA_ARGS__);                                                                   \
    }                                                                                              \
  } while (0)

/* ---- clients ------------------------------------------------------------------ */

typedef struct client {
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_shutdown_t shutdown;
  int used, connected, eof, closed, err, reading;
  int half_close; /* shut down the sending side after the first payload */
  const char *payload;
  size_t bytes;        /* read in all */
  long lines;          /* '\n' read */
  char text[KEEP + 1]; /* the first KEEP bytes read */
  /* checked answers: each line starts "<n>:" with n counting from seq0 */
  int check_seq;
  long seq0;
  int at_line_start;
  long number;
  int seq_broken;
} client_t;

static client_t clients[MAX_CLIENTS];

typedef struct send_req {
  uv_write_t req;
  char data[];
} send_req_t;

static inline void on_client_closed(uv_handle_t *h)
{
  client_t *c = AP_CONTAINER_OF(h, client_t, tcp);

  c->closed = 1;
}

static inline void client_close(client_t *c)
{
  if (c->used && !uv_is_closing((uv_handle_t *) &c->tcp))
    uv_close((uv_handle_t *) &c->tcp, on_client_closed);
}

static inline void client_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
  static char scratch[64 * 1024];

  (void) h, (void) size;
  *buf = uv_buf_init(scratch, sizeof(scratch));
}

static inline void client_seq(client_t *c, char ch)
{
  if (c->at_line_start || c->number >= 0) {
    if (ch >= '0' && ch <= '9') {
      c->number = (c->at_line_start ? 0 : c->number) * 10 + (ch - '0');
      c->at_line_start = 0;
      return;
    }
    if (ch != ':' || c->at_line_start || c->number != c->seq0 + c->lines)
      c->seq_broken = 1;
    c->number = -1;
    c->at_line_start = 0;
  }
  if (ch == '\n')
    c->at_line_start = 1;
}

static inline void client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
  client_t *c = AP_CONTAINER_OF(s, client_t, tcp);

  if (nread < 0) {
    if (nread == UV_EOF)
      c->eof = 1;
    else
      c->err = (int) nread;
    uv_read_stop(s);
    c->reading = 0;
    return;
  }
  for (ssize_t i = 0; i < nread; i++) {
    char ch = buf->base[i];
    if (c->bytes < KEEP)
      c->text[c->bytes] = ch;
    c->bytes++;
    if (c->check_seq)
      client_seq(c, ch);
    c->lines += ch == '\n';
  }
}

static inline void client_start_reading(client_t *c)
{
  if (!c->reading && !c->eof && c->err == 0 && c->connected)
    c->reading = uv_read_start((uv_stream_t *) &c->tcp, client_alloc, client_read) == 0;
}

static inline void on_sent(uv_write_t *req, int status)
{
  client_t *c = req->data;

  if (status != 0 && c->err == 0)
    c->err = status;
  free(AP_CONTAINER_OF(req, send_req_t, req));
}

static inline void on_client_shutdown(uv_shutdown_t *req, int status)
{
  (void) req, (void) status;
}

/* Sends len bytes of text (copied). */
static inline void client_send_n(client_t *c, const char *text, size_t len)
{
  send_req_t *w = malloc(sizeof(*w) + len);
  uv_buf_t buf;

  EXPECT(w != NULL, "the test ran out of memory");
  memcpy(w->data, text, len);
  buf = uv_buf_init(w->data, (unsigned int) len);
  w->req.data = c;
  if (uv_write(&w->req, (uv_stream_t *) &c->tcp, &buf, 1, on_sent) != 0) {
    free(w);
    c->err = UV_EPIPE;
  }
}

static inline void client_send(client_t *c, const char *text)
{
  client_send_n(c, text, strlen(text));
}

static inline void on_client_connect(uv_connect_t *req, int status)
{
  client_t *c = AP_CONTAINER_OF(req, client_t, connect);

  if (status != 0) {
    c->err = status;
    return;
  }
  c->connected = 1;
  if (c->reading == -1) /* asked not to read yet */
    c->reading = 0;
  else
    client_start_reading(c);
  if (c->payload != NULL && c->payload[0] != '\0')
    client_send(c, c->payload);
  if (c->half_close)
    uv_shutdown(&c->shutdown, (uv_stream_t *) &c->tcp, on_client_shutdown);
}

/* Connects client i and sends payload (may be NULL); reads unless read is 0. */
static inline client_t *client_open_ex(int i, const char *payload, int read, int rcvbuf)
{
  client_t *c = &clients[i];
  struct sockaddr_in addr;

  memset(c, 0, sizeof(*c));
  c->used = 1;
  c->payload = payload;
  c->reading = read ? 0 : -1;
  c->number = -1;
  c->at_line_start = 1;
  EXPECT_ERR("uv_tcp_init_ex() (the test's client)", 0,
             uv_tcp_init_ex(grade_loop(), &c->tcp, AF_INET));
  if (rcvbuf > 0)
    uv_recv_buffer_size((uv_handle_t *) &c->tcp, &rcvbuf);
  uv_ip4_addr("127.0.0.1", srv.port, &addr);
  EXPECT_ERR("uv_tcp_connect() (the test's client)", 0,
             uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *) &addr,
                            on_client_connect));
  return c;
}

static inline client_t *client_open(int i, const char *payload)
{
  return client_open_ex(i, payload, 1, 0);
}

/* Every client closed, the guard closed, the server shut down; then the
 * loop runs out and done must have run once. */
static inline void finish_all(void)
{
  for (int i = 0; i < MAX_CLIENTS; i++)
    client_close(&clients[i]);
  if (srv.state == SRV_RUNNING)
    EXPECT_ERR("srv_shutdown()", 0, srv_shutdown(&srv));
  grade_hint("After srv_shutdown(), done runs once every handle of the server is closed, the "
             "listener and each connection's timer included [srv.11] [srv.12].");
  RUN_UNTIL(done_calls > 0,
            "srv_shutdown() was called, and done never ran (open connections: "
            "%ld, requests held by the handler: %zu)",
            srv.stats.open, nheld);
  guard_stop();
  grade_run();
  EXPECT_EQ("done calls", 1, done_calls);
  grade_hint(NULL);
}

/* ---- the sampler ---------------------------------------------------------------- */

static uv_prepare_t sampler; /* before each poll: after whatever wrote last */
static size_t unsent_peak;
static int shrink_sndbuf;             /* makes each server connection's send buffer small */
static void (*over_high_water)(void); /* called once unsent bytes passed high_water */

static inline int is_client(const uv_handle_t *h)
{
  return (const char *) h >= (const char *) clients &&
         (const char *) h < (const char *) (clients + MAX_CLIENTS);
}

static inline void sample_one(uv_handle_t *h, void *arg)
{
  size_t q;

  (void) arg;
  if (h->type != UV_TCP || is_client(h) || h == (uv_handle_t *) &srv.listener || uv_is_closing(h))
    return;
  if (shrink_sndbuf) {
    int size = 4096;
    uv_send_buffer_size(h, &size);
  }
  q = uv_stream_get_write_queue_size((uv_stream_t *) h);
  if (q > unsent_peak)
    unsent_peak = q;
}

static inline void on_sample(uv_prepare_t *prepare)
{
  uv_walk(prepare->loop, sample_one, NULL);
  if (over_high_water != NULL && unsent_peak > cfg.high_water)
    over_high_water();
}

static inline void sampler_start(void)
{
  uv_prepare_init(grade_loop(), &sampler);
  uv_prepare_start(&sampler, on_sample);
  uv_unref((uv_handle_t *) &sampler);
}

static inline void sampler_stop(void)
{
  uv_close((uv_handle_t *) &sampler, NULL);
}

/* What the sampler saw stays within high_water plus one answer of answer_len. */
static inline void expect_unsent_bounded(size_t answer_len)
{
  grade_hint("Write backpressure [srv.9]: once a write leaves more than high_water bytes "
             "unsent, stop reading that connection and start none of its requests until they "
             "fall to low_water.");
  EXPECT(unsent_peak <= cfg.high_water + answer_len,
         "a connection had %zu bytes unsent; high_water is %zu and one answer %zu bytes",
         unsent_peak, cfg.high_water, answer_len);
  grade_hint(NULL);
}

#endif /* KIT_H */
