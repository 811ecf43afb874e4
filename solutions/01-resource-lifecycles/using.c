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
  /* STARTER: // TODO: the block is over: report exit's outcome to final. */
  /* STARTER: (void) u, (void) status; */
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
  /* STARTER: // TODO: release the resource with res_exit(), handing it the body's status. */
  /* STARTER: (void) u, (void) status, (void) on_exited; */
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
  /* STARTER: // TODO: on error, report it to final (and release nothing); */
  /* STARTER: // otherwise run the body with on_body_done as its completion. */
  /* STARTER: (void) u, (void) status, (void) on_body_done; */
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
  /* STARTER: // TODO: check the arguments, remember body and final, make u the owner */
  /* STARTER: // of r, then start the enter step with res_enter(). */
  /* STARTER: (void) u, (void) r, (void) body, (void) final, (void) on_entered; */
  /* STARTER: return AP_TODO(); */
}
/* $end using-start */
