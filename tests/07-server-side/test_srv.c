/* test_srv.c — graded tests for lab 07: the line server (srv.c, work.c).
 *
 * Real clients on 127.0.0.1 talk to the server on the test's own loop
 * (kit.h). The handler is a fake the test answers, so the tests decide when
 * each request ends; deadlines are loop timers of the server's, set short
 * where a test needs one to fire and long where it must not; a guard timer
 * far beyond them turns a hang into a message. Nothing reads a clock.
 */
#include <signal.h>

#include "kit.h"

/* ---- one connection --------------------------------------------------------- */

GRADE_TEST(serves_one_answer_per_line_in_order, .points = 3, .clauses = "srv.1 srv.2 srv.4 srv.6",
           .section = "07-server-side#one-connection",
           .hint = "Each complete line is one request: admit it, start the handler once its "
                   "permit comes, write its answer followed by '\\n', then go on with the next "
                   "line. A client that half-closes still gets every answer, then EOF.")
{
  client_t *c;

  config(2, 2);
  mode = INSTANT;
  start_server();
  c = client_open(0, "alpha\nbeta\ngamma\n");
  c->half_close = 1;
  RUN_UNTIL(c->eof || c->err != 0,
            "the client sent three lines and half-closed; the server "
            "never closed its side (lines read: %ld)",
            c->lines);
  EXPECT_STREQ("what the client read", "re:alpha\nre:beta\nre:gamma\n", c->text);
  EXPECT_EQ("handlers started", 3, starts);
  EXPECT_EQ("handlers running at once on one connection (its peak)", 1, handlers.peak);
  EXPECT_STREQ("requests started (id: length)", "start:0 start:1 start:2",
               grade_trace_str("start"));
  EXPECT_EQ("stats.admitted", 3, srv.stats.admitted);
  EXPECT_EQ("stats.answered", 3, srv.stats.answered);
  EXPECT_EQ("stats.refused", 0, srv.stats.refused);
  RUN_UNTIL(srv.stats.open == 0, "the client's connection is still open at the server");
  EXPECT_EQ("stats.accepted", 1, srv.stats.accepted);
  finish_all();
}

GRADE_TEST(a_burst_is_admitted_up_to_the_bounds_and_the_rest_refused, .points = 4,
           .clauses = "srv.3 srv.4", .section = "07-server-side#admission",
           .hint = "A request is admitted while a permit is free or fewer than max_queued "
                   "wait; any other is answered BUSY at once, never queued. Each permit goes "
                   "back when the handler answers, to the first request waiting.")
{
  enum { N = 20, LIMIT = 3, QUEUE = 5 };
  long busy = 0, answered = 0;

  config(LIMIT, QUEUE);
  start_server();
  for (int i = 0; i < N; i++)
    client_open(i, "job\n");
  RUN_UNTIL(srv.stats.admitted + srv.stats.refused == N && starts == LIMIT,
            "20 clients sent a line each; admitted %ld, refused %ld, handlers started %ld",
            srv.stats.admitted, srv.stats.refused, starts);
  EXPECT_EQ("requests admitted (max_inflight + max_queued)", LIMIT + QUEUE, srv.stats.admitted);
  EXPECT_EQ("requests refused", N - LIMIT - QUEUE, srv.stats.refused);
  EXPECT_EQ("handlers running", LIMIT, handlers.current);
  EXPECT_EQ("requests waiting for a permit (srv.sem.waiting)", QUEUE, srv.sem.waiting);
  for (int k = 0; k < LIMIT + QUEUE; k++) {
    long left = LIMIT + QUEUE - k;
    EXPECT(handlers.current == (left < LIMIT ? left : LIMIT),
           "after %d answers, %ld handlers ran; expected %ld (every freed permit goes to a "
           "waiting request)",
           k, handlers.current, left < LIMIT ? left : LIMIT);
    answer_held(0, 0, "done");
    RUN_UNTIL(starts == (k + 1 + LIMIT < LIMIT + QUEUE ? k + 1 + LIMIT : LIMIT + QUEUE) &&
                  srv.stats.answered == k + 1,
              "after %d answers, handlers started: %ld, answered: %ld", k + 1, starts,
              srv.stats.answered);
  }
  EXPECT_EQ("handlers running at once (peak)", LIMIT, handlers.peak);
  EXPECT(queued_peak <= QUEUE, "%ld requests waited for a permit at once; max_queued is %d",
         queued_peak, QUEUE);
  for (int i = 0; i < N; i++)
    RUN_UNTIL(clients[i].lines == 1, "client %d never got its answer line", i);
  for (int i = 0; i < N; i++) {
    EXPECT(strcmp(clients[i].text, "BUSY\n") == 0 || strcmp(clients[i].text, "done\n") == 0,
           "client %d read \"%s\"; expected \"done\\n\" or \"BUSY\\n\"", i, clients[i].text);
    busy += strcmp(clients[i].text, "BUSY\n") == 0;
    answered += strcmp(clients[i].text, "done\n") == 0;
  }
  EXPECT_EQ("clients answered BUSY", N - LIMIT - QUEUE, busy);
  EXPECT_EQ("clients answered done", LIMIT + QUEUE, answered);
  finish_all();
}

GRADE_TEST(waiting_requests_start_in_arrival_order, .points = 2, .clauses = "srv.3",
           .section = "07-server-side#admission",
           .hint = "Requests that wait for a permit wait in line: the semaphore of lab 03 is "
                   "fair, so acquire in the order the lines arrive.")
{
  config(1, 4);
  start_server();
  for (int i = 0; i < 5; i++) {
    client_open(i, "q\n");
    RUN_UNTIL(srv.stats.admitted == i + 1, "client %d's line was never admitted", i);
  }
  for (int i = 0; i < 5; i++) {
    RUN_UNTIL(nheld == 1, "the handler holds %zu requests; expected 1 (max_inflight 1)", nheld);
    EXPECT_EQ("the request running", i, held[0]->id);
    answer_held(0, 0, "ok");
    RUN_UNTIL(clients[i].lines == 1, "client %d never got its answer", i);
  }
  EXPECT_STREQ("requests started", "start:0 start:1 start:2 start:3 start:4",
               grade_trace_str("start"));
  finish_all();
}

/* ---- answers ----------------------------------------------------------------- */

static int answer_twice_result;
static long answered_inside, available_inside;

static void start_and_check(srv_req_t *req)
{
  starts++;
  ap_gauge_inc(&handlers);
  ap_gauge_dec(&handlers);
  EXPECT_ERR("srv_answer() inside start", 0, srv_answer(req, 0, "quick", 5));
  answered_inside = srv.stats.answered;
  available_inside = srv.sem.available;
  answer_twice_result = srv_answer(req, 0, "again", 5);
}

GRADE_TEST(an_answer_is_acted_on_a_later_turn, .points = 2, .clauses = "srv.5",
           .section = "07-server-side#answers",
           .hint = "srv_answer() only records: the permit goes back, and the answer is written "
                   "and counted, on a later turn (ap_soon). A second srv_answer() of the same "
                   "request is UV_EINVAL.")
{
  client_t *c;

  config(1, 0);
  cfg.handler.start = start_and_check;
  start_server();
  c = client_open(0, "x\ny\n");
  RUN_UNTIL(c->lines == 2, "the client got %ld answers of 2", c->lines);
  EXPECT_STREQ("answers", "quick\nquick\n", c->text);
  EXPECT_EQ("stats.answered inside srv_answer() (the second request)", 1, answered_inside);
  EXPECT_EQ("permits free inside srv_answer()", 0, available_inside);
  EXPECT_ERR("srv_answer() a second time", UV_EINVAL, answer_twice_result);
  EXPECT_EQ("stats.answered", 2, srv.stats.answered);
  finish_all();
}

GRADE_TEST(a_failing_handler_gets_err_failed_and_frees_its_permit, .points = 2,
           .clauses = "srv.4 srv.6", .section = "07-server-side#answers",
           .hint = "An answer with a status other than 0 is the line \"ERR failed\"; the permit "
                   "goes back whatever the status.")
{
  client_t *a, *b;

  config(1, 1);
  start_server();
  a = client_open(0, "one\n");
  RUN_UNTIL(nheld == 1, "the first request never reached the handler");
  b = client_open(1, "two\n");
  RUN_UNTIL(srv.stats.admitted == 2, "the second request was never admitted");
  answer_held(0, UV_EIO, "ignored");
  RUN_UNTIL(a->lines == 1 && nheld == 1, "after a failed answer: client lines %ld, held %zu",
            a->lines, nheld);
  EXPECT_STREQ("answer to a failed request", "ERR failed\n", a->text);
  answer_held(0, 0, "fine");
  RUN_UNTIL(b->lines == 1, "the second client never got its answer");
  EXPECT_STREQ("answer after a failed one", "fine\n", b->text);
  EXPECT_EQ("stats.answered", 2, srv.stats.answered);
  finish_all();
}

/* ---- deadlines ------------------------------------------------------------------ */

GRADE_TEST(an_idle_connection_is_closed, .points = 2, .clauses = "srv.7",
           .section = "07-server-side#deadlines",
           .hint = "While no request is begun (after connecting, after each answer) the "
                   "connection's timer is the idle timer: idle_ms without a byte closes it.")
{
  client_t *quiet, *once;

  config(1, 1);
  cfg.idle_ms = 100;
  mode = INSTANT;
  start_server();
  quiet = client_open(0, NULL);
  once = client_open(1, "hello\n");
  RUN_UNTIL(quiet->eof && once->eof,
            "idle_ms is 100 ms; the connections were not closed (EOF "
            "seen: silent client %d, client after its answer %d)",
            quiet->eof, once->eof);
  EXPECT_EQ("bytes the silent client read", 0, quiet->bytes);
  EXPECT_STREQ("what the other client read", "re:hello\n", once->text);
  EXPECT_EQ("stats.cut", 2, srv.stats.cut);
  finish_all();
}

static uv_timer_t drip;
static long dripped;

static void on_drip(uv_timer_t *t)
{
  client_t *c = t->data;

  if (c->eof || c->err != 0 || c->lines > 0) {
    uv_close((uv_handle_t *) t, NULL);
    return;
  }
  client_send(c, "z");
  dripped++;
}

/* $begin test-slow-writer */
GRADE_TEST(a_slow_writer_is_cut_off, .points = 3, .clauses = "srv.8",
           .section = "07-server-side#deadlines",
           .hint = "A request's deadline runs from its first byte, whatever arrives after: a "
                   "line still incomplete after request_ms is answered \"ERR timeout\" and the "
                   "connection closed. Restarting the timer on every byte never cuts anyone.")
{
  client_t *c;

  config(1, 1);
  cfg.request_ms = 60; /* the idle timer (10 s) would never fire first */
  start_server();
  c = client_open(0, "z");
  drip.data = c;
  uv_timer_init(grade_loop(), &drip);
  uv_timer_start(&drip, on_drip, 5, 5); /* one byte every 5 ms, never a '\n' */
  RUN_UNTIL(c->eof || c->err != 0,
            "a client sent a byte every 5 ms for %ld bytes; with "
            "request_ms 60 it was never cut off",
            dripped);
  EXPECT_STREQ("what the slow client read", "ERR timeout\n", c->text);
  EXPECT_EQ("stats.cut", 1, srv.stats.cut);
  EXPECT_EQ("requests admitted (the line never ended)", 0, srv.stats.admitted);
  RUN_UNTIL(srv.stats.open == 0, "the slow client's connection stayed open");
  finish_all();
}
/* $end test-slow-writer */

GRADE_TEST(a_request_past_its_deadline_is_cancelled, .points = 3, .clauses = "srv.6 srv.8",
           .section = "07-server-side#deadlines",
           .hint = "At its deadline a request waiting for a permit leaves the line "
                   "(bf_sem_cancel) and a running one gets handler.cancel once; both are "
                   "answered \"ERR timeout\", whatever the handler answers later. The "
                   "connection goes on with its next line.")
{
  client_t *a, *b;

  config(1, 1);
  cfg.request_ms = 150;
  start_server();
  a = client_open(0, "slow\n");
  RUN_UNTIL(nheld == 1, "the first request never reached the handler");
  b = client_open(1, "waits\n");
  RUN_UNTIL(b->lines == 1 && cancels == 1,
            "with request_ms 150: the waiting request got %ld answers, the running one %ld "
            "cancels",
            b->lines, cancels);
  EXPECT_STREQ("answer to the request that waited for a permit", "ERR timeout\n", b->text);
  EXPECT_EQ("handlers started (the waiting one never)", 1, starts);
  EXPECT_EQ("cancels of the running request", 1, cancels);
  answer_held(0, 0, "too late");
  RUN_UNTIL(a->lines == 1, "the cancelled request was never answered");
  EXPECT_STREQ("answer to the cancelled request", "ERR timeout\n", a->text);
  client_send(a, "next\n");
  RUN_UNTIL(nheld == 1, "the connection's next line never reached the handler");
  RUN_UNTIL(cancels == 2,
            "the connection's next request passed its deadline too and was never "
            "cancelled (cancels: %ld)",
            cancels);
  answer_held(0, UV_ECANCELED, NULL);
  client_send(a, "last\n");
  RUN_UNTIL(nheld == 1, "the connection's third line never reached the handler");
  answer_held(0, 0, "in time");
  RUN_UNTIL(a->lines == 3, "the third line was never answered");
  EXPECT_STREQ("answers on the first connection", "ERR timeout\nERR timeout\nin time\n", a->text);
  EXPECT_EQ("stats.answered", 4, srv.stats.answered);
  EXPECT_EQ("cancels in all (one per request past its deadline)", 2, cancels);
  finish_all();
}

/* Runs in the same drain as the server's on_answer, right after it: the
 * permit has just been handed to the waiting request, whose grant arrives on
 * the next drain. Holding the loop past that request's deadline makes the
 * deadline fire first on the next turn, whatever the machine's speed: a
 * stall that forces one order, not a wait for something to happen. */
static ap_soon_t stall;
static int stalls;

static void stall_past_the_deadline(ap_soon_t *req)
{
  uv_sleep((unsigned int) cfg.request_ms + 20);
  /* Once more, on the next drain: right after the late grant, whose line's
   * answer lets the next line take the free permit, granted on its way. */
  if (++stalls == 1)
    ap_soon(grade_loop(), req, stall_past_the_deadline);
}

GRADE_TEST(a_grant_that_arrives_after_the_deadline_starts_nothing, .points = 2,
           .clauses = "srv.4 srv.8", .section = "07-server-side#deadlines",
           .hint = "A request's permit can be on its way (granted, its callback not yet run) "
                   "when its deadline fires: bf_sem_cancel then says UV_EBUSY. When the grant "
                   "arrives, give the permit back, answer \"ERR timeout\" and start no handler; "
                   "the next line must still get a permit.")
{
  client_t *a, *b;

  config(1, 1);
  cfg.request_ms = 50;
  start_server();
  a = client_open(0, "first\n");
  RUN_UNTIL(nheld == 1, "the first request never reached the handler");
  b = client_open(1, "late\nnext\n");
  RUN_UNTIL(srv.sem.waiting == 1, "the second request never waited for a permit");
  answer_held(0, 0, "done");
  ap_soon(grade_loop(), &stall, stall_past_the_deadline);
  RUN_UNTIL(b->lines == 2, "two permits reached their requests after the deadlines: %ld answers",
            b->lines);
  EXPECT_STREQ("answers to the requests whose deadlines passed first", "ERR timeout\nERR timeout\n",
               b->text);
  EXPECT_EQ("handlers started (the late ones never)", 1, starts);
  EXPECT_EQ("cancels (no handler ever held the late requests)", 0, cancels);
  client_send(b, "more\n");
  RUN_UNTIL(nheld == 1, "a line after the late requests never reached the handler");
  answer_held(0, 0, "more done");
  RUN_UNTIL(b->lines == 3, "the line after the late requests was never answered");
  EXPECT_STREQ("answers", "ERR timeout\nERR timeout\nmore done\n", b->text);
  EXPECT_STREQ("the first client's answer", "done\n", a->text);
  EXPECT_EQ("permits free", 1, srv.sem.available);
  finish_all();
}

/* ---- backpressure ---------------------------------------------------------------- */

static const char *lines_of(int n)
{
  static char text[2048];

  text[0] = '\0';
  for (int i = 0; i < n; i++)
    strcat(text, "big\n");
  return text;
}

static void backpressure_setup(uint64_t idle_ms)
{
  config(4, 4);
  cfg.idle_ms = idle_ms;
  mode = BIG; /* each answer is big_len bytes */
  shrink_sndbuf = 1;
  sampler_start();
  start_server();
}

/* $begin test-slow-reader */
GRADE_TEST(a_reader_that_never_reads_costs_bounded_memory, .points = 4, .clauses = "srv.7 srv.9",
           .section = "07-server-side#backpressure",
           .hint = "After each write, compare uv_stream_get_write_queue_size() with high_water: "
                   "above it, stop reading (uv_read_stop) and start no request of that "
                   "connection. A connection that cannot go on is idle: idle_ms closes it.")
{
  client_t *c;

  backpressure_setup(50);
  c = client_open_ex(0, lines_of(64), 0, 4096); /* 64 answers of 32 KB, never read */
  RUN_UNTIL(srv.stats.cut == 1,
            "a client that never reads asked for 64 answers of 32 KB; "
            "idle_ms is 50 and it was never cut off (answered: %ld)",
            srv.stats.answered);
  EXPECT(unsent_peak > cfg.high_water,
         "the server's unsent bytes never passed high_water (%zu): the test saw at most %zu",
         cfg.high_water, unsent_peak);
  expect_unsent_bounded(big_len + 1);
  EXPECT(starts < 64, "every one of the 64 requests started although nobody read the answers");
  sampler_stop();
  (void) c;
  finish_all();
}
/* $end test-slow-reader */

static client_t *resumer;

static void read_when_paused(void)
{
  client_start_reading(resumer);
}

GRADE_TEST(a_reader_that_resumes_gets_every_answer_in_order, .points = 3, .clauses = "srv.2 srv.9",
           .section = "07-server-side#backpressure",
           .hint = "Once a write callback finds the unsent bytes at low_water or below, read "
                   "again and start the next line: a paused connection that never resumes "
                   "leaves its client waiting forever.")
{
  client_t *c;

  backpressure_setup(10000);
  big_len = 8 * 1024; /* 300 answers: more lines than the input buffer holds */
  cfg.high_water = 16 * 1024;
  cfg.low_water = 4 * 1024;
  srv_shutdown(&srv);
  RUN_UNTIL(done_calls == 1, "done never ran after a shutdown with no connection");
  done_calls = 0;
  start_server();
  c = client_open_ex(0, lines_of(300), 0, 4096);
  c->check_seq = 1;
  resumer = c;
  over_high_water = read_when_paused;
  RUN_UNTIL(c->lines == 300 || c->eof || c->err != 0,
            "the client started reading once the server passed high_water, and got %ld of 300 "
            "answers (the server's most unsent bytes: %zu, requests started: %ld)",
            c->lines, unsent_peak, starts);
  EXPECT_EQ("answers read", 300, c->lines);
  EXPECT(!c->seq_broken, "the answers did not come in the order of the lines");
  expect_unsent_bounded(big_len + 1);
  EXPECT_EQ("stats.answered", 300, srv.stats.answered);
  sampler_stop();
  finish_all();
}

GRADE_TEST(a_shutdown_does_not_wait_for_a_reader_that_never_reads, .points = 2,
           .clauses = "srv.9 srv.11", .section = "07-server-side#shutdown",
           .hint = "A connection with nothing begun waits for its writes before it closes, "
                   "but not past the drain deadline: a peer that never reads would hold the "
                   "shutdown until its idle timeout.")
{
  backpressure_setup(10000);
  cfg.drain_ms = 50;
  srv_shutdown(&srv);
  RUN_UNTIL(done_calls == 1, "done never ran after a shutdown with no connection");
  done_calls = 0;
  start_server();
  client_open_ex(0, lines_of(64), 0, 4096);
  RUN_UNTIL(unsent_peak > cfg.high_water, "the server never passed high_water for a client that "
                                          "never reads");
  EXPECT_ERR("srv_shutdown()", 0, srv_shutdown(&srv));
  RUN_UNTIL(done_calls == 1, "drain_ms is 50, idle_ms 10 s: the shutdown waited for a client "
                             "that never reads (done never ran)");
  sampler_stop();
  finish_all();
}

/* ---- clients that leave -------------------------------------------------------------- */

GRADE_TEST(a_client_that_disconnects_mid_request_costs_nothing, .points = 2,
           .clauses = "srv.2 srv.4 srv.14", .section = "07-server-side#one-connection",
           .hint = "A connection whose peer is gone keeps its request until the handler "
                   "answers (the handler holds req), then gives the permit back and closes.")
{
  client_t *a, *b;

  config(1, 0);
  start_server();
  a = client_open(0, "abandoned\n");
  RUN_UNTIL(nheld == 1, "the request never reached the handler");
  client_close(a);
  RUN_UNTIL(a->closed, "the test's client did not close");
  answer_held(0, 0, "nobody listens");
  RUN_UNTIL(srv.stats.open == 0, "the connection of a client that left is still open after its "
                                 "answer");
  EXPECT_EQ("permits free", 1, srv.sem.available);
  b = client_open(1, "next\n");
  RUN_UNTIL(nheld == 1, "the next client's request never reached the handler");
  answer_held(0, 0, "served");
  RUN_UNTIL(b->lines == 1, "the next client never got its answer");
  EXPECT_STREQ("the next client's answer", "served\n", b->text);
  EXPECT_EQ("stats.admitted == answered + cancelled", srv.stats.admitted,
            srv.stats.answered + srv.stats.cancelled);
  finish_all();
}

/* ---- shutdown ------------------------------------------------------------------------ */

static int state_in_done = -1;

static void on_done_state(srv_t *s, int status)
{
  state_in_done = (int) s->state;
  on_done(s, status);
}

GRADE_TEST(shutdown_mid_load_drains_then_cancels, .points = 4, .clauses = "srv.6 srv.11 srv.12",
           .section = "07-server-side#shutdown",
           .hint = "srv_shutdown closes the listener first and idle connections at once; "
                   "requests admitted may finish until the drain deadline, then the waiting "
                   "ones leave the line and the running ones are cancelled, all answered "
                   "\"ERR shutdown\". done runs once the last handle is closed.")
{
  client_t *idle, *late;
  int k;

  config(2, 2);
  cfg.drain_ms = 500;
  cancel_answers = 1;
  EXPECT_ERR("srv_start()", 0, srv_start(grade_loop(), &srv, &cfg, on_done_state));
  EXPECT_EQ("srv.state after srv_start() (SRV_RUNNING)", SRV_RUNNING, srv.state);
  for (k = 0; k < 6; k++)
    client_open(k, "load\n");
  idle = client_open(6, NULL);
  RUN_UNTIL(srv.stats.admitted + srv.stats.refused == 6 && srv.stats.accepted == 7 && nheld == 2,
            "6 clients sent a line: admitted %ld, refused %ld", srv.stats.admitted,
            srv.stats.refused);
  EXPECT_ERR("srv_shutdown()", 0, srv_shutdown(&srv));
  EXPECT_EQ("done calls inside srv_shutdown()", 0, done_calls);
  EXPECT_ERR("srv_shutdown() a second time", UV_EALREADY, srv_shutdown(&srv));
  EXPECT_EQ("srv.state after srv_shutdown() (SRV_DRAINING)", SRV_DRAINING, srv.state);
  late = client_open(7, "late\n");
  answer_held(0, 0, "finished in time");
  RUN_UNTIL(idle->eof && (late->err != 0 || late->eof) && starts == 3,
            "after srv_shutdown(): the idle connection closed: %d; a new client refused: %d; "
            "the waiting request started when a permit came back: %d",
            idle->eof, late->err != 0, starts == 3);
  EXPECT_ERR("a client connecting after srv_shutdown()", UV_ECONNREFUSED, late->err);
  RUN_UNTIL(done_calls == 1, "the drain deadline passed and done never ran (held: %zu)", nheld);
  EXPECT_ERR("done's status", 0, done_status);
  EXPECT_EQ("srv.state when done runs (SRV_DONE)", SRV_DONE, state_in_done);
  EXPECT_EQ("cancels (the two running at the drain deadline)", 2, cancels);
  EXPECT_EQ("stats.admitted", 4, srv.stats.admitted);
  EXPECT_EQ("stats.answered", 1, srv.stats.answered);
  EXPECT_EQ("stats.cancelled", 3, srv.stats.cancelled);
  EXPECT_EQ("stats.open", 0, srv.stats.open);
  for (k = 0; k < 6; k++)
    RUN_UNTIL(clients[k].eof, "client %d never saw the server close", k);
  {
    int shut = 0, fine = 0, busy = 0;
    for (k = 0; k < 6; k++) {
      shut += strcmp(clients[k].text, "ERR shutdown\n") == 0;
      fine += strcmp(clients[k].text, "finished in time\n") == 0;
      busy += strcmp(clients[k].text, "BUSY\n") == 0;
    }
    EXPECT_EQ("clients answered \"ERR shutdown\"", 3, shut);
    EXPECT_EQ("clients answered by the handler", 1, fine);
    EXPECT_EQ("clients answered BUSY", 2, busy);
  }
  finish_all();
}

GRADE_TEST(sigterm_shuts_the_server_down, .points = 2, .clauses = "srv.12 srv.13",
           .section = "07-server-side#signals",
           .hint = "With cfg->signals set, srv_start() starts a uv_signal_t for SIGTERM and one "
                   "for SIGINT; either calls srv_shutdown(). Close them as the shutdown "
                   "begins, or done never comes.")
{
  client_t *c;

  config(1, 0);
  cfg.signals = 1;
  start_server();
  c = client_open(0, "work\n");
  RUN_UNTIL(nheld == 1, "the request never reached the handler");
  raise(SIGTERM);
  RUN_UNTIL(srv.state != SRV_RUNNING, "SIGTERM did not begin a shutdown");
  answer_held(0, 0, "answered before exit");
  RUN_UNTIL(done_calls == 1, "after SIGTERM and the last answer, done never ran");
  EXPECT_STREQ("the client's answer", "answered before exit\n", c->text);
  EXPECT_ERR("done's status", 0, done_status);
  finish_all();
}

/* ---- starting ------------------------------------------------------------------------ */

static void never_done(srv_t *s, int status)
{
  (void) s;
  ck_abort_msg("done ran (status %s) for a srv_start() that returned an error",
               grade_err_name(status));
}

static void expect_einval(const char *what, const srv_config_t *c)
{
  static srv_t other;
  int err = srv_start(grade_loop(), &other, c, never_done);

  EXPECT(err == UV_EINVAL, "srv_start() with %s: expected UV_EINVAL, got %s", what,
         grade_err_name(err));
}

GRADE_TEST(bad_configurations_are_refused, .points = 2, .clauses = "srv.1",
           .section = "07-server-side#accepting",
           .hint = "srv_start() checks its arguments before it opens anything: UV_EINVAL, and "
                   "no handle, for each bad setting the header lists. A port in use is the "
                   "error of uv_listen(), with nothing left open.")
{
  static srv_t other;
  srv_config_t bad;
  int err;

  config(1, 0);
  expect_einval("cfg NULL", NULL);
  EXPECT_ERR("srv_start() with done NULL", UV_EINVAL, srv_start(grade_loop(), &other, &cfg, NULL));
  bad = cfg, bad.handler.start = NULL, expect_einval("handler.start NULL", &bad);
  bad = cfg, bad.handler.cancel = NULL, expect_einval("handler.cancel NULL", &bad);
  bad = cfg, bad.max_inflight = 0, expect_einval("max_inflight 0", &bad);
  bad = cfg, bad.max_queued = -1, expect_einval("max_queued -1", &bad);
  bad = cfg, bad.idle_ms = 0, expect_einval("idle_ms 0", &bad);
  bad = cfg, bad.request_ms = 0, expect_einval("request_ms 0", &bad);
  bad = cfg, bad.low_water = bad.high_water, expect_einval("low_water == high_water", &bad);
  start_server();
  bad = cfg, bad.port = srv.port;
  err = srv_start(grade_loop(), &other, &bad, never_done);
  EXPECT_ERR("srv_start() on a port in use", UV_EADDRINUSE, err);
  finish_all();
}

static void on_done_restart(srv_t *s, int status)
{
  on_done(s, status);
  if (done_calls == 1) {
    mode = INSTANT;
    EXPECT_ERR("srv_start() again from inside done", 0, srv_start(grade_loop(), s, &cfg, on_done));
  }
}

GRADE_TEST(starts_over_garbage_and_again_from_done, .points = 2, .clauses = "srv.1 srv.12",
           .section = "07-server-side#shutdown",
           .hint = "srv_start() sets every field but data, whatever the struct held, counters "
                   "included; done may start the server again.")
{
  client_t *c;

  config(1, 0);
  mode = INSTANT;
  memset(&srv, 0xA5, sizeof(srv));
  EXPECT_ERR("srv_start() over garbage", 0, srv_start(grade_loop(), &srv, &cfg, on_done_restart));
  c = client_open(0, "first\n");
  RUN_UNTIL(c->lines == 1, "the first server never answered");
  client_close(c);
  EXPECT_ERR("srv_shutdown()", 0, srv_shutdown(&srv));
  RUN_UNTIL(done_calls == 1 && srv.state == SRV_RUNNING,
            "done did not run, or the server did not start again from it");
  EXPECT_EQ("stats.admitted after starting again", 0, srv.stats.admitted);
  EXPECT_EQ("stats.accepted after starting again", 0, srv.stats.accepted);
  c = client_open(1, "second\n");
  RUN_UNTIL(c->lines == 1, "the server started again never answered");
  EXPECT_STREQ("the answer of the second run", "re:second\n", c->text);
  EXPECT_EQ("stats.admitted in the second run", 1, srv.stats.admitted);
  client_close(c);
  EXPECT_ERR("srv_shutdown() of the second run", 0, srv_shutdown(&srv));
  RUN_UNTIL(done_calls == 2, "the second run's done never ran");
  guard_stop();
  grade_run();
}

/* ---- out of memory ------------------------------------------------------------------- */

static void oom_round(long after)
{
  client_t *c;

  memset(clients, 0, sizeof(clients));
  done_calls = 0;
  done_status = 0;
  config(2, 2);
  mode = INSTANT;
  start_server();
  grade_fail_alloc(after);
  c = client_open(0, "a\nb\nc\n");
  c->half_close = 1;
  RUN_UNTIL(c->eof || c->err != 0 || done_calls == 1,
            "allocations failing after %ld: the client never saw its connection end", after);
  grade_fail_alloc(-1);
  finish_all();
  EXPECT(done_status == 0 || done_status == UV_ENOMEM,
         "allocations failing after %ld: done's status %s", after, grade_err_name(done_status));
  EXPECT((done_status == UV_ENOMEM) == (srv.stats.accepted == 0),
         "allocations failing after %ld: %ld connections accepted and done said %s (UV_ENOMEM "
         "when, and only when, a connection could not be allocated)",
         after, srv.stats.accepted, grade_err_name(done_status));
  EXPECT_EQ("stats.admitted == answered + cancelled", srv.stats.admitted,
            srv.stats.answered + srv.stats.cancelled);
  EXPECT(c->lines + srv.stats.cancelled >= srv.stats.admitted,
         "allocations failing after %ld: %ld requests admitted, %ld answers read, %ld cancelled",
         after, srv.stats.admitted, c->lines, srv.stats.cancelled);
}

GRADE_TEST(out_of_memory_on_every_allocation, .points = 2, .clauses = "srv.12 srv.14",
           .section = "07-server-side#accepting", .timeout = 10,
           .hint = "A connection that cannot be allocated shuts the server down (done gets "
                   "UV_ENOMEM); an answer that cannot be allocated closes its connection and "
                   "counts as cancelled. Check every malloc.")
{
  for (long after = 0; after < 5; after++)
    oom_round(after);
}

/* ---- offloading ---------------------------------------------------------------------- */

static uv_sem_t gate;
static int fn_runs;
static uv_mutex_t fn_lock;
static uv_async_t fn_began; /* wakes the loop: a worker's start is no event of its own */

static int gated_work(const char *line, size_t len, char *out, size_t *out_len)
{
  uv_mutex_lock(&fn_lock);
  fn_runs++;
  uv_mutex_unlock(&fn_lock);
  uv_async_send(&fn_began);
  uv_sem_wait(&gate); /* on the loop thread this would never return */
  *out_len = (size_t) snprintf(out, *out_len, "worked %zu:%s", len, line);
  return 0;
}

static int fn_ran(void)
{
  int n;

  uv_mutex_lock(&fn_lock);
  n = fn_runs;
  uv_mutex_unlock(&fn_lock);
  return n;
}

static void open_gate(uv_timer_t *t)
{
  uv_sem_post(&gate);
  uv_close((uv_handle_t *) t, NULL);
}

GRADE_TEST(blocking_work_runs_on_the_pool_and_cancels_when_queued, .points = 3,
           .clauses = "srv.10 srv.11", .section = "07-server-side#offloading",
           .hint = "srv_work_handler's start hands the request to off_to_thread (lab 04); its "
                   "cancel is off_cancel: a call still queued in the pool never runs, one that "
                   "runs answers when it ends.")
{
  static uv_timer_t opener;
  client_t *a;

  setenv("UV_THREADPOOL_SIZE", "1", 1); /* one worker: the second call waits in the pool */
  uv_sem_init(&gate, 0);
  uv_mutex_init(&fn_lock);
  uv_async_init(grade_loop(), &fn_began, NULL);
  config(2, 0);
  cfg.handler = srv_work_handler(gated_work);
  cfg.drain_ms = 30;
  start_server();
  a = client_open(0, "first\n");
  uv_timer_init(grade_loop(), &opener);
  uv_timer_start(&opener, open_gate, 10, 0);
  RUN_UNTIL(a->lines == 1, "the blocking work of the first request never answered");
  EXPECT_STREQ("the first answer", "worked 5:first\n", a->text);
  client_open(1, "one\n");
  client_open(2, "two\n");
  RUN_UNTIL(srv.stats.admitted == 3 && fn_ran() == 2,
            "two more requests: admitted %ld, blocking calls begun %d (one worker: expected 2)",
            srv.stats.admitted, fn_ran());
  EXPECT_ERR("srv_shutdown()", 0, srv_shutdown(&srv));
  RUN_UNTIL(clients[1].lines + clients[2].lines == 1,
            "the drain deadline passed; the call queued in the pool was never cancelled (%d %ld "
            "%ld %ld %ld)",
            fn_ran(), clients[1].lines, clients[2].lines, srv.stats.answered, srv.stats.cancelled);
  uv_sem_post(&gate);
  RUN_UNTIL(done_calls == 1, "the running call never answered, or done never ran");
  EXPECT_STREQ("answer to the second request", "ERR shutdown\n", clients[1].text);
  EXPECT_STREQ("answer to the third request", "ERR shutdown\n", clients[2].text);
  EXPECT_EQ("blocking calls that ran (the one cancelled in the pool never)", 2, fn_ran());
  uv_close((uv_handle_t *) &fn_began, NULL);
  finish_all();
  uv_sem_destroy(&gate);
  uv_mutex_destroy(&fn_lock);
}

GRADE_LAB("07-server-side", &serves_one_answer_per_line_in_order,
          &a_burst_is_admitted_up_to_the_bounds_and_the_rest_refused,
          &waiting_requests_start_in_arrival_order, &an_answer_is_acted_on_a_later_turn,
          &a_failing_handler_gets_err_failed_and_frees_its_permit, &an_idle_connection_is_closed,
          &a_slow_writer_is_cut_off, &a_request_past_its_deadline_is_cancelled,
          &a_grant_that_arrives_after_the_deadline_starts_nothing,
          &a_reader_that_never_reads_costs_bounded_memory,
          &a_reader_that_resumes_gets_every_answer_in_order,
          &a_shutdown_does_not_wait_for_a_reader_that_never_reads,
          &a_client_that_disconnects_mid_request_costs_nothing,
          &shutdown_mid_load_drains_then_cancels, &sigterm_shuts_the_server_down,
          &bad_configurations_are_refused, &starts_over_garbage_and_again_from_done,
          &out_of_memory_on_every_allocation,
          &blocking_work_runs_on_the_pool_and_cancels_when_queued)
