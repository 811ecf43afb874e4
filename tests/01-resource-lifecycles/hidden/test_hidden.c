/* test_hidden.c — hidden tests for lab 01.
 *
 * Not shipped in student handouts: they run in the instructor's repository
 * and in the gradebook, and are reported as hidden. They probe what a
 * student should find by reading the contracts in res.h, conn.h and file.h,
 * not by reading the public tests: structs whose private fields hold garbage,
 * used twice; a write that runs out of memory in the body; an echo cut off by
 * exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "../toys.h"
#include "conn.h"
#include "file.h"

enum { GARBAGE = 0xa5 };

/* ---- A stack and a block over garbage, twice ------------------------------ */
static toy_t toys[2];
static res_t *items[2];
static res_stack_t stack;

GRADE_TEST(stack_over_garbage_runs_twice, .points = 2, .clauses = "res.12 res.8 res.10",
           .section = "01-resource-lifecycles#exit-stack",
           .hint = "The caller sets only id, trace and data: the stack's own fields (held, the "
                   "status, the enter error) and the block's start from whatever they held.")
{
  res_using_t u;

  toy_init(&toys[0], 1, 0, LET_THROUGH, 0);
  toy_init(&toys[1], 2, UV_ECONNREFUSED, LET_THROUGH, 0);
  items[0] = &toys[0].res;
  items[1] = &toys[1].res;
  memset(&stack, GARBAGE, sizeof(stack));
  stack.res.id = 0;
  stack.res.trace = NULL;
  stack.res.data = NULL;
  EXPECT_ERR("res_stack_init() over garbage", 0, res_stack_init(&stack, grade_loop(), items, 2));
  memset(&u, GARBAGE, sizeof(u));
  u.data = NULL;
  EXPECT_ERR("res_using() over garbage", 0, res_using(&u, &stack.res, never_body, final));
  grade_run();
  EXPECT_ERR("final's status (item #2 refused)", UV_ECONNREFUSED, final_status);
  toys[1].enter_status = 0;
  memset(&u, GARBAGE, sizeof(u));
  u.data = NULL;
  body_status = 0;
  EXPECT_ERR("res_using() again", 0, res_using(&u, &stack.res, body, final));
  grade_run();
  EXPECT_EQ("final calls", 2, finals);
  EXPECT_ERR("final's status of the second use", 0, final_status);
  EXPECT_STREQ("events",
               "enter:1 entered:1 enter:2 entered:2 exit:1 exited:1 final:0 "
               "enter:1 entered:1 enter:2 entered:2 body:0 body-done:0 "
               "exit:2 exited:2 exit:1 exited:1 final:0",
               grade_trace_str(""));
}

/* ---- The file writer, over garbage and out of memory --------------------- */
static res_file_t file;
static char dir[32];
static char path[64];
static const char *text; /* what the body writes */

static void make_path(void)
{
  snprintf(dir, sizeof(dir), "/tmp/ap-01-hidden-XXXXXX");
  EXPECT(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
  snprintf(path, sizeof(path), "%s/out.txt", dir);
}

/* The file's contents now, in a static buffer. */
static const char *contents(void)
{
  static char seen[256];
  ssize_t n = -1;
  int fd = open(path, O_RDONLY);

  if (fd >= 0) {
    n = read(fd, seen, sizeof(seen) - 1);
    close(fd);
  }
  seen[n > 0 ? n : 0] = '\0';
  return seen;
}

static void write_body(res_using_t *u, res_body_cb done)
{
  EXPECT_ERR("res_file_write()", 0, res_file_write(&file, text, strlen(text)));
  body_later(u, done);
}

static void use_file(res_body_fn fn)
{
  res_using_t u = {0};
  int before = finals;

  EXPECT_ERR("res_using()", 0, res_using(&u, &file.res, fn, final));
  grade_run();
  EXPECT_EQ("final calls", 1, finals - before);
}

GRADE_TEST(file_over_garbage_used_twice, .points = 2, .clauses = "file.1 file.6 file.5",
           .section = "01-resource-lifecycles#file-writer",
           .hint = "Clear the release error at the start of every exit: the struct may hold "
                   "garbage before res_file_init(), or an error from its last use.")
{
  make_path();
  memset(&file, GARBAGE, sizeof(file));
  file.res.id = 1;
  file.res.trace = NULL;
  file.res.data = NULL;
  res_file_init(&file, grade_loop(), path);
  body_status = 0;
  text = "a first text, longer than the second\n";
  use_file(write_body);
  EXPECT_ERR("final's status of the first use", 0, final_status);
  EXPECT_STREQ("the file after the first use", text, contents());
  text = "second\n";
  use_file(write_body);
  EXPECT_ERR("final's status of the second use", 0, final_status);
  EXPECT_STREQ("the file after the second use (truncated by enter)", text, contents());
  unlink(path);
  rmdir(dir);
}

/* Writes "kept\n", then a block that cannot be buffered, and fails. */
static void out_of_memory_body(res_using_t *u, res_body_cb done)
{
  static char big[200];

  memset(big, 'x', sizeof(big));
  EXPECT_ERR("res_file_write()", 0, res_file_write(&file, "kept\n", 5));
  grade_fail_alloc(0);
  body_status = res_file_write(&file, big, sizeof(big));
  grade_fail_alloc(-1);
  EXPECT_ERR("res_file_write() when memory runs out", UV_ENOMEM, body_status);
  body_later(u, done);
}

GRADE_TEST(file_out_of_memory_keeps_what_was_written, .points = 1,
           .clauses = "file.3 file.4 file.5", .section = "01-resource-lifecycles#file-writer",
           .hint = "A write that runs out of memory keeps the bytes written before it; the "
                   "body's error then goes through exit, which still flushes and closes.")
{
  make_path();
  file = (res_file_t){.res = {.id = 1}};
  res_file_init(&file, grade_loop(), path);
  use_file(out_of_memory_body);
  EXPECT_ERR("final's status", UV_ENOMEM, final_status);
  EXPECT_STREQ("the file when final had run", "kept\n", contents());
  EXPECT_EQ("file->fd after exit", -1, file.fd);
  unlink(path);
  rmdir(dir);
}

/* ---- A connection over garbage, its echo cut off by exit ----------------- */
static ap_server_t server;
static res_conn_t conn;
static char reply[8];
static int echoes;

static void echoed(res_conn_t *c, int status)
{
  (void) c, (void) status;
  echoes++;
}

/* Starts an echo, and ends at once: exit cuts the echo off. */
static void hasty_body(res_using_t *u, res_body_cb done)
{
  EXPECT_ERR("res_conn_echo()", 0, res_conn_echo(&conn, "ping", reply, 4, echoed));
  done(u, 0);
}

static void stop_server(res_using_t *u, int status)
{
  final(u, status);
  ap_server_stop(&server, NULL);
}

GRADE_TEST(conn_over_garbage_cuts_off_a_running_echo, .points = 1,
           .clauses = "conn.1 conn.6 conn.4", .section = "01-resource-lifecycles#tcp-connection",
           .hint = "The connection's own fields may hold garbage before res_conn_init(); an "
                   "echo still running when exit starts never calls back.")
{
  res_using_t u = {0};

  EXPECT_ERR("ap_server_start()", 0, ap_server_start(grade_loop(), &server));
  memset(&conn, GARBAGE, sizeof(conn));
  conn.res.id = 1;
  conn.res.trace = NULL;
  conn.res.data = NULL;
  res_conn_init(&conn, grade_loop(), server.port);
  EXPECT_ERR("res_using()", 0, res_using(&u, &conn.res, hasty_body, stop_server));
  grade_run();
  EXPECT_EQ("final calls", 1, finals);
  EXPECT_ERR("final's status", 0, final_status);
  EXPECT_EQ("echo callbacks after exit had started", 0, echoes);
  EXPECT(conn.tcp == NULL, "after exit, conn->tcp must be freed and NULL");
}

GRADE_HIDDEN(&stack_over_garbage_runs_twice, &file_over_garbage_used_twice,
             &file_out_of_memory_keeps_what_was_written,
             &conn_over_garbage_cuts_off_a_running_echo);
