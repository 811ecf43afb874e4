/* toys.c — the toy resource, body and final of toys.h. Compiled out of the
 * test table's own build (GRADE_LIST_ONLY), which has no lab to call. */
#include "toys.h"

#ifndef GRADE_LIST_ONLY

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

void toy_init(toy_t *t, long id, int enter_status, int exit_mode, int exit_error)
{
  *t = (toy_t){.res = {.ops = &toy_ops, .loop = grade_loop(), .id = id},
               .enter_status = enter_status,
               .exit_mode = exit_mode,
               .exit_error = exit_error};
}

int body_status;
int bodies;
int finals;
int final_status;
res_body_cb body_cb;
res_using_t *body_block;
static ap_soon_t body_soon;

static void body_deliver(ap_soon_t *soon)
{
  (void) soon;
  ap_trace_add(grade_trace(), "body-done", 0, body_status);
  body_cb(body_block, body_status);
}

void body_later(res_using_t *u, res_body_cb done)
{
  body_cb = done;
  body_block = u;
  ap_soon(grade_loop(), &body_soon, body_deliver);
}

void body(res_using_t *u, res_body_cb done)
{
  ap_trace_add(grade_trace(), "body", 0, 0);
  bodies++;
  body_later(u, done);
}

void final(res_using_t *u, int status)
{
  (void) u;
  ap_trace_add(grade_trace(), "final", 0, status);
  finals++;
  final_status = status;
}

void never_body(res_using_t *u, res_body_cb done)
{
  (void) u, (void) done;
  ck_abort_msg("the body ran, although the resource was never acquired");
}

void never_final(res_using_t *u, int status)
{
  (void) u;
  ck_abort_msg("final ran (status %s) although res_using() returned an error",
               grade_err_name(status));
}

void expect_exit_got(const char *what, int expected, const toy_t *t)
{
  EXPECT(t->exits > 0, "%s: exit never ran, so it received nothing (expected %s)", what,
         grade_err_name(expected));
  EXPECT_ERR(what, expected, t->exit_got);
}

void use(res_t *r, int status)
{
  res_using_t u = {0};
  int before = finals;

  body_status = status;
  EXPECT_ERR("res_using()", 0, res_using(&u, r, body, final));
  EXPECT_EQ("final calls inside res_using()", 0, finals - before);
  grade_run();
  EXPECT_EQ("final calls", 1, finals - before);
}

#endif /* GRADE_LIST_ONLY */
