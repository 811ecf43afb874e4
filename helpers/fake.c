/* fake.c — operations that complete only when the test says so.
 *
 * Completion is delivered through call-soon, as a real operation's callback
 * would be: on a later turn, never inside ap_fake_complete().
 */
#include "ap.h"

enum { FAKE_IDLE = 0, FAKE_RUNNING, FAKE_COMPLETING };

void ap_fakes_init(ap_fakes_t *set, uv_loop_t *loop, ap_trace_t *trace, ap_gauge_t *gauge)
{
  set->loop = loop;
  set->trace = trace;
  set->gauge = gauge;
  set->started = 0;
  set->completed = 0;
}

void ap_fake_start(ap_fakes_t *set, ap_fake_t *op, long id, ap_fake_cb cb)
{
  op->set = set;
  op->id = id;
  op->cb = cb;
  op->state = FAKE_RUNNING;
  set->started++;
  if (set->trace != NULL)
    ap_trace_add(set->trace, "start", id, 0);
  if (set->gauge != NULL)
    ap_gauge_inc(set->gauge);
}

static void deliver(ap_soon_t *soon)
{
  ap_fake_t *op = AP_CONTAINER_OF(soon, ap_fake_t, soon);

  op->state = FAKE_IDLE;
  op->cb(op, op->status, op->value);
}

int ap_fake_complete(ap_fake_t *op, int status, long value)
{
  ap_fakes_t *set = op->set;

  if (op->state != FAKE_RUNNING)
    return UV_EINVAL;
  op->state = FAKE_COMPLETING;
  op->status = status;
  op->value = value;
  set->completed++;
  if (set->trace != NULL)
    ap_trace_add(set->trace, "done", op->id, value);
  if (set->gauge != NULL)
    ap_gauge_dec(set->gauge);
  ap_soon(set->loop, &op->soon, deliver);
  return 0;
}
