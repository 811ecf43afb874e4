/* test_lifecycles.c — graded tests for lab 01 (using block, exit stack,
 * connection and file writer resources).
 *
 * The block and the stack are driven by toy resources (toys.h) whose steps
 * complete on a later turn with scripted outcomes and record their own
 * events in the trace ("enter", "entered", "exit", "exited"), so the order
 * seen is the order things happened, not what the lab says about itself.
 * The real resources run against the helper layer's echo server and a file
 * under a fresh /tmp directory. Nothing here reads a clock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "conn.h"
#include "file.h"
#include "toys.h"

/* ---- The using block ----------------------------------------------------- */

/* $begin test-using-order */
GRADE_TEST(using_runs_each_step_in_order, .points = 3, .clauses = "res.1 res.3 res.4 res.6",
           .section = "01-resource-lifecycles#using-block",
           .hint = "Start enter in res_using(); run the body only from enter's completion, "
                   "exit only from the body's, and final only from exit's completion.")
{
  toy_t t;
  res_using_t u = {0};

  toy_init(&t, 1, 0, LET_THROUGH, 0);
  EXPECT_ERR("res_using()", 0, res_using(&u, &t.res, body, final));
  EXPECT_STREQ("events before the loop ran", "enter:1", grade_trace_str(""));
  grade_run();
  EXPECT_STREQ("events", "enter:1 entered:1 body:0 body-done:0 exit:1 exited:1 final:0",
               grade_trace_str(""));
  EXPECT_ERR("final's status", 0, final_status);
}
/* $end test-using-order */

GRADE_TEST(exit_runs_once_on_success_and_failure, .points = 3, .clauses = "res.4",
           .section = "01-resource-lifecycles#using-block",
           .hint = "Every body outcome, success or error, must go through exactly one "
                   "res_exit(): check the error path of on_body_done.")
{
  toy_t ok, bad;

  toy_init(&ok, 1, 0, LET_THROUGH, 0);
  use(&ok.res, 0);
  EXPECT_EQ("exits after a body that succeeded", 1, ok.exits);
  toy_init(&bad, 2, 0, LET_THROUGH, 0);
  use(&bad.res, UV_ETIMEDOUT);
  EXPECT_EQ("exits after a body that failed", 1, bad.exits);
  EXPECT_EQ("exits of a resource that was not held", 0,
            ap_trace_count(grade_trace(), "exit-not-held"));
}

GRADE_TEST(no_exit_after_failed_enter, .points = 3, .clauses = "res.2 res.4",
           .section = "01-resource-lifecycles#using-block",
           .hint = "When enter reports an error nothing is held: skip the body and exit, and "
                   "report the error to final.")
{
  toy_t t;
  res_using_t u = {0};

  toy_init(&t, 1, UV_ECONNREFUSED, LET_THROUGH, 0);
  EXPECT_ERR("res_using()", 0, res_using(&u, &t.res, never_body, final));
  grade_run();
  EXPECT_STREQ("events", "enter:1 entered:1 final:0", grade_trace_str(""));
  EXPECT_EQ("exits", 0, t.exits);
  EXPECT_ERR("final's status", UV_ECONNREFUSED, final_status);
}

/* One block over a toy whose exit behaves as mode says, with the body
 * reporting body_st: exit must receive body_st, and final what exit said. */
static void expect_outcome(const char *what, int mode, int exit_error, int body_st, int want)
{
  toy_t t;

  toy_init(&t, 1, 0, mode, exit_error);
  use(&t.res, body_st);
  expect_exit_got("the status exit received", body_st, &t);
  EXPECT_ERR(what, want, final_status);
}

GRADE_TEST(body_error_reaches_exit_and_final, .points = 2, .clauses = "res.5",
           .section = "01-resource-lifecycles#errors-through-exit",
           .hint = "Hand the body's status to res_exit(), and report what exit reports "
                   "(here: the same error) to final.")
{
  expect_outcome("final's status", LET_THROUGH, 0, UV_ETIMEDOUT, UV_ETIMEDOUT);
}

GRADE_TEST(exit_can_suppress_the_error, .points = 2, .clauses = "res.5",
           .section = "01-resource-lifecycles#errors-through-exit",
           .hint = "final gets exit's outcome, not the body's status: an exit that reports 0 "
                   "suppresses the error, like __aexit__ returning True.")
{
  expect_outcome("final's status after exit suppressed the error", SUPPRESS, 0, UV_ETIMEDOUT, 0);
}

GRADE_TEST(failed_exit_is_reported, .points = 2, .clauses = "res.5",
           .section = "01-resource-lifecycles#errors-through-exit",
           .hint = "A release can fail too: its error is the block's outcome, and it "
                   "replaces the body's error.")
{
  expect_outcome("final's status (body ok, exit failed)", FAIL, UV_EIO, 0, UV_EIO);
  expect_outcome("final's status (body failed, exit failed)", FAIL, UV_EIO, UV_ETIMEDOUT, UV_EIO);
}

GRADE_TEST(using_rejects_bad_arguments, .points = 1, .clauses = "res.7",
           .section = "01-resource-lifecycles#using-block",
           .hint = "Check every argument (u too) before entering anything; on error return "
                   "UV_EINVAL and never call final.")
{
  toy_t t;
  res_t no_ops = {.loop = grade_loop()};
  res_using_t u = {0};

  toy_init(&t, 1, 0, LET_THROUGH, 0);
  EXPECT_ERR("res_using() without body", UV_EINVAL, res_using(&u, &t.res, NULL, never_final));
  EXPECT_ERR("res_using() without final", UV_EINVAL, res_using(&u, &t.res, body, NULL));
  EXPECT_ERR("res_using() without resource", UV_EINVAL, res_using(&u, NULL, body, never_final));
  EXPECT_ERR("res_using() without a block", UV_EINVAL, res_using(NULL, &t.res, body, never_final));
  EXPECT_ERR("res_using() with a resource without ops", UV_EINVAL,
             res_using(&u, &no_ops, body, never_final));
  grade_run();
  EXPECT_EQ("enters", 0, t.enters);
}

/* A second block, beside the toys.h one: its body and final are its own. */
typedef struct side {
  long id;
  int status; /* what its body reports */
  res_body_cb done;
  res_using_t *u;
  ap_soon_t soon;
  int finals;
  int final_status;
} side_t;

static void side_deliver(ap_soon_t *soon)
{
  side_t *side = AP_CONTAINER_OF(soon, side_t, soon);

  side->done(side->u, side->status);
}

static void side_body(res_using_t *u, res_body_cb done)
{
  side_t *side = u->data;

  side->u = u;
  side->done = done;
  ap_soon(grade_loop(), &side->soon, side_deliver);
}

static void side_final(res_using_t *u, int status)
{
  side_t *side = u->data;

  side->finals++;
  side->final_status = status;
}

GRADE_TEST(blocks_on_two_resources_run_side_by_side, .points = 2, .clauses = "res.8",
           .section = "01-resource-lifecycles#using-block",
           .hint = "Keep a block's state in its res_using_t (body, final) and find it again "
                   "through r->owner: no static variable, two blocks may run at once.")
{
  toy_t a, b;
  side_t side = {.id = 2, .status = UV_ETIMEDOUT};
  res_using_t ua = {0}, ub = {.data = &side};

  toy_init(&a, 1, 0, LET_THROUGH, 0);
  toy_init(&b, 2, 0, LET_THROUGH, 0);
  body_status = 0;
  EXPECT_ERR("res_using() of block #1", 0, res_using(&ua, &a.res, body, final));
  EXPECT_ERR("res_using() of block #2", 0, res_using(&ub, &b.res, side_body, side_final));
  grade_run();
  EXPECT_EQ("bodies run by block #1", 1, bodies);
  EXPECT_EQ("final calls of block #1", 1, finals);
  EXPECT_ERR("final's status of block #1", 0, final_status);
  EXPECT_EQ("final calls of block #2", 1, side.finals);
  grade_hint("Each block's exit receives that block's body status, and its final gets what "
             "its exit reported [res.5].");
  EXPECT_ERR("final's status of block #2", UV_ETIMEDOUT, side.final_status);
  expect_exit_got("the status exit #2 received", UV_ETIMEDOUT, &b);
  grade_hint(NULL);
  EXPECT(a.enters == 1 && a.exits == 1 && b.enters == 1 && b.exits == 1,
         "enters and exits: expected 1 of each per resource, got #1 %d/%d, #2 %d/%d", a.enters,
         a.exits, b.enters, b.exits);
}

/* final frees its block and starts the next one on the same resource. */
static void free_and_again(res_using_t *u, int status)
{
  res_t *r = u->res;
  res_using_t *next;

  final(u, status);
  memset(u, 0xa5, sizeof(*u));
  free(u);
  if (finals > 1)
    return;
  next = malloc(sizeof(*next));
  EXPECT(next != NULL, "malloc");
  memset(next, 0xa5, sizeof(*next));
  next->data = NULL;
  EXPECT_ERR("res_using() from final, on the same resource", 0,
             res_using(next, r, body, free_and_again));
}

GRADE_TEST(final_may_free_the_block_and_start_the_next, .points = 2, .clauses = "res.6 res.8",
           .section = "01-resource-lifecycles#using-block",
           .hint = "Call final last: after it returns, touch neither u nor the resource (final "
                   "may free u, or start a new block on the resource). Set every field of u in "
                   "res_using().")
{
  toy_t t;
  res_using_t *u = malloc(sizeof(*u));

  EXPECT(u != NULL, "malloc");
  memset(u, 0xa5, sizeof(*u));
  u->data = NULL;
  toy_init(&t, 1, 0, LET_THROUGH, 0);
  body_status = 0;
  EXPECT_ERR("res_using()", 0, res_using(u, &t.res, body, free_and_again));
  grade_run();
  EXPECT_STREQ("events of two blocks, the second started from the first one's final",
               "enter:1 entered:1 body:0 body-done:0 exit:1 exited:1 final:0 "
               "enter:1 entered:1 body:0 body-done:0 exit:1 exited:1 final:0",
               grade_trace_str(""));
}

/* ---- The exit stack ------------------------------------------------------ */
enum { MAX_TOYS = 4 };
static toy_t toys[MAX_TOYS];
static res_t *toy_items[MAX_TOYS];
static res_stack_t stack;

/* A stack of n toys with ids 1..n, all succeeding and letting errors through. */
static res_t *toy_stack(size_t n)
{
  for (size_t i = 0; i < n; i++) {
    toy_init(&toys[i], (long) i + 1, 0, LET_THROUGH, 0);
    toy_items[i] = &toys[i].res;
  }
  memset(&stack, 0, sizeof(stack));
  EXPECT_ERR("res_stack_init()", 0, res_stack_init(&stack, grade_loop(), toy_items, n));
  return &stack.res;
}

/* $begin test-stack-reverse */
GRADE_TEST(stack_releases_in_reverse_order, .points = 3, .clauses = "res.9",
           .section = "01-resource-lifecycles#exit-stack",
           .hint = "Acquire items[0], items[1], ... one after the other; release from the "
                   "last one held down to items[0].")
{
  res_t *s = toy_stack(3);

  use(s, 0);
  EXPECT_STREQ("events",
               "enter:1 entered:1 enter:2 entered:2 enter:3 entered:3 body:0 body-done:0 "
               "exit:3 exited:3 exit:2 exited:2 exit:1 exited:1 final:0",
               grade_trace_str(""));
}
/* $end test-stack-reverse */

GRADE_TEST(stack_hands_each_exit_the_outcome_before, .points = 2, .clauses = "res.9",
           .section = "01-resource-lifecycles#exit-stack",
           .hint = "Each release receives the outcome of the release before it (which may "
                   "have suppressed or replaced the error), not the body's status.")
{
  res_t *s = toy_stack(3);

  toys[1].exit_mode = SUPPRESS;
  use(s, UV_ETIMEDOUT);
  expect_exit_got("status received by exit of #3", UV_ETIMEDOUT, &toys[2]);
  expect_exit_got("status received by exit of #2", UV_ETIMEDOUT, &toys[1]);
  expect_exit_got("status received by exit of #1 (after #2 suppressed)", 0, &toys[0]);
  EXPECT_ERR("final's status", 0, final_status);
  s = toy_stack(3);
  toys[2].exit_mode = FAIL;
  toys[2].exit_error = UV_EIO;
  use(s, 0);
  expect_exit_got("status received by exit of #1 (after #3 failed)", UV_EIO, &toys[0]);
  EXPECT_ERR("final's status", UV_EIO, final_status);
}

/* A block over the stack whose enter must fail: never a body. */
static void use_failing(res_t *s)
{
  res_using_t u = {0};
  int before = finals;

  EXPECT_ERR("res_using()", 0, res_using(&u, s, never_body, final));
  grade_run();
  EXPECT_EQ("final calls", 1, finals - before);
}

GRADE_TEST(stack_partial_failure_releases_what_was_acquired, .points = 3, .clauses = "res.10",
           .section = "01-resource-lifecycles#exit-stack",
           .hint = "When items[k] fails to enter, release items[k-1] .. items[0] (with the "
                   "error), never items[k] itself, and enter nothing after it.")
{
  res_t *s = toy_stack(4);

  toys[2].enter_status = UV_ECONNREFUSED;
  use_failing(s);
  EXPECT_STREQ("events",
               "enter:1 entered:1 enter:2 entered:2 enter:3 entered:3 "
               "exit:2 exited:2 exit:1 exited:1 final:0",
               grade_trace_str(""));
  expect_exit_got("status received by exit of #2", UV_ECONNREFUSED, &toys[1]);
  EXPECT_ERR("final's status", UV_ECONNREFUSED, final_status);
}

GRADE_TEST(stack_unwinds_a_failure_in_first_or_last_place, .points = 2, .clauses = "res.10",
           .section = "01-resource-lifecycles#exit-stack",
           .hint = "k may be 0: then nothing is held and nothing is released (mind an unsigned "
                   "held - 1). When the last item fails, release all the others.")
{
  res_t *s = toy_stack(3);

  toys[0].enter_status = UV_ECONNREFUSED;
  use_failing(s);
  EXPECT_STREQ("events when item #1 of 3 fails to enter", "enter:1 entered:1 final:0",
               grade_trace_str(""));
  EXPECT_ERR("final's status (item #1 failed)", UV_ECONNREFUSED, final_status);
  s = toy_stack(3);
  toys[2].enter_status = UV_EPIPE;
  use_failing(s);
  EXPECT_STREQ("events when item #1, then item #3 of 3, fails to enter",
               "enter:1 entered:1 final:0 "
               "enter:1 entered:1 enter:2 entered:2 enter:3 entered:3 "
               "exit:2 exited:2 exit:1 exited:1 final:0",
               grade_trace_str(""));
  EXPECT_ERR("final's status (item #3 failed)", UV_EPIPE, final_status);
}

GRADE_TEST(stack_failed_enter_is_never_suppressed, .points = 2, .clauses = "res.10",
           .section = "01-resource-lifecycles#exit-stack",
           .hint = "After a failed enter the stack holds nothing: even if a release "
                   "suppressed the error, the stack's enter must still report it. Each release "
                   "still gets the outcome of the one before (0 after a suppression).")
{
  res_t *s = toy_stack(3);

  toys[1].enter_status = UV_ECONNREFUSED;
  toys[0].exit_mode = SUPPRESS;
  use_failing(s);
  EXPECT_EQ("exits of #1", 1, toys[0].exits);
  EXPECT_ERR("final's status", UV_ECONNREFUSED, final_status);
  s = toy_stack(3);
  toys[2].enter_status = UV_ECONNREFUSED;
  toys[1].exit_mode = SUPPRESS;
  use_failing(s);
  expect_exit_got("status received by exit of #1 (after #2 suppressed the error)", 0, &toys[0]);
  EXPECT_ERR("final's status (#3 failed to enter, #2 suppressed)", UV_ECONNREFUSED, final_status);
}

GRADE_TEST(stack_reports_a_release_error_over_a_failed_enter, .points = 1, .clauses = "res.10",
           .section = "01-resource-lifecycles#exit-stack",
           .hint = "While unwinding a failed enter, a release that fails replaces the error as "
                   "it does on exit: report the last release's outcome unless it is 0.")
{
  res_t *s = toy_stack(3);

  toys[2].enter_status = UV_ECONNREFUSED;
  toys[1].exit_mode = FAIL;
  toys[1].exit_error = UV_EIO;
  use_failing(s);
  expect_exit_got("status received by exit of #1 (after #2 failed)", UV_EIO, &toys[0]);
  EXPECT_ERR("final's status", UV_EIO, final_status);
}

GRADE_TEST(stack_runs_its_items_through_res_enter_and_res_exit, .points = 1,
           .clauses = "res.13 res.9", .section = "01-resource-lifecycles#two-steps",
           .hint = "Start an item's steps with res_enter() and res_exit(), never through "
                   "item->ops directly: the wrappers record the item's trace.")
{
  ap_trace_t items;
  char buf[256];
  res_t *s = toy_stack(2);

  ap_trace_init(&items, grade_loop());
  toys[0].res.trace = toys[1].res.trace = &items;
  use(s, 0);
  EXPECT_STREQ("the items' own traces (recorded by res_enter and res_exit)",
               "enter:1 entered:1 enter:2 entered:2 exit:2 exited:2 exit:1 exited:1",
               ap_trace_format(&items, "", buf, sizeof(buf)));
  ap_trace_free(&items);
}

GRADE_TEST(stack_init_rejects_missing_items, .points = 1, .clauses = "res.11 res.9",
           .section = "01-resource-lifecycles#exit-stack",
           .hint = "res_stack_init() returns UV_EINVAL for a NULL stack or items, n == 0, or an "
                   "item that is NULL or has no ops; a valid stack then works as usual.")
{
  res_t no_ops = {.loop = grade_loop()};
  res_t *with_null[2] = {NULL, NULL};
  res_t *without_ops[2] = {NULL, &no_ops};
  res_stack_t s;
  res_t *good = toy_stack(2);

  with_null[0] = without_ops[0] = &toys[0].res;
  EXPECT_ERR("res_stack_init() without a stack", UV_EINVAL,
             res_stack_init(NULL, grade_loop(), toy_items, 2));
  EXPECT_ERR("res_stack_init() without items", UV_EINVAL,
             res_stack_init(&s, grade_loop(), NULL, 2));
  EXPECT_ERR("res_stack_init() of 0 items", UV_EINVAL,
             res_stack_init(&s, grade_loop(), toy_items, 0));
  EXPECT_ERR("res_stack_init() with a NULL item", UV_EINVAL,
             res_stack_init(&s, grade_loop(), with_null, 2));
  EXPECT_ERR("res_stack_init() with an item without ops", UV_EINVAL,
             res_stack_init(&s, grade_loop(), without_ops, 2));
  use(good, 0);
  EXPECT_EQ("exits of the valid stack's items", 2, toys[0].exits + toys[1].exits);
}

GRADE_TEST(stack_used_again_after_a_failed_enter_starts_clean, .points = 2, .clauses = "res.12",
           .section = "01-resource-lifecycles#exit-stack",
           .hint = "Each enter of a stack starts from nothing held and no error: an error kept "
                   "from the last use must not reach the next one.")
{
  res_t *s = toy_stack(3);

  toys[1].enter_status = UV_ECONNREFUSED;
  use_failing(s);
  EXPECT_ERR("final's status of the first use", UV_ECONNREFUSED, final_status);
  toys[1].enter_status = 0;
  use(s, 0);
  EXPECT_ERR("final's status of the second use (every item entered)", 0, final_status);
  EXPECT(toys[0].exits == 2 && toys[1].exits == 1 && toys[2].exits == 1,
         "exits after both uses: expected 2 1 1, got %d %d %d", toys[0].exits, toys[1].exits,
         toys[2].exits);
}

/* ---- The connection ------------------------------------------------------ */
static ap_server_t server;
static res_conn_t conn;
static char reply[5];
static uv_tcp_t *conn_tcp;   /* the handle seen while held */
static int conn_handle_left; /* was that handle still in the loop at final? */

static void find_handle(uv_handle_t *h, void *arg)
{
  if (h == arg)
    conn_handle_left = 1;
}

/* Checks the connection's handle is gone when final runs. */
static void conn_gone(res_using_t *u, int status)
{
  final(u, status);
  if (conn_tcp != NULL)
    uv_walk(grade_loop(), find_handle, conn_tcp);
  if (conn_tcp != NULL && ap_trace_count(grade_trace(), "exit") == 0) {
    grade_hint("exit runs exactly once after the body's done, whatever the body reported "
               "[res.4]: follow the path from the body's report to res_exit().");
    EXPECT(0, "when final ran, exit had never run: nothing closed the connection");
  }
  grade_hint("exit's report is the block's last step [conn.4]: close the handle, free it and "
             "set conn->tcp to NULL in the close callback, then report from there.");
  EXPECT(conn.tcp == NULL, "when final ran, conn->tcp was not NULL (exit must free the "
                           "handle in its close callback and forget it)");
  grade_hint(NULL);
}

/* The last block's final: stops the server too. */
static void conn_final(res_using_t *u, int status)
{
  conn_gone(u, status);
  ap_server_stop(&server, NULL);
}

static void conn_echoed(res_conn_t *c, int status)
{
  (void) c;
  body_cb(body_block, status);
}

static void echo_body(res_using_t *u, res_body_cb done)
{
  body_cb = done;
  body_block = u;
  conn_tcp = conn.tcp;
  EXPECT(conn_tcp != NULL, "in the body, conn->tcp was NULL");
  EXPECT_ERR("res_conn_echo()", 0, res_conn_echo(&conn, "ping", reply, 4, conn_echoed));
}

static void conn_setup(void)
{
  server = (ap_server_t){0};
  EXPECT_ERR("ap_server_start()", 0, ap_server_start(grade_loop(), &server));
  conn = (res_conn_t){.res = {.id = 1, .trace = grade_trace()}};
  res_conn_init(&conn, grade_loop(), server.port);
}

GRADE_TEST(conn_echo_round_trip, .points = 3, .clauses = "conn.2 conn.4 conn.6 conn.8",
           .section = "01-resource-lifecycles#tcp-connection",
           .hint = "Held means one connected handle of the connection's own [conn.2]; exit "
                   "reports only once that handle is closed and freed [conn.4]. The expected "
                   "trace says which step is missing or early [conn.8].")
{
  res_using_t u = {0};

  conn_setup();
  EXPECT_ERR("res_using()", 0, res_using(&u, &conn.res, echo_body, conn_final));
  grade_run();
  EXPECT_EQ("final calls", 1, finals);
  EXPECT_ERR("final's status", 0, final_status);
  EXPECT(memcmp(reply, "ping", 4) == 0, "the echo was \"%.4s\", expected \"ping\"", reply);
  EXPECT_EQ("connections the server accepted", 1, server.accepted);
  EXPECT_EQ("the connection's handle still in the loop when final ran", 0, conn_handle_left);
  EXPECT_STREQ("events", "enter:1 tcp-open:1 entered:1 exit:1 tcp-closed:1 exited:1 final:0",
               grade_trace_str(""));
}

static void failing_body(res_using_t *u, res_body_cb done)
{
  conn_tcp = conn.tcp;
  body_status = UV_ETIMEDOUT;
  body_later(u, done);
}

GRADE_TEST(conn_body_error_still_closes, .points = 2, .clauses = "conn.4 res.4",
           .section = "01-resource-lifecycles#common-bugs",
           .hint = "A body that fails must still lead to exit: the connection is closed on "
                   "the error path too, and the error reaches final.")
{
  res_using_t u = {0};

  conn_setup();
  EXPECT_ERR("res_using()", 0, res_using(&u, &conn.res, failing_body, conn_final));
  grade_run();
  EXPECT_EQ("final calls", 1, finals);
  EXPECT_ERR("final's status", UV_ETIMEDOUT, final_status);
  EXPECT_EQ("the connection's handle still in the loop when final ran", 0, conn_handle_left);
}

/* $begin test-conn-refused */
static void stopped_then_use(ap_server_t *stopped)
{
  static res_using_t u;

  /* Nothing listens on this port any more. */
  res_conn_init(&conn, grade_loop(), stopped->port);
  EXPECT_ERR("res_using()", 0, res_using(&u, &conn.res, never_body, final));
}

GRADE_TEST(conn_refused_after_server_stopped, .points = 3, .clauses = "conn.3 res.2",
           .section = "01-resource-lifecycles#tcp-connection",
           .hint = "A refused connect fails half-way: the handle exists. Close it, free it in "
                   "the close callback, then report the error; no exit step follows.")
{
  conn_setup();
  ap_server_stop(&server, stopped_then_use);
  grade_run();
  EXPECT_EQ("final calls", 1, finals);
  EXPECT_ERR("final's status", UV_ECONNREFUSED, final_status);
  EXPECT(conn.tcp == NULL, "after a refused connect, conn->tcp must be freed and NULL");
  EXPECT_EQ("exit steps", 0, ap_trace_count(grade_trace(), "exit"));
}
/* $end test-conn-refused */

GRADE_TEST(conn_out_of_memory_reports_on_a_later_turn, .points = 2, .clauses = "conn.3 res.1",
           .section = "01-resource-lifecycles#tcp-connection",
           .hint = "Check the handle's allocation; when it fails, report UV_ENOMEM with "
                   "res_report_later(), never by calling done inside the enter step.")
{
  res_using_t u = {0};

  conn_setup();
  grade_fail_alloc(0);
  EXPECT_ERR("res_using() when memory runs out", 0,
             res_using(&u, &conn.res, never_body, conn_final));
  grade_fail_alloc(-1);
  EXPECT_EQ("final calls inside res_using() (the enter step reported inside the call)", 0, finals);
  grade_run();
  EXPECT_EQ("final calls", 1, finals);
  EXPECT_ERR("final's status", UV_ENOMEM, final_status);
  EXPECT_EQ("exit steps", 0, ap_trace_count(grade_trace(), "exit"));
}

/* The lowest descriptor number not in use: the next one the process makes. */
static int lowest_free_fd(void)
{
  int fd = open("/dev/null", O_RDONLY);

  EXPECT(fd >= 0, "open /dev/null: %s", strerror(errno));
  close(fd);
  return fd;
}

GRADE_TEST(conn_connect_error_at_once_is_reported_later, .points = 1, .clauses = "conn.3 res.1",
           .section = "01-resource-lifecycles#tcp-connection",
           .hint = "uv_tcp_connect() can fail at once (here: no descriptor left for the socket, "
                   "UV_EMFILE): then on_connected never runs, so close the handle and report "
                   "the error from the close callback yourself.")
{
  res_using_t u = {0};
  struct rlimit was, none;

  conn_setup();
  ap_server_stop(&server, NULL); /* the connect never gets that far */
  EXPECT(getrlimit(RLIMIT_NOFILE, &was) == 0, "getrlimit: %s", strerror(errno));
  none = was;
  none.rlim_cur = (rlim_t) lowest_free_fd(); /* the socket is the next descriptor */
  EXPECT(setrlimit(RLIMIT_NOFILE, &none) == 0, "setrlimit: %s", strerror(errno));
  EXPECT_ERR("res_using() with no descriptor left", 0,
             res_using(&u, &conn.res, never_body, conn_gone));
  EXPECT(setrlimit(RLIMIT_NOFILE, &was) == 0, "setrlimit: %s", strerror(errno));
  EXPECT_EQ("final calls inside res_using()", 0, finals);
  grade_run();
  EXPECT_EQ("final calls", 1, finals);
  EXPECT_ERR("final's status", UV_EMFILE, final_status);
  EXPECT_EQ("exit steps", 0, ap_trace_count(grade_trace(), "exit"));
  EXPECT_STREQ("events", "enter:1 tcp-open:1 tcp-closed:1 entered:1 final:0", grade_trace_str(""));
}

/* Two blocks on one connection: the second starts from the first's final. */
static void conn_again(res_using_t *u, int status)
{
  if (finals > 0) {
    conn_final(u, status);
    return;
  }
  conn_gone(u, status);
  memset(reply, 0, sizeof(reply));
  EXPECT_ERR("res_using() from final, on the same connection", 0,
             res_using(u, &conn.res, echo_body, conn_again));
}

GRADE_TEST(conn_used_again_from_final, .points = 2, .clauses = "conn.5 res.6",
           .section = "01-resource-lifecycles#close-protocol",
           .hint = "Free the handle and set conn->tcp to NULL before reporting from the close "
                   "callback: final may connect again at once, and touch nothing after done.")
{
  res_using_t u = {0};

  conn_setup();
  EXPECT_ERR("res_using()", 0, res_using(&u, &conn.res, echo_body, conn_again));
  grade_run();
  EXPECT_EQ("final calls", 2, finals);
  EXPECT_ERR("final's status of the second block", 0, final_status);
  EXPECT(memcmp(reply, "ping", 4) == 0, "the second echo was \"%.4s\", expected \"ping\"", reply);
  EXPECT_EQ("connections the server accepted", 2, server.accepted);
  EXPECT_EQ("\"tcp-closed\" events", 2, ap_trace_count(grade_trace(), "tcp-closed"));
}

static void never_echoed(res_conn_t *c, int status)
{
  (void) c;
  ck_abort_msg("an echo callback ran (status %s) although res_conn_echo() returned an error",
               grade_err_name(status));
}

/* Tries the echo's errors while held, then echoes once. */
static void busy_body(res_using_t *u, res_body_cb done)
{
  body_cb = done;
  body_block = u;
  EXPECT_ERR("res_conn_echo() of 0 bytes", UV_EINVAL,
             res_conn_echo(&conn, "ping", reply, 0, never_echoed));
  EXPECT_ERR("res_conn_echo() without a callback", UV_EINVAL,
             res_conn_echo(&conn, "ping", reply, 4, NULL));
  EXPECT_ERR("res_conn_echo()", 0, res_conn_echo(&conn, "ping", reply, 4, conn_echoed));
  EXPECT_ERR("res_conn_echo() while an echo runs", UV_EBUSY,
             res_conn_echo(&conn, "pong", reply, 4, never_echoed));
}

static void echo_after_final(res_using_t *u, int status)
{
  conn_final(u, status);
  EXPECT_ERR("res_conn_echo() after the block's final", UV_EINVAL,
             res_conn_echo(&conn, "ping", reply, 4, never_echoed));
}

GRADE_TEST(conn_echo_refused_unless_held_and_idle, .points = 1, .clauses = "conn.7 conn.2",
           .section = "01-resource-lifecycles#tcp-connection",
           .hint = "res_conn_echo() needs a held connection (conn->tcp set only between "
                   "enter and exit) and no echo running; otherwise it returns an error and "
                   "never calls back.")
{
  res_using_t u = {0};

  conn_setup();
  EXPECT_ERR("res_conn_echo() before enter", UV_EINVAL,
             res_conn_echo(&conn, "ping", reply, 4, never_echoed));
  EXPECT_ERR("res_using()", 0, res_using(&u, &conn.res, busy_body, echo_after_final));
  grade_run();
  EXPECT_EQ("final calls", 1, finals);
  EXPECT_ERR("final's status", 0, final_status);
  EXPECT(memcmp(reply, "ping", 4) == 0, "the echo was \"%.4s\", expected \"ping\"", reply);
}

/* ---- The file writer ----------------------------------------------------- */
static res_file_t file;
static uv_file file_fd;    /* the descriptor seen while held */
static char file_seen[64]; /* the file's contents when final ran */
static int fd_open_at_final;

static void file_final(res_using_t *u, int status)
{
  int fd;
  ssize_t n = -1;

  final(u, status);
  fd_open_at_final = file_fd >= 0 && fcntl(file_fd, F_GETFD) != -1;
  fd = open(file.path, O_RDONLY);
  if (fd >= 0) {
    n = read(fd, file_seen, sizeof(file_seen) - 1);
    close(fd);
  }
  file_seen[n > 0 ? n : 0] = '\0';
}

/* Writes "hello, world\n" in two parts, then reports body_status. */
static void file_body(res_using_t *u, res_body_cb done)
{
  file_fd = file.fd;
  EXPECT(file_fd >= 0, "in the body, file->fd was %d", (int) file_fd);
  EXPECT_ERR("res_file_write()", 0, res_file_write(&file, "hello, ", 7));
  EXPECT_ERR("res_file_write()", 0, res_file_write(&file, "world\n", 6));
  body_later(u, done);
}

/* Runs `blocks` using blocks of the file (fin starts each one after the first). */
static void use_file_with(const char *path, res_body_fn fn, res_final_cb fin, int blocks)
{
  res_using_t u = {0};

  file = (res_file_t){.res = {.id = 1, .trace = grade_trace()}};
  file_fd = -1;
  res_file_init(&file, grade_loop(), path);
  EXPECT_ERR("res_using()", 0, res_using(&u, &file.res, fn, fin));
  grade_run();
  EXPECT_EQ("final calls", blocks, finals);
}

static void use_file(const char *path, res_body_fn fn)
{
  use_file_with(path, fn, file_final, 1);
}

/* A fresh file path under a new /tmp directory; tmp_done removes both. */
static char tmp_dir[32];
static char tmp_path[64];

static const char *tmp_file(void)
{
  snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/ap-01-test-XXXXXX");
  EXPECT(mkdtemp(tmp_dir) != NULL, "mkdtemp: %s", strerror(errno));
  snprintf(tmp_path, sizeof(tmp_path), "%s/out.txt", tmp_dir);
  return tmp_path;
}

static void tmp_done(void)
{
  unlink(tmp_path);
  rmdir(tmp_dir);
}

GRADE_TEST(file_bytes_on_disk_at_final, .points = 3, .clauses = "file.2 file.4 file.7",
           .section = "01-resource-lifecycles#file-writer",
           .hint = "exit writes the buffer, fsyncs, closes, and reports only from close's "
                   "callback: when final runs, the bytes are in the file and fd is closed.")
{
  body_status = 0;
  use_file(tmp_file(), file_body);
  tmp_done();
  EXPECT_ERR("final's status", 0, final_status);
  EXPECT_STREQ("the file's contents when final ran", "hello, world\n", file_seen);
  EXPECT_EQ("descriptor still open when final ran", 0, fd_open_at_final);
  EXPECT_EQ("file->fd after exit", -1, file.fd);
  EXPECT_STREQ("events",
               "enter:1 entered:1 body-done:0 exit:1 fsync:1 fd-closed:1 exited:1 final:0",
               grade_trace_str(""));
}

GRADE_TEST(file_closed_even_when_fsync_fails, .points = 2, .clauses = "file.5",
           .section = "01-resource-lifecycles#file-writer",
           .hint = "fsync on /dev/null fails with UV_EINVAL: report that error, but close "
                   "the descriptor first, as on every other path.")
{
  body_status = 0;
  use_file("/dev/null", file_body);
  EXPECT_ERR("final's status", UV_EINVAL, final_status);
  EXPECT_EQ("descriptor still open when final ran", 0, fd_open_at_final);
}

GRADE_TEST(file_failing_body_still_flushes_and_closes, .points = 2,
           .clauses = "file.4 file.5 res.4", .section = "01-resource-lifecycles#file-writer",
           .hint = "Flush the buffer even when the body failed (what it wrote is kept), close, "
                   "then report the body's error: exit lets it through.")
{
  body_status = UV_ETIMEDOUT;
  use_file(tmp_file(), file_body);
  tmp_done();
  EXPECT_ERR("final's status after a failed body", UV_ETIMEDOUT, final_status);
  EXPECT_STREQ("the file's contents when final ran", "hello, world\n", file_seen);
  EXPECT_EQ("descriptor still open when final ran", 0, fd_open_at_final);
}

GRADE_TEST(file_release_error_replaces_a_body_error, .points = 1, .clauses = "file.5",
           .section = "01-resource-lifecycles#errors-through-exit",
           .hint = "A release error (fsync on /dev/null: UV_EINVAL) replaces the body's error, "
                   "as an exception raised in __aexit__ replaces the one in flight.")
{
  body_status = UV_ETIMEDOUT;
  use_file("/dev/null", file_body);
  EXPECT_ERR("final's status (body failed, fsync failed)", UV_EINVAL, final_status);
  EXPECT_EQ("descriptor still open when final ran", 0, fd_open_at_final);
}

static void write_after_final(res_using_t *u, int status)
{
  file_final(u, status);
  EXPECT_ERR("res_file_write() after the block's final", UV_EBADF,
             res_file_write(&file, "late\n", 5));
}

GRADE_TEST(file_write_refused_unless_held, .points = 1, .clauses = "file.3",
           .section = "01-resource-lifecycles#file-writer",
           .hint = "res_file_write() works only between enter and exit: before the open and "
                   "once exit closed the file (file->fd == -1) it returns UV_EBADF.")
{
  res_file_t early = {0};

  res_file_init(&early, grade_loop(), "/nonexistent-ap-01/out.txt");
  EXPECT_ERR("res_file_write() before enter", UV_EBADF, res_file_write(&early, "early\n", 6));
  body_status = 0;
  use_file_with(tmp_file(), file_body, write_after_final, 1);
  tmp_done();
  EXPECT_ERR("final's status", 0, final_status);
  EXPECT_STREQ("the file's contents when final ran", "hello, world\n", file_seen);
}

GRADE_TEST(file_open_failure_skips_body_and_exit, .points = 1, .clauses = "file.2 res.2",
           .section = "01-resource-lifecycles#file-writer",
           .hint = "If uv_fs_open fails there is no descriptor: report the error from "
                   "on_opened, and no body or exit may run.")
{
  use_file("/nonexistent-ap-01/out.txt", never_body);
  EXPECT_ERR("final's status", UV_ENOENT, final_status);
  EXPECT_EQ("exit steps", 0, ap_trace_count(grade_trace(), "exit"));
  EXPECT_EQ("file->fd after the failed open (no descriptor)", -1, file.fd);
}

GRADE_TEST(file_descriptor_zero_is_a_descriptor, .points = 1, .clauses = "file.2 file.4",
           .section = "01-resource-lifecycles#file-writer",
           .hint = "The open's result is a descriptor whenever it is not negative: 0 is one (a "
                   "process may close its standard input). Only a result < 0 is an error.")
{
  close(0); /* the open gets the lowest free descriptor: 0 */
  body_status = 0;
  use_file(tmp_file(), file_body);
  tmp_done();
  EXPECT_EQ("the descriptor in the body (standard input was closed)", 0, file_fd);
  EXPECT_ERR("final's status", 0, final_status);
  EXPECT_STREQ("the file's contents when final ran", "hello, world\n", file_seen);
  EXPECT_EQ("descriptor still open when final ran", 0, fd_open_at_final);
}

/* One worker in the pool, held by a job until the loop's next turn: a file
 * operation queued before then runs only after that turn. */
static uv_sem_t gate;
static uv_sem_t gate_running; /* posted when the job holds the worker */
static uv_work_t gate_job;
static ap_soon_t gate_soon;

static void gate_wait(uv_work_t *req)
{
  (void) req;
  uv_sem_post(&gate_running);
  uv_sem_wait(&gate);
}

/* Before any file operation: the pool reads its size once (the grader forks
 * each test from a parent that never used it). */
static void gate_init(void)
{
  EXPECT(setenv("UV_THREADPOOL_SIZE", "1", 1) == 0, "setenv failed");
  uv_sem_init(&gate, 0);
  uv_sem_init(&gate_running, 0);
}

static void gate_free(void)
{
  uv_sem_destroy(&gate);
  uv_sem_destroy(&gate_running);
}

static void gate_done(uv_work_t *req, int status)
{
  (void) req, (void) status;
}

static void gate_open(ap_soon_t *soon)
{
  (void) soon;
  uv_sem_post(&gate);
}

/* The first block's final holds the pool and starts the second block. */
static void file_again(res_using_t *u, int status)
{
  file_final(u, status);
  if (finals > 1)
    return;
  EXPECT_ERR("uv_queue_work()", 0, uv_queue_work(grade_loop(), &gate_job, gate_wait, gate_done));
  ap_soon(grade_loop(), &gate_soon, gate_open);
  EXPECT_ERR("res_using() from final, on the same file", 0,
             res_using(u, &file.res, file_body, file_again));
}

/* Ends the body with nothing written, so exit queues fsync at once; then
 * holds the pool's one worker right behind the fsync and, once fsync has
 * run, closes the descriptor behind the lab's back: its close must fail. */
static void body_done_then_fd_lost(ap_soon_t *soon)
{
  (void) soon;
  body_cb(body_block, 0);
  EXPECT_ERR("uv_queue_work()", 0, uv_queue_work(grade_loop(), &gate_job, gate_wait, gate_done));
  uv_sem_wait(&gate_running); /* the one worker is past the fsync */
  close(file_fd);
  uv_sem_post(&gate);
}

static void empty_body(res_using_t *u, res_body_cb done)
{
  file_fd = file.fd;
  body_cb = done;
  body_block = u;
  ap_soon(grade_loop(), &gate_soon, body_done_then_fd_lost);
}

GRADE_TEST(file_close_error_is_reported, .points = 1, .clauses = "file.5 file.7",
           .section = "01-resource-lifecycles#file-writer",
           .hint = "Closing can fail too (here the descriptor was closed behind the lab's back: "
                   "UV_EBADF): keep the close's error, when it is the first, and report it.")
{
  gate_init();
  use_file(tmp_file(), empty_body);
  tmp_done();
  gate_free();
  EXPECT_ERR("final's status (fsync worked, close failed)", UV_EBADF, final_status);
  EXPECT_STREQ("events", "enter:1 entered:1 exit:1 fsync:1 fd-closed:1 exited:1 final:0",
               grade_trace_str(""));
}

GRADE_TEST(file_used_again_from_final, .points = 1, .clauses = "file.6 res.6",
           .section = "01-resource-lifecycles#close-protocol",
           .hint = "Report last: final may start the next block at once, whose enter reuses the "
                   "request. Clean the request up before calling done, never after.")
{
  gate_init();
  body_status = 0;
  use_file_with(tmp_file(), file_body, file_again, 2);
  tmp_done();
  gate_free();
  EXPECT_ERR("final's status of the second block", 0, final_status);
  EXPECT_STREQ("the file's contents when the second final ran", "hello, world\n", file_seen);
  EXPECT_EQ("descriptor still open when final ran", 0, fd_open_at_final);
}

GRADE_LAB("01-resource-lifecycles", &using_runs_each_step_in_order,
          &exit_runs_once_on_success_and_failure, &no_exit_after_failed_enter,
          &body_error_reaches_exit_and_final, &exit_can_suppress_the_error,
          &failed_exit_is_reported, &using_rejects_bad_arguments,
          &blocks_on_two_resources_run_side_by_side, &final_may_free_the_block_and_start_the_next,
          &stack_releases_in_reverse_order, &stack_hands_each_exit_the_outcome_before,
          &stack_partial_failure_releases_what_was_acquired,
          &stack_unwinds_a_failure_in_first_or_last_place, &stack_failed_enter_is_never_suppressed,
          &stack_reports_a_release_error_over_a_failed_enter,
          &stack_runs_its_items_through_res_enter_and_res_exit, &stack_init_rejects_missing_items,
          &stack_used_again_after_a_failed_enter_starts_clean, &conn_echo_round_trip,
          &conn_body_error_still_closes, &conn_refused_after_server_stopped,
          &conn_out_of_memory_reports_on_a_later_turn,
          &conn_connect_error_at_once_is_reported_later, &conn_used_again_from_final,
          &conn_echo_refused_unless_held_and_idle, &file_bytes_on_disk_at_final,
          &file_closed_even_when_fsync_fails, &file_failing_body_still_flushes_and_closes,
          &file_release_error_replaces_a_body_error, &file_write_refused_unless_held,
          &file_open_failure_skips_body_and_exit, &file_descriptor_zero_is_a_descriptor,
          &file_close_error_is_reported, &file_used_again_from_final)
