/* test_helpers.c — unit tests of the helper layer (helpers/ap.h), run by
 * make check under ASan+UBSan with the same grader the labs use. */
#include <string.h>
#include <stdlib.h>

#include "grade.h"

static int soon_calls;
static ap_soon_t soon_reqs[3];

static void soon_record(ap_soon_t *req)
{
  ap_trace_add(grade_trace(), "soon", (long) (req - soon_reqs), 0);
  soon_calls++;
}

GRADE_TEST(soon_runs_later_in_fifo_order, .points = 1, .section = "helpers#soon",
           .hint = "ap_soon must defer to a later turn and keep FIFO order.")
{
  for (int i = 0; i < 3; i++)
    ap_soon(grade_loop(), &soon_reqs[i], soon_record);
  EXPECT_EQ("callbacks run inside ap_soon", 0, soon_calls);
  EXPECT_EQ("pending", 3, ap_soon_pending(grade_loop()));
  grade_run();
  EXPECT_STREQ("order", "soon:0 soon:1 soon:2", grade_trace_str("soon"));
}

static long chain_left;
static size_t chain_depth_max;
static ap_soon_t chain_req;
static char *chain_stack_base;

/* Records how far below chain_stack_base the stack reaches here. */
static void chain_note_depth(void)
{
  char here;
  size_t depth = (size_t) (chain_stack_base > &here ? chain_stack_base - &here
                                                    : &here - chain_stack_base);

  if (depth > chain_depth_max)
    chain_depth_max = depth;
}

static void chain_step(ap_soon_t *req)
{
  chain_note_depth();
  if (--chain_left > 0)
    ap_soon(grade_loop(), req, chain_step);
}

GRADE_TEST(soon_chains_do_not_grow_the_stack, .points = 1, .section = "helpers#soon",
           .hint = "A callback queued from a callback must run on the next drain.")
{
  char base;

  chain_stack_base = &base;
  chain_left = 100000;
  ap_soon(grade_loop(), &chain_req, chain_step);
  grade_run();
  EXPECT_EQ("steps left", 0, chain_left);
  EXPECT(chain_depth_max < 64 * 1024, "stack grew to %zu bytes over the chain", chain_depth_max);
}

static void sleep_done(ap_sleep_t *req, int status)
{
  ap_trace_add(grade_trace(), status == 0 ? "woke" : "cancelled", (long) (uintptr_t) req->data, 0);
}

GRADE_TEST(sleeps_wake_once_and_cancel, .points = 1, .section = "helpers#sleep",
           .hint = "Sleeps close their timer before calling back; cancel reports UV_ECANCELED.")
{
  ap_sleep_t a = {.data = (void *) 1}, b = {.data = (void *) 2}, c = {.data = (void *) 3};

  EXPECT_ERR("start a", 0, ap_sleep_start(grade_loop(), &a, 20, sleep_done));
  EXPECT_ERR("start b", 0, ap_sleep_start(grade_loop(), &b, 5, sleep_done));
  EXPECT_ERR("start c", 0, ap_sleep_start(grade_loop(), &c, 10, sleep_done));
  EXPECT_ERR("cancel c", 0, ap_sleep_cancel(&c));
  EXPECT_ERR("cancel c again", UV_EALREADY, ap_sleep_cancel(&c));
  EXPECT_EQ("callbacks inside start and cancel", 0, grade_trace()->count);
  grade_run();
  /* A sleep calls back from its timer's close callback. When the loop first
   * runs late, both timers expire in one pass and libuv runs that pass's
   * close callbacks last closed first: the order of the two wake-ups then
   * depends on the machine's load, so only "each once" is checked. */
  const char *woke = grade_trace_str("woke");
  EXPECT(strcmp(woke, "woke:2 woke:1") == 0 || strcmp(woke, "woke:1 woke:2") == 0,
         "wake-ups: expected woke:1 and woke:2 once each, observed %s", woke);
  EXPECT_STREQ("cancellations", "cancelled:3", grade_trace_str("cancelled"));
}

static void fake_done(ap_fake_t *op, int status, long value)
{
  ap_trace_add(grade_trace(), "got", op->id, value + status);
}

GRADE_TEST(fakes_complete_when_told, .points = 1, .section = "helpers#fakes",
           .hint = "Fake operations complete in the order the test chooses, on a later turn.")
{
  ap_gauge_t gauge = {0};
  ap_fakes_t set;
  ap_fake_t ops[3];

  ap_fakes_init(&set, grade_loop(), grade_trace(), &gauge);
  for (int i = 0; i < 3; i++)
    ap_fake_start(&set, &ops[i], i, fake_done);
  EXPECT_EQ("peak", 3, gauge.peak);
  ap_fake_complete(&ops[2], 0, 20);
  ap_fake_complete(&ops[0], 0, 0);
  EXPECT_ERR("complete twice", UV_EINVAL, ap_fake_complete(&ops[0], 0, 0));
  EXPECT_EQ("callbacks inside complete", 0, ap_trace_count(grade_trace(), "got"));
  grade_run();
  ap_fake_complete(&ops[1], 0, 10);
  grade_run();
  EXPECT_STREQ("trace", "start:0 start:1 start:2 done:2 done:0 got:2 got:0 done:1 got:1",
               grade_trace_str(""));
  EXPECT_EQ("current", 0, gauge.current);
  EXPECT_EQ("ends", 3, gauge.ends);
}

static void stop_after_three(ap_probe_t *probe)
{
  if (probe->ticks == 3)
    ap_probe_stop(probe);
}

GRADE_TEST(probe_ticks, .points = 1, .section = "helpers#probe",
           .hint = "The probe counts heartbeat ticks until stopped.")
{
  ap_probe_t probe = {.on_tick = stop_after_three};

  EXPECT_ERR("start", 0, ap_probe_start(grade_loop(), &probe, 1));
  grade_run();
  EXPECT_EQ("ticks", 3, probe.ticks);
}

static void never_fires(uv_timer_t *timer)
{
  (void) timer;
  ck_abort_msg("a leaked timer fired during cleanup");
}

GRADE_TEST(leak_report_names_open_handles, .points = 1, .section = "helpers#runtime",
           .hint = "ap_rt_close must name what is still open, then clean up.")
{
  ap_rt_t rt;
  ap_leaks_t leaks;
  uv_timer_t timer;
  uv_idle_t idle;

  EXPECT_ERR("init", 0, ap_rt_init(&rt));
  uv_timer_init(&rt.loop, &timer);
  uv_timer_start(&timer, never_fires, 100000, 0);
  uv_idle_init(&rt.loop, &idle);
  EXPECT_ERR("close with leaks", UV_EBUSY, ap_rt_close(&rt, &leaks));
  EXPECT_EQ("leaked handles", 2, leaks.handles);
  EXPECT_STREQ("report", "2 handles still open (timer, idle)", leaks.text);
  EXPECT_ERR("a clean runtime closes", 0, ap_rt_init(&rt) || ap_rt_close(&rt, NULL));
}

/* ---- TCP echo server ------------------------------------------------------
 * A test client: connects to the server, sends its text, collects what comes
 * back, and closes itself on EOF or after `want` bytes. `then` (optional) runs
 * after each step, with the step's name. */
typedef struct client client_t;
struct client {
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_write_t write;
  ap_server_t *server;
  const char *text; /* sent once connected; NULL: nothing */
  size_t want;      /* close after this many bytes; 0: wait for EOF */
  char got[64];
  size_t len;
  int status; /* the connect status */
  void (*then)(client_t *c, const char *step);
};

static void client_step(client_t *c, const char *step)
{
  ap_trace_add(grade_trace(), step, (long) (uintptr_t) c->tcp.data, 0);
  if (c->then != NULL)
    c->then(c, step);
}

static void client_closed(uv_handle_t *handle)
{
  client_step(AP_CONTAINER_OF(handle, client_t, tcp), "closed");
}

static void client_close(client_t *c)
{
  if (!uv_is_closing((uv_handle_t *) &c->tcp))
    uv_close((uv_handle_t *) &c->tcp, client_closed);
}

static void client_alloc(uv_handle_t *handle, size_t size, uv_buf_t *buf)
{
  client_t *c = AP_CONTAINER_OF(handle, client_t, tcp);

  (void) size;
  *buf = uv_buf_init(c->got + c->len, (unsigned int) (sizeof(c->got) - 1 - c->len));
}

static void client_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  client_t *c = AP_CONTAINER_OF(stream, client_t, tcp);

  (void) buf;
  if (nread < 0) {
    client_step(c, "eof");
    client_close(c);
  } else if (nread > 0) {
    c->len += (size_t) nread;
    if (c->want > 0 && c->len >= c->want)
      client_step(c, "echoed");
  }
}

static void client_connected(uv_connect_t *req, int status)
{
  client_t *c = AP_CONTAINER_OF(req, client_t, connect);
  uv_buf_t buf = uv_buf_init((char *) c->text,
                             c->text != NULL ? (unsigned int) strlen(c->text) : 0);

  c->status = status;
  if (status != 0) {
    client_step(c, "refused");
    client_close(c);
    return;
  }
  uv_read_start((uv_stream_t *) &c->tcp, client_alloc, client_read);
  if (c->text != NULL)
    uv_write(&c->write, (uv_stream_t *) &c->tcp, &buf, 1, NULL);
}

static void client_start(client_t *c, ap_server_t *server, long id)
{
  struct sockaddr_in addr;

  c->server = server;
  uv_ip4_addr("127.0.0.1", server->port, &addr);
  EXPECT_ERR("uv_tcp_init", 0, uv_tcp_init(grade_loop(), &c->tcp));
  c->tcp.data = (void *) (uintptr_t) id;
  EXPECT_ERR("uv_tcp_connect", 0,
             uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *) &addr,
                            client_connected));
}

static int server_stops;

static void server_stopped(ap_server_t *server)
{
  ap_trace_add(grade_trace(), "stopped", server->active, server->closed);
  server_stops++;
}

static void echo_then_stop(client_t *c, const char *step)
{
  if (strcmp(step, "echoed") == 0)
    client_close(c);
  else if (strcmp(step, "closed") == 0)
    ap_server_stop(c->server, server_stopped);
}

GRADE_TEST(server_echoes_a_round_trip, .points = 1, .section = "helpers#server",
           .hint = "The server listens on 127.0.0.1 and writes back what it reads.")
{
  ap_server_t server = {0};
  client_t c = {.text = "hello", .want = 5, .then = echo_then_stop};

  EXPECT_ERR("start", 0, ap_server_start(grade_loop(), &server));
  EXPECT(server.port > 0, "port %d", server.port);
  client_start(&c, &server, 1);
  grade_run();
  EXPECT_STREQ("echo", "hello", c.got);
  EXPECT_STREQ("trace", "echoed:1 closed:1 stopped:0", grade_trace_str(""));
  EXPECT_EQ("accepted", 1, server.accepted);
  EXPECT_EQ("closed", 1, server.closed);
  EXPECT_EQ("peak", 1, server.peak);
  EXPECT_EQ("stopped_cb calls", 1, server_stops);
}

static client_t busy_clients[2];

/* Client 0 is served (its echo proves it); only then client 1 connects. */
static void busy_next(client_t *c, const char *step)
{
  if (c == &busy_clients[0] && strcmp(step, "echoed") == 0)
    client_start(&busy_clients[1], c->server, 1);
  if (c == &busy_clients[1] && strcmp(step, "closed") == 0) {
    client_close(&busy_clients[0]);
    ap_server_stop(c->server, server_stopped);
  }
}

GRADE_TEST(server_rejects_beyond_max_conns, .points = 1, .section = "helpers#server",
           .hint = "Past max_conns open connections, the server writes BUSY and closes.")
{
  ap_server_t server = {.max_conns = 1};

  busy_clients[0] = (client_t){.text = "a", .want = 1, .then = busy_next};
  busy_clients[1] = (client_t){.then = busy_next};
  EXPECT_ERR("start", 0, ap_server_start(grade_loop(), &server));
  client_start(&busy_clients[0], &server, 0);
  grade_run();
  EXPECT_STREQ("what the second client read", "BUSY\n", busy_clients[1].got);
  EXPECT_EQ("accepted", 1, server.accepted);
  EXPECT_EQ("rejected", 1, server.rejected);
  EXPECT_EQ("peak", 1, server.peak);
  EXPECT_EQ("active", 0, server.active);
  EXPECT_EQ("closed", 1, server.closed);
  EXPECT_EQ("stopped_cb calls", 1, server_stops);
}

static client_t stop_clients[3];
static int stop_echoes;

/* Both clients served and still open: stop the server under them. Once it
 * reports stopped, a new connection to its port must be refused. */
static void stopped_then_connect(ap_server_t *server)
{
  server_stopped(server);
  client_start(&stop_clients[2], server, 2);
}

static void stop_next(client_t *c, const char *step)
{
  if (strcmp(step, "echoed") == 0 && ++stop_echoes == 2)
    ap_server_stop(c->server, stopped_then_connect);
}

GRADE_TEST(server_stop_closes_everything, .points = 1, .section = "helpers#server",
           .hint = "ap_server_stop closes the listener and every connection, then calls "
                   "stopped_cb once.")
{
  ap_server_t server = {0};

  for (int i = 0; i < 2; i++)
    stop_clients[i] = (client_t){.text = "x", .want = 1, .then = stop_next};
  EXPECT_ERR("start", 0, ap_server_start(grade_loop(), &server));
  client_start(&stop_clients[0], &server, 0);
  client_start(&stop_clients[1], &server, 1);
  grade_run();
  EXPECT_EQ("accepted", 2, server.accepted);
  EXPECT_EQ("peak", 2, server.peak);
  EXPECT_EQ("active", 0, server.active);
  EXPECT_EQ("closed", 2, server.closed);
  EXPECT_EQ("stopped_cb calls", 1, server_stops);
  EXPECT(ap_trace_find(grade_trace(), "stopped", 0, 0) >= 0, "trace: %s", grade_trace_str(""));
  EXPECT_EQ("clients that saw EOF", 2, ap_trace_count(grade_trace(), "eof"));
  EXPECT_ERR("connecting after the stop", UV_ECONNREFUSED, stop_clients[2].status);
}

/* ---- One-line client -------------------------------------------------------
 * Each ask's ending goes to the trace as "asked" (its status) and stops the
 * server once the last of them has ended. */
static ap_server_t ask_server;
static int asks_left;
static int ask_status[4]; /* by the ask's data */

static void ask_done(ap_ask_t *ask, int status)
{
  ap_trace_add(grade_trace(), "asked", (long) (uintptr_t) ask->data, status);
  ask_status[(uintptr_t) ask->data] = status;
  if (--asks_left == 0)
    ap_server_stop(&ask_server, server_stopped);
}

GRADE_TEST(ask_reads_one_line, .points = 1, .section = "helpers#ask",
           .hint = "ap_ask_start sends its line, reads one line back, closes, then calls cb.")
{
  ap_ask_t ask = {.data = (void *) 1};
  ap_ask_t long_ask = {.data = (void *) 2};
  char longer[AP_ASK_MAX + 8];

  memset(longer, 'x', sizeof(longer) - 1);
  longer[sizeof(longer) - 1] = '\0';
  ask_server = (ap_server_t){0};
  asks_left = 2;
  EXPECT_ERR("start", 0, ap_server_start(grade_loop(), &ask_server));
  EXPECT_ERR("ap_ask_start", 0,
             ap_ask_start(grade_loop(), &ask, ask_server.port, "hi\n", ask_done));
  EXPECT_ERR("ap_ask_start (no newline)", 0,
             ap_ask_start(grade_loop(), &long_ask, ask_server.port, longer, ask_done));
  EXPECT_EQ("callbacks inside ap_ask_start", 0, ap_trace_count(grade_trace(), "asked"));
  grade_run();
  EXPECT_STREQ("answer", "hi\n", ask.answer);
  EXPECT(ask.t1 >= ask.t0, "t1 %llu before t0 %llu", (unsigned long long) ask.t1,
         (unsigned long long) ask.t0);
  EXPECT_ERR("status", 0, ask_status[1]);
  EXPECT_ERR("status of the ask with no newline", UV_ENOBUFS, ask_status[2]);
  EXPECT_EQ("bytes kept of the answer with no newline", AP_ASK_MAX - 1, (long) long_ask.len);
  EXPECT_EQ("stopped_cb calls", 1, server_stops);
}

static void ask_after_stop(ap_server_t *server)
{
  static ap_ask_t ask = {.data = (void *) 3};

  server_stopped(server);
  EXPECT_ERR("ap_ask_start", 0, ap_ask_start(grade_loop(), &ask, server->port, "x\n", ask_done));
}

GRADE_TEST(ask_reports_errors, .points = 1, .section = "helpers#ask",
           .hint = "A refused connect reaches cb; bad arguments return UV_EINVAL and open nothing.")
{
  ap_ask_t ask;

  EXPECT_ERR("cb NULL", UV_EINVAL, ap_ask_start(grade_loop(), &ask, 80, "x\n", NULL));
  EXPECT_ERR("line NULL", UV_EINVAL, ap_ask_start(grade_loop(), &ask, 80, NULL, ask_done));
  EXPECT_ERR("port 0", UV_EINVAL, ap_ask_start(grade_loop(), &ask, 0, "x\n", ask_done));
  ask_server = (ap_server_t){0};
  asks_left = 1 << 20; /* the server is stopped here, not by ask_done */
  EXPECT_ERR("start", 0, ap_server_start(grade_loop(), &ask_server));
  ap_server_stop(&ask_server, ask_after_stop);
  grade_run();
  EXPECT_STREQ("trace", "stopped:0 asked:3", grade_trace_str(""));
  EXPECT_ERR("status", UV_ECONNREFUSED, ask_status[3]);
}

/* ---- HTTP upstream --------------------------------------------------------
 * A one-shot HTTP client: connects, sends "GET path", reads until EOF or an
 * error, closes. `then` (optional) runs once it closed. */
typedef struct hget hget_t;
struct hget {
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_write_t write;
  char req[128];
  char resp[AP_UPSTREAM_BODY_MAX + 512];
  size_t len;
  int end; /* how the read ended: UV_EOF or an error */
  void (*then)(hget_t *h);
};

static ap_upstream_t *hget_up; /* the upstream every hget of a test talks to */
static int hgets_left;         /* drain the upstream when it drops to 0 */
static int hget_no_drain;      /* 1: the test stops the upstream itself */

static void hget_closed(uv_handle_t *handle)
{
  hget_t *h = AP_CONTAINER_OF(handle, hget_t, tcp);

  if (h->then != NULL)
    h->then(h);
  if (--hgets_left == 0 && !hget_no_drain)
    ap_upstream_drain(hget_up, NULL);
}

static void hget_alloc(uv_handle_t *handle, size_t size, uv_buf_t *buf)
{
  hget_t *h = AP_CONTAINER_OF(handle, hget_t, tcp);

  (void) size;
  *buf = uv_buf_init(h->resp + h->len, (unsigned int) (sizeof(h->resp) - 1 - h->len));
}

static void hget_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  hget_t *h = AP_CONTAINER_OF(stream, hget_t, tcp);

  (void) buf;
  if (nread > 0)
    h->len += (size_t) nread;
  if (nread >= 0)
    return;
  h->end = (int) nread;
  uv_close((uv_handle_t *) &h->tcp, hget_closed);
}

static void hget_connected(uv_connect_t *req, int status)
{
  hget_t *h = AP_CONTAINER_OF(req, hget_t, connect);
  uv_buf_t buf = uv_buf_init(h->req, (unsigned int) strlen(h->req));

  if (status != 0) {
    h->end = status;
    uv_close((uv_handle_t *) &h->tcp, hget_closed);
    return;
  }
  uv_read_start((uv_stream_t *) &h->tcp, hget_alloc, hget_read);
  uv_write(&h->write, (uv_stream_t *) &h->tcp, &buf, 1, NULL);
}

static void hget_start(hget_t *h, const char *path)
{
  struct sockaddr_in addr;

  snprintf(h->req, sizeof(h->req), "GET %s HTTP/1.1\r\nHost: test\r\n\r\n", path);
  uv_ip4_addr("127.0.0.1", hget_up->port, &addr);
  EXPECT_ERR("uv_tcp_init", 0, uv_tcp_init(grade_loop(), &h->tcp));
  EXPECT_ERR("uv_tcp_connect", 0,
             uv_tcp_connect(&h->connect, &h->tcp, (const struct sockaddr *) &addr, hget_connected));
  hgets_left++;
}

static void start_upstream(ap_upstream_t *up)
{
  hget_up = up;
  EXPECT_ERR("ap_upstream_start", 0, ap_upstream_start(grade_loop(), up));
  EXPECT(up->port > 0, "port %d", up->port);
}

/* The status line's code, or 0. */
static int hget_status(const hget_t *h)
{
  int code = 0;

  sscanf(h->resp, "HTTP/1.1 %d", &code);
  return code;
}

static const char *hget_body(const hget_t *h)
{
  const char *end = strstr(h->resp, "\r\n\r\n");

  return end != NULL ? end + 4 : "";
}

GRADE_TEST(upstream_serves_items, .points = 1, .section = "helpers#upstream",
           .hint = "GET /items/<n> answers 200 with the item's body, after latency_ms.")
{
  static hget_t a, b;
  ap_upstream_t up = {.latency_ms = 1};
  char body[AP_UPSTREAM_BODY_MAX];
  size_t len = ap_upstream_body(7, body, sizeof(body));

  start_upstream(&up);
  hget_start(&a, "/items/7");
  hget_start(&b, "/nothing/here");
  grade_run();
  EXPECT_EQ("status of /items/7", 200, hget_status(&a));
  EXPECT(strstr(a.resp, "Connection: close\r\n") != NULL, "response: %.200s", a.resp);
  EXPECT_EQ("body length", len, strlen(hget_body(&a)));
  EXPECT(memcmp(hget_body(&a), body, len) == 0, "the body is not ap_upstream_body(7)");
  EXPECT_ERR("how the read ended", UV_EOF, a.end);
  EXPECT_EQ("status of /nothing/here", 404, hget_status(&b));
  EXPECT_EQ("accepted", 2, up.accepted);
  EXPECT_EQ("requests", 2, up.requests);
  EXPECT_EQ("served (200s)", 1, up.served);
  EXPECT_EQ("closed", 2, up.closed);
  EXPECT_EQ("abandoned", 0, up.abandoned);
  EXPECT_EQ("active", 0, up.active);
}

GRADE_TEST(upstream_bodies_are_deterministic, .points = 1, .section = "helpers#upstream",
           .hint = "ap_upstream_body depends on the item only and truncates like snprintf.")
{
  char a[AP_UPSTREAM_BODY_MAX], b[AP_UPSTREAM_BODY_MAX], small[10];
  size_t la = ap_upstream_body(3, a, sizeof(a));

  EXPECT_EQ("same item, same length", la, ap_upstream_body(3, b, sizeof(b)));
  EXPECT(memcmp(a, b, la) == 0, "item 3's body changed between calls");
  EXPECT(la >= 1024 && la <= AP_UPSTREAM_BODY_MAX, "length %zu", la);
  EXPECT_EQ("truncated call's return", la, ap_upstream_body(3, small, sizeof(small)));
  EXPECT(memcmp(small, a, sizeof(small)) == 0, "truncated copy differs");
  ap_upstream_body(4, b, sizeof(b));
  EXPECT(memcmp(a, b, 64) != 0, "items 3 and 4 start alike");
}

static hget_t limit_gets[2];

/* The first request is held: only then the second client connects. */
static void limit_on_request(ap_upstream_t *up, long item, int fault)
{
  (void) item;
  if (fault == AP_UPSTREAM_HOLD)
    hget_start(&limit_gets[1], "/items/2");
  (void) up;
}

static void limit_release(hget_t *h)
{
  if (h == &limit_gets[1])
    ap_upstream_release(hget_up);
}

GRADE_TEST(upstream_rejects_beyond_max_conns, .points = 1, .section = "helpers#upstream",
           .hint = "Past max_conns open connections, the upstream answers 429 at once.")
{
  ap_upstream_t up = {.max_conns = 1, .hold_next = 1, .on_request = limit_on_request};

  limit_gets[1].then = limit_release;
  start_upstream(&up);
  hget_start(&limit_gets[0], "/items/1");
  grade_run();
  EXPECT_EQ("status of the held request", 200, hget_status(&limit_gets[0]));
  EXPECT_EQ("status of the one beyond the limit", 429, hget_status(&limit_gets[1]));
  EXPECT_EQ("accepted", 1, up.accepted);
  EXPECT_EQ("rejected", 1, up.rejected);
  EXPECT_EQ("peak", 1, up.peak);
  EXPECT_EQ("closed", 1, up.closed);
  EXPECT_EQ("held", 0, up.held);
}

GRADE_TEST(upstream_injects_faults, .points = 1, .section = "helpers#upstream",
           .hint = "Faults come from the table (a number of times) or the query string.")
{
  static hget_t g[5];
  ap_upstream_t up = {0};

  EXPECT_ERR("fault table", 0, ap_upstream_fault(&up, 1, AP_UPSTREAM_RESET, 1));
  EXPECT_ERR("fault table", 0, ap_upstream_fault(&up, 2, AP_UPSTREAM_ERROR, -1));
  EXPECT_ERR("times 0", UV_EINVAL, ap_upstream_fault(&up, 2, AP_UPSTREAM_ERROR, 0));
  start_upstream(&up);
  hget_start(&g[0], "/items/1");
  hget_start(&g[1], "/items/2");
  hget_start(&g[2], "/items/3?fault=500");
  hget_start(&g[3], "/items/3?fault=hold");
  grade_run();
  EXPECT_ERR("reading a reset connection", UV_ECONNRESET, g[0].end);
  EXPECT_EQ("status with fault 500", 500, hget_status(&g[1]));
  EXPECT_EQ("status with ?fault=500", 500, hget_status(&g[2]));
  EXPECT_EQ("status with ?fault=hold", 400, hget_status(&g[3]));
  EXPECT_EQ("faulted", 3, up.faulted);
  EXPECT_EQ("closed", 4, up.closed);
  EXPECT_EQ("abandoned", 0, up.abandoned);
}

static int upstream_stops;

static void upstream_stopped(ap_upstream_t *up)
{
  EXPECT_EQ("connections open when stopped_cb ran", 0, up->active);
  upstream_stops++;
}

static void stop_when_two_held(ap_upstream_t *up, long item, int fault)
{
  (void) item, (void) fault;
  if (up->held == 2)
    EXPECT_ERR("ap_upstream_stop", 0, ap_upstream_stop(up, upstream_stopped));
}

GRADE_TEST(upstream_stop_closes_everything, .points = 1, .section = "helpers#upstream",
           .hint = "ap_upstream_stop closes the listener and every connection, held ones too.")
{
  static hget_t g[2];
  ap_upstream_t up = {.hold_next = 2, .on_request = stop_when_two_held};

  hget_no_drain = 1;
  start_upstream(&up);
  hget_start(&g[0], "/items/1");
  hget_start(&g[1], "/items/2");
  grade_run();
  EXPECT_EQ("stopped_cb calls", 1, upstream_stops);
  EXPECT_EQ("held", 0, up.held);
  EXPECT_EQ("closed", 2, up.closed);
  EXPECT(g[0].len == 0 && g[1].len == 0, "a held request was answered");
  EXPECT_ERR("stopping again", UV_EALREADY, ap_upstream_stop(&up, upstream_stopped));
}

/* ---- hand-offs (ap_defer) ------------------------------------------------------ */

static ap_soon_t hand_a, hand_b, hand_d1, hand_d2, hand_e, hand_out;

static void hand_record(ap_soon_t *req)
{
  ap_trace_add(grade_trace(), req->data, 0, 0);
}

/* Runs as a hand-off: its own ap_defer must go to the next turn. */
static void hand_d1_cb(ap_soon_t *req)
{
  hand_record(req);
  ap_defer(grade_loop(), &hand_e, hand_record);
  EXPECT_EQ("queued (b, out, then e from a deferred callback)", 3, ap_soon_pending(grade_loop()));
}

static void hand_a_cb(ap_soon_t *req)
{
  hand_record(req);
  ap_defer(grade_loop(), &hand_d1, hand_d1_cb);
  ap_defer(grade_loop(), &hand_d2, hand_record);
  EXPECT_EQ("events once ap_defer returned (never inside it)", 1, grade_trace()->count);
  EXPECT_EQ("queued after two hand-offs from a call-soon callback (b and out)", 2,
            ap_soon_pending(grade_loop()));
}

GRADE_TEST(defer_hands_off_in_the_same_drain_one_level_deep, .points = 1, .section = "helpers#soon",
           .hint = "ap_defer from a call-soon callback runs right after it returns, before "
                   "the next one; from a deferred callback or outside a drain it is ap_soon.")
{
  hand_a.data = "a", hand_b.data = "b", hand_d1.data = "d1";
  hand_d2.data = "d2", hand_e.data = "e", hand_out.data = "out";
  ap_soon(grade_loop(), &hand_a, hand_a_cb);
  ap_soon(grade_loop(), &hand_b, hand_record);
  ap_defer(grade_loop(), &hand_out, hand_record);
  EXPECT_EQ("callbacks run inside ap_defer", 0, grade_trace()->count);
  EXPECT_EQ("queued (ap_defer outside a drain is ap_soon)", 3, ap_soon_pending(grade_loop()));
  grade_run();
  EXPECT_STREQ("order", "a:0 d1:0 d2:0 b:0 out:0 e:0", grade_trace_str(""));
}

static long hand_chain_left;
static ap_soon_t hand_chain_req;

static void hand_chain_step(ap_soon_t *req)
{
  chain_note_depth();
  if (--hand_chain_left > 0)
    ap_defer(grade_loop(), req, hand_chain_step);
}

static void hand_count_turn(uv_prepare_t *prepare)
{
  (*(long *) prepare->data)++;
}

GRADE_TEST(defer_chains_reach_the_loop, .points = 1, .section = "helpers#soon",
           .hint = "A chain of ap_defer calls must neither grow the stack nor run in one "
                   "drain: every other step goes to the next turn.")
{
  char base;
  long turns = 0;
  uv_prepare_t prepare;

  chain_stack_base = &base;
  hand_chain_left = 10000;
  prepare.data = &turns;
  uv_prepare_init(grade_loop(), &prepare);
  uv_prepare_start(&prepare, hand_count_turn);
  uv_unref((uv_handle_t *) &prepare);
  ap_soon(grade_loop(), &hand_chain_req, hand_chain_step);
  grade_run();
  uv_close((uv_handle_t *) &prepare, NULL);
  grade_run();
  EXPECT_EQ("steps left", 0, hand_chain_left);
  EXPECT(turns >= 10000 / 2, "10,000 chained hand-offs took only %ld loop turns", turns);
  EXPECT(chain_depth_max < 64 * 1024, "stack grew to %zu bytes over the chain", chain_depth_max);
}

static void perturbed_timer_cb(uv_timer_t *t)
{
  ap_trace_add(grade_trace(), "timer", (long) uv_timer_get_repeat(t), 0);
  uv_close((uv_handle_t *) t, NULL);
}

/* With AP_PERTURB the loop stalls before some polls; its own handle is not
 * a leak, and timers still fire in deadline order. */
GRADE_TEST(perturbed_loop_keeps_order_and_closes, .points = 1, .section = "helpers#runtime",
           .hint = "The perturbation handle must be unref'd, kept out of the leak report and "
                   "closed by ap_rt_close.")
{
  ap_rt_t rt;
  uv_timer_t timers[3];
  ap_leaks_t leaks;

  setenv("AP_PERTURB", "7", 1);
  EXPECT_ERR("ap_rt_init() with AP_PERTURB=7", 0, ap_rt_init(&rt));
  unsetenv("AP_PERTURB");
  EXPECT(rt.perturb_seed != 0, "AP_PERTURB=7 did not turn the perturbation on");
  for (int i = 0; i < 3; i++) {
    uv_timer_init(&rt.loop, &timers[i]);
    /* The repeat field only names the timer: each is stopped by its close. */
    uv_timer_start(&timers[i], perturbed_timer_cb, (uint64_t) (3 - i), (uint64_t) (3 - i));
  }
  ap_rt_run(&rt);
  EXPECT_STREQ("timers in deadline order", "timer:1 timer:2 timer:3", grade_trace_str("timer"));
  EXPECT_ERR("ap_rt_close() of the perturbed loop", 0, ap_rt_close(&rt, &leaks));
}

GRADE_LAB("helpers", &perturbed_loop_keeps_order_and_closes, &soon_runs_later_in_fifo_order,
          &soon_chains_do_not_grow_the_stack, &sleeps_wake_once_and_cancel,
          &fakes_complete_when_told, &probe_ticks, &leak_report_names_open_handles,
          &server_echoes_a_round_trip, &server_rejects_beyond_max_conns,
          &server_stop_closes_everything, &ask_reads_one_line, &ask_reports_errors,
          &upstream_serves_items, &upstream_bodies_are_deterministic,
          &upstream_rejects_beyond_max_conns, &upstream_injects_faults,
          &upstream_stop_closes_everything, &defer_hands_off_in_the_same_drain_one_level_deep,
          &defer_chains_reach_the_loop)
