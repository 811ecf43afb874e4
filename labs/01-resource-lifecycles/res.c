/* res.c — lab 01: running one step of a resource (given, not a TODO).
 *
 * res_enter() and res_exit() call the resource's step and relay its
 * completion, recording both ends in the resource's trace: the demo's event
 * trace comes from here. A resource runs one step at a time, so one relay
 * slot (step_done) per resource is enough.
 */
#include "res.h"

void res_trace(res_t *r, const char *what, long value)
{
  if (r->trace != NULL)
    ap_trace_add(r->trace, what, r->id, value);
}

static void on_entered(res_t *r, int status)
{
  res_trace(r, "entered", status);
  r->step_done(r, status);
}

static void on_exited(res_t *r, int status)
{
  res_trace(r, "exited", status);
  r->step_done(r, status);
}

void res_enter(res_t *r, res_cb done)
{
  r->step_done = done;
  res_trace(r, "enter", 0);
  r->ops->enter(r, on_entered);
}

void res_exit(res_t *r, int status, res_cb done)
{
  r->step_done = done;
  res_trace(r, "exit", status);
  r->ops->exit(r, status, on_exited);
}

static void report(ap_soon_t *soon)
{
  res_t *r = AP_CONTAINER_OF(soon, res_t, soon);

  r->later_cb(r, r->later_status);
}

void res_report_later(res_t *r, res_cb done, int status)
{
  r->later_cb = done;
  r->later_status = status;
  ap_soon(r->loop, &r->soon, report);
}
