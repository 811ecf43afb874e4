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

  // TODO: the block is over: report exit's outcome to final.
  (void) u, (void) status;
  AP_TODO();
}
/* $end using-on-exited */

/* $begin using-on-body-done */
static void on_body_done(res_using_t *u, int status)
{
  // TODO: release the resource with res_exit(), handing it the body's status.
  (void) u, (void) status, (void) on_exited;
  AP_TODO();
}
/* $end using-on-body-done */

/* $begin using-on-entered */
static void on_entered(res_t *r, int status)
{
  res_using_t *u = r->owner;

  // TODO: on error, report it to final (and release nothing);
  // otherwise run the body with on_body_done as its completion.
  (void) u, (void) status, (void) on_body_done;
  AP_TODO();
}
/* $end using-on-entered */

/* $begin using-start */
int res_using(res_using_t *u, res_t *r, res_body_fn body, res_final_cb final)
{
  // TODO: check the arguments, remember body and final, make u the owner
  // of r, then start the enter step with res_enter().
  (void) u, (void) r, (void) body, (void) final, (void) on_entered;
  return AP_TODO();
}
/* $end using-start */
