/* using.c — lab 01: the using block, `async with` in callbacks.
 *
 *     async with r:          res_enter(r)  -> on_entered
 *         await body()       u->body(u)    -> on_body_done
 *                            res_exit(r)   -> on_exited -> final
 *
 * Each arrow is a later loop turn. The block's state lives in the
 * res_using_t, and r->owner leads each step's completion back to it. The
 * two rules of the protocol sit in on_entered (a failed enter skips body and
 * exit) and on_body_done (every body outcome goes through exit).
 */
#include "res.h"

/* $begin using-on-exited */
static void on_exited(res_t *r, int status)
{
  res_using_t *u = r->owner;

  /* SOLUTION BEGIN */
  /* r is released: only now is the block's outcome known. */
  u->final(u, status);
  /* SOLUTION END */
  /* STARTER: // TODO: res.h, res_using: final gets exit's outcome, once (#errors-through-exit). */
  /* STARTER: AP_TODO(); */
}
/* $end using-on-exited */

/* $begin using-on-body-done */
static void on_body_done(res_using_t *u, int status)
{
  /* SOLUTION BEGIN */
  /* Success or failure, the body's status goes to exit, which decides. */
  res_exit(u->res, status, on_exited);
  /* SOLUTION END */
  /* STARTER: // TODO: res.h, res_using: exit runs exactly once after a successful enter, */
  /* STARTER: // whatever the body reported (#using-block). */
  /* STARTER: AP_TODO(); */
}
/* $end using-on-body-done */

/* $begin using-on-entered */
static void on_entered(res_t *r, int status)
{
  res_using_t *u = r->owner;

  /* SOLUTION BEGIN */
  if (status != 0) {
    /* Nothing is held: no body, and no exit. */
    u->final(u, status);
    return;
  }
  u->body(u, on_body_done);
  /* SOLUTION END */
  /* STARTER: // TODO: res.h, res_using: a failed enter means no body and no exit (#using-block). */
  /* STARTER: AP_TODO(); */
}
/* $end using-on-entered */

/* $begin using-start */
int res_using(res_using_t *u, res_t *r, res_body_fn body, res_final_cb final)
{
  /* SOLUTION BEGIN */
  if (u == NULL || r == NULL || r->ops == NULL || body == NULL || final == NULL)
    return UV_EINVAL;
  u->res = r;
  u->body = body;
  u->final = final;
  r->owner = u;
  res_enter(r, on_entered);
  return 0;
  /* SOLUTION END */
  /* STARTER: // TODO: res.h, res_using: its arguments, and the steps through res_enter()/ */
  /* STARTER: // res_exit() (res.c) (#using-block). */
  /* STARTER: return AP_TODO(); */
}
/* $end using-start */
