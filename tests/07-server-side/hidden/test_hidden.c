/* test_hidden.c — lab 07's hidden tests: clauses the public tests reach
 * another way (pipelined refusals, a line too long, a partial line at
 * end-of-file, a shutdown with no connection).
 */
#include "../kit.h"

GRADE_TEST(pipelined_lines_are_refused_in_order, .points = 2, .clauses = "srv.2 srv.3",
           .section = "07-server-side#admission",
           .hint = "Lines that arrive in one read are still handled one at a time: each gets its "
                   "own BUSY while the server is full, in order, and the connection goes on.")
{
  client_t *a, *b;

  config(1, 0);
  start_server();
  a = client_open(0, "hold\n");
  RUN_UNTIL(nheld == 1, "the first request never reached the handler");
  b = client_open(1, "x\ny\nz\n");
  RUN_UNTIL(b->lines == 3, "three lines sent at once to a full server: %ld answers", b->lines);
  EXPECT_STREQ("answers to three lines while full", "BUSY\nBUSY\nBUSY\n", b->text);
  EXPECT_EQ("stats.refused", 3, srv.stats.refused);
  answer_held(0, 0, "held");
  RUN_UNTIL(a->lines == 1, "the held request was never answered");
  client_send(b, "w\n");
  RUN_UNTIL(nheld == 1, "a line after the refusals never reached the handler");
  answer_held(0, 0, "served");
  RUN_UNTIL(b->lines == 4, "the line after the refusals was never answered");
  EXPECT_STREQ("answers", "BUSY\nBUSY\nBUSY\nserved\n", b->text);
  finish_all();
}

GRADE_TEST(a_line_too_long_is_answered_and_closed, .points = 2, .clauses = "srv.9",
           .section = "07-server-side#backpressure",
           .hint = "SRV_LINE_MAX bytes without a '\\n' can never become a request: answer "
                   "\"ERR too long\" and close, rather than wait with a full buffer.")
{
  static char line[SRV_LINE_MAX + 200];
  client_t *c;

  config(1, 0);
  start_server();
  memset(line, 'a', sizeof(line) - 1);
  c = client_open(0, line);
  RUN_UNTIL(c->eof || c->err != 0,
            "a client sent %zu bytes without a newline; the server "
            "never closed",
            sizeof(line) - 1);
  EXPECT_STREQ("what the client read", "ERR too long\n", c->text);
  EXPECT_EQ("stats.cut", 1, srv.stats.cut);
  EXPECT_EQ("stats.admitted", 0, srv.stats.admitted);
  finish_all();
}

GRADE_TEST(a_partial_line_at_end_of_file_is_dropped, .points = 2, .clauses = "srv.2",
           .section = "07-server-side#one-connection",
           .hint = "At end-of-file the complete lines are still answered, in order; the bytes "
                   "of a line that never ended are no request. Then the server closes.")
{
  client_t *c;

  config(1, 1);
  mode = INSTANT;
  start_server();
  c = client_open(0, "one\ntwo\nthr");
  c->half_close = 1;
  RUN_UNTIL(c->eof || c->err != 0, "the client half-closed; the server never closed");
  EXPECT_STREQ("what the client read", "re:one\nre:two\n", c->text);
  EXPECT_EQ("stats.admitted", 2, srv.stats.admitted);
  finish_all();
}

GRADE_TEST(a_shutdown_with_no_connection_reports_later, .points = 2, .clauses = "srv.11 srv.12",
           .section = "07-server-side#shutdown",
           .hint = "done runs once every handle of the server is closed, on a later turn even "
                   "when nothing was open; a second srv_shutdown() is UV_EALREADY.")
{
  config(1, 0);
  cfg.signals = 1;
  start_server();
  EXPECT_ERR("srv_shutdown()", 0, srv_shutdown(&srv));
  EXPECT_EQ("done calls inside srv_shutdown()", 0, done_calls);
  grade_run();
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_ERR("done's status", 0, done_status);
  EXPECT_ERR("srv_shutdown() after done", UV_EALREADY, srv_shutdown(&srv));
}

GRADE_HIDDEN(&pipelined_lines_are_refused_in_order, &a_line_too_long_is_answered_and_closed,
             &a_partial_line_at_end_of_file_is_dropped,
             &a_shutdown_with_no_connection_reports_later);
