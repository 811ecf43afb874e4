/* test_lifecycles.c — graded tests for lab 01 (using block, exit stack,
 * connection and file writer resources).
 *
 * The block and the stack are driven by toy resources whose steps complete
 * on a later turn with scripted outcomes and record their own events in the
 * trace ("enter", "entered", "exit", "exited"), so the order seen is the
 * order things happened, not what the lab says about itself. The real
 * resources run against the helper layer's echo server and a file under a
 * fresh /tmp directory. Nothing here reads a clock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "conn.h"
#include "file.h"
#include "grade.h"

/* ---- A toy resource ------------------------------------------------------- */
enum { LET_THROUGH, SUPPRESS, FAIL };

typedef struct toy {
  res_t res;
  int enter_status; /* what enter reports */
  int exit_mode;    /* LET_THROUGH, SUPPRESS, or FAIL with exit_error */
  int exit_error;
  int held;
  int enters;
  int exits;
  int exit_got; /* the status the last exit received */
  int result;   /* what the step in progress will report */
  int entering;
  res_cb done;
  ap_soon_t soon;
} toy_t;

static void toy_deliver(ap_soon_t *soon)
{
  toy_t *t = AP_CONTAINER_OF(soon, toy_t, soon);

  if (t->entering) {
    t->held = t->result == 0;
    ap_trace_add(grade_trace(), "entered", t->res.id, t->result);
  } else {
    t->held = 0;
    ap_trace_add(grade_trace(), "exited", t->res.id, t->result);
  }
  t->done(&t->res, t->result);
}

static void toy_enter(res_t *r, res_cb done)
{
  toy_t *t = AP_CONTAINER_OF(r, toy_t, res);

  ap_trace_add(grade_trace(), "enter", r->id, 0);
  t->enters++;
  t->entering = 1;
  t->result = t->enter_status;
  t->done = done;
  ap_soon(r->loop, &t->soon, toy_deliver);
}

static void toy_exit(res_t *r, int status, res_cb done)
{
  toy_t *t = AP_CONTAINER_OF(r, toy_t, res);

  ap_trace_add(grade_trace(), t->held ? "exit" : "exit-not-held", r->id, status);
  t->exits++;
  t->exit_got = status;
  t->entering = 0;
  t->result = t->exit_mode == LET_THROUGH ? status : t->exit_mode == SUPPRESS ? 0 : t->exit_error;
  t->done = done;
  ap_soon(r->loop, &t->soon, toy_deliver);
}

static const res_ops_t toy_ops = {.enter = toy_enter, .exit = toy_exit};

static void toy_init(toy_t *t, long id, int enter_status, int exit_mode, int exit_error)
{
  *t = (toy_t){.res = {.ops = &toy_ops, .loop = grade_loop(), .id = id},
               .enter_status = enter_status,
               .exit_mode = exit_mode,
               .exit_error = exit_error};
}

/* ---- A body that reports body_status on a later turn, and final ---------- */
static int body_status;
static int bodies;
static int finals;
static int final_status;
static res_body_cb body_cb;
static res_using_t *body_block;
static ap_soon_t body_soon;

static void body_deliver(ap_soon_t *soon)
{
  (void) soon;
  ap_trace_add(grade_trace(), "body-done", 0, body_status);
  body_cb(body_block, body_status);
}

static void body(res_using_t *u, res_body_cb done)
{
  ap_trace_add(grade_trace(), "body", 0, 0);
  bodies++;
  body_cb = done;
  body_block = u;
  ap_soon(grade_loop(), &body_soon, body_deliver);
}

static void final(res_using_t *u, int status)
{
  (void) u;
  ap_trace_add(grade_trace(), "final", 0, status);
  finals++;
  final_status = status;
}

static void never_body(res_using_t *u, res_body_cb done)
{
  (void) u, (void) done;
  ck_abort_msg("the body ran, although the resource was never acquired");
}

static void never_final(res_using_t *u, int status)
{
  (void) u;
  ck_abort_msg("final ran (status %s) although res_using() returned an error",
               grade_err_name(status));
}

/* Runs one using block over r with the body reporting status. */
static void use(res_t *r, int status)
{
  res_using_t u = {0};

  body_status = status;
  EXPECT_ERR("res_using()", 0, res_using(&u, r, body, final));
  grade_run();
  EXPECT_EQ("final calls", 1, finals);
}

/* ---- The using block ----------------------------------------------------- */

/* $begin test-using-order */
GRADE_TEST(using_runs_each_step_in_order, .points = 3,
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

GRADE_TEST(exit_runs_once_on_success_and_failure, .points = 3,
           .section = "01-resource-lifecycles#using-block",
           .hint = "Every body outcome, success or error, must go through exactly one "
                   "res_exit(): check the error path of on_body_done.")
{
  toy_t ok, bad;

  toy_init(&ok, 1, 0, LET_THROUGH, 0);
  use(&ok.res, 0);
  EXPECT_EQ("exits after a body that succeeded", 1, ok.exits);
  finals = 0;
  toy_init(&bad, 2, 0, LET_THROUGH, 0);
  use(&bad.res, UV_ETIMEDOUT);
  EXPECT_EQ("exits after a body that failed", 1, bad.exits);
  EXPECT_EQ("exits of a resource that was not held", 0,
            ap_trace_count(grade_trace(), "exit-not-held"));
}

GRADE_TEST(no_exit_after_failed_enter, .points = 3, .section = "01-resource-lifecycles#using-block",
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

  finals = 0;
  toy_init(&t, 1, 0, mode, exit_error);
  use(&t.res, body_st);
  EXPECT_ERR("the status exit received", body_st, t.exit_got);
  EXPECT_ERR(what, want, final_status);
}

GRADE_TEST(body_error_reaches_exit_and_final, .points = 2,
           .section = "01-resource-lifecycles#errors-through-exit",
           .hint = "Hand the body's status to res_exit(), and report what exit reports "
                   "(here: the same error) to final.")
{
  expect_outcome("final's status", LET_THROUGH, 0, UV_ETIMEDOUT, UV_ETIMEDOUT);
}

GRADE_TEST(exit_can_suppress_the_error, .points = 2,
           .section = "01-resource-lifecycles#errors-through-exit",
           .hint = "final gets exit's outcome, not the body's status: an exit that reports 0 "
                   "suppresses the error, like __aexit__ returning True.")
{
  expect_outcome("final's status after exit suppressed the error", SUPPRESS, 0, UV_ETIMEDOUT, 0);
}

GRADE_TEST(failed_exit_is_reported, .points = 2,
           .section = "01-resource-lifecycles#errors-through-exit",
           .hint = "A release can fail too: its error is the block's outcome, and it "
                   "replaces the body's error.")
{
  expect_outcome("final's status (body ok, exit failed)", FAIL, UV_EIO, 0, UV_EIO);
  expect_outcome("final's status (body failed, exit failed)", FAIL, UV_EIO, UV_ETIMEDOUT, UV_EIO);
}

GRADE_TEST(using_rejects_bad_arguments, .points = 1,
           .section = "01-resource-lifecycles#using-block",
           .hint = "Check every argument before entering anything; on error return UV_EINVAL "
                   "and never call final.")
{
  toy_t t;
  res_t no_ops = {.loop = grade_loop()};
  res_using_t u = {0};

  toy_init(&t, 1, 0, LET_THROUGH, 0);
  EXPECT_ERR("res_using() without body", UV_EINVAL, res_using(&u, &t.res, NULL, never_final));
  EXPECT_ERR("res_using() without final", UV_EINVAL, res_using(&u, &t.res, body, NULL));
  EXPECT_ERR("res_using() without resource", UV_EINVAL, res_using(&u, NULL, body, never_final));
  EXPECT_ERR("res_using() with a resource without ops", UV_EINVAL,
             res_using(&u, &no_ops, body, never_final));
  grade_run();
  EXPECT_EQ("enters", 0, t.enters);
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
GRADE_TEST(stack_releases_in_reverse_order, .points = 3,
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

GRADE_TEST(stack_hands_each_exit_the_outcome_before, .points = 2,
           .section = "01-resource-lifecycles#exit-stack",
           .hint = "Each release receives the outcome of the release before it (which may "
                   "have suppressed or replaced the error), not the body's status.")
{
  res_t *s = toy_stack(3);

  toys[1].exit_mode = SUPPRESS;
  use(s, UV_ETIMEDOUT);
  EXPECT_ERR("status received by exit of #3", UV_ETIMEDOUT, toys[2].exit_got);
  EXPECT_ERR("status received by exit of #2", UV_ETIMEDOUT, toys[1].exit_got);
  EXPECT_ERR("status received by exit of #1 (after #2 suppressed)", 0, toys[0].exit_got);
  EXPECT_ERR("final's status", 0, final_status);
  finals = 0;
  s = toy_stack(3);
  toys[2].exit_mode = FAIL;
  toys[2].exit_error = UV_EIO;
  use(s, 0);
  EXPECT_ERR("status received by exit of #1 (after #3 failed)", UV_EIO, toys[0].exit_got);
  EXPECT_ERR("final's status", UV_EIO, final_status);
}

GRADE_TEST(stack_partial_failure_releases_what_was_acquired, .points = 3,
           .section = "01-resource-lifecycles#exit-stack",
           .hint = "When items[k] fails to enter, release items[k-1] .. items[0] (with the "
                   "error), never items[k] itself, and enter nothing after it.")
{
  res_t *s = toy_stack(4);
  res_using_t u = {0};

  toys[2].enter_status = UV_ECONNREFUSED;
  EXPECT_ERR("res_using()", 0, res_using(&u, s, never_body, final));
  grade_run();
  EXPECT_STREQ("events",
               "enter:1 entered:1 enter:2 entered:2 enter:3 entered:3 "
               "exit:2 exited:2 exit:1 exited:1 final:0",
               grade_trace_str(""));
  EXPECT_ERR("status received by exit of #2", UV_ECONNREFUSED, toys[1].exit_got);
  EXPECT_ERR("final's status", UV_ECONNREFUSED, final_status);
}

GRADE_TEST(stack_failed_enter_is_never_suppressed, .points = 2,
           .section = "01-resource-lifecycles#exit-stack",
           .hint = "After a failed enter the stack holds nothing: even if a release "
                   "suppressed the error, the stack's enter must still report it.")
{
  res_t *s = toy_stack(3);
  res_using_t u = {0};

  toys[1].enter_status = UV_ECONNREFUSED;
  toys[0].exit_mode = SUPPRESS;
  EXPECT_ERR("res_using()", 0, res_using(&u, s, never_body, final));
  grade_run();
  EXPECT_EQ("exits of #1", 1, toys[0].exits);
  EXPECT_ERR("final's status", UV_ECONNREFUSED, final_status);
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

/* Stops the server, and checks the connection's handle is gone. */
static void conn_final(res_using_t *u, int status)
{
  final(u, status);
  if (conn_tcp != NULL)
    uv_walk(grade_loop(), find_handle, conn_tcp);
  EXPECT(conn.tcp == NULL, "when final ran, conn->tcp was not NULL (exit must free the "
                           "handle in its close callback and forget it)");
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

GRADE_TEST(conn_echo_round_trip, .points = 3, .section = "01-resource-lifecycles#tcp-connection",
           .hint = "enter: allocate and init the handle, uv_tcp_connect, report when "
                   "connected. exit: uv_close, and report only from the close callback, "
                   "after freeing the handle.")
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
  EXPECT_EQ("exit steps", 1, ap_trace_count(grade_trace(), "exit"));
}

static void failing_body(res_using_t *u, res_body_cb done)
{
  conn_tcp = conn.tcp;
  body_status = UV_ETIMEDOUT;
  body_cb = done;
  body_block = u;
  ap_soon(grade_loop(), &body_soon, body_deliver);
}

GRADE_TEST(conn_body_error_still_closes, .points = 2,
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

GRADE_TEST(conn_refused_after_server_stopped, .points = 3,
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

static void file_body(res_using_t *u, res_body_cb done)
{
  file_fd = file.fd;
  EXPECT(file_fd >= 0, "in the body, file->fd was %d", (int) file_fd);
  EXPECT_ERR("res_file_write()", 0, res_file_write(&file, "hello, ", 7));
  EXPECT_ERR("res_file_write()", 0, res_file_write(&file, "world\n", 6));
  body_cb = done;
  body_block = u;
  ap_soon(grade_loop(), &body_soon, body_deliver);
}

static void use_file(const char *path, res_body_fn fn)
{
  res_using_t u = {0};

  file = (res_file_t){.res = {.id = 1, .trace = grade_trace()}};
  file_fd = -1;
  res_file_init(&file, grade_loop(), path);
  EXPECT_ERR("res_using()", 0, res_using(&u, &file.res, fn, file_final));
  grade_run();
  EXPECT_EQ("final calls", 1, finals);
}

GRADE_TEST(file_bytes_on_disk_at_final, .points = 3,
           .section = "01-resource-lifecycles#file-writer",
           .hint = "exit writes the buffer, fsyncs, closes, and reports only from close's "
                   "callback: when final runs, the bytes are in the file and fd is closed.")
{
  char dir[] = "/tmp/ap-01-test-XXXXXX";
  char path[64];

  EXPECT(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
  snprintf(path, sizeof(path), "%s/out.txt", dir);
  use_file(path, file_body);
  unlink(path);
  rmdir(dir);
  EXPECT_ERR("final's status", 0, final_status);
  EXPECT_STREQ("the file's contents when final ran", "hello, world\n", file_seen);
  EXPECT_EQ("descriptor still open when final ran", 0, fd_open_at_final);
  EXPECT_EQ("file->fd after exit", -1, file.fd);
}

GRADE_TEST(file_closed_even_when_fsync_fails, .points = 2,
           .section = "01-resource-lifecycles#file-writer",
           .hint = "fsync on /dev/null fails with UV_EINVAL: report that error, but close "
                   "the descriptor first, as on every other path.")
{
  use_file("/dev/null", file_body);
  EXPECT_ERR("final's status", UV_EINVAL, final_status);
  EXPECT_EQ("descriptor still open when final ran", 0, fd_open_at_final);
}

GRADE_TEST(file_open_failure_skips_body_and_exit, .points = 1,
           .section = "01-resource-lifecycles#file-writer",
           .hint = "If uv_fs_open fails there is no descriptor: report the error from "
                   "on_opened, and no body or exit may run.")
{
  use_file("/nonexistent-ap-01/out.txt", never_body);
  EXPECT_ERR("final's status", UV_ENOENT, final_status);
  EXPECT_EQ("exit steps", 0, ap_trace_count(grade_trace(), "exit"));
}

GRADE_LAB("01-resource-lifecycles", &using_runs_each_step_in_order,
          &exit_runs_once_on_success_and_failure, &no_exit_after_failed_enter,
          &body_error_reaches_exit_and_final, &exit_can_suppress_the_error,
          &failed_exit_is_reported, &using_rejects_bad_arguments, &stack_releases_in_reverse_order,
          &stack_hands_each_exit_the_outcome_before,
          &stack_partial_failure_releases_what_was_acquired,
          &stack_failed_enter_is_never_suppressed, &conn_echo_round_trip,
          &conn_body_error_still_closes, &conn_refused_after_server_stopped,
          &file_bytes_on_disk_at_final, &file_closed_even_when_fsync_fails,
          &file_open_failure_skips_body_and_exit)
