/* stack.c — lab 01: the exit stack, AsyncExitStack in callbacks.
 *
 * The stack is a resource whose enter acquires its items one after the
 * other and whose exit releases them in reverse. `held` is the stack itself:
 * items[0..held) are acquired, and only those are ever released. A failed
 * enter of items[k] leaves held == k, so unwinding releases exactly the k
 * items before it. Each release is handed the outcome of the one before,
 * so an error can be suppressed or replaced on the way down, as it can in
 * Python.
 */
#include "res.h"

static void acquire_next(res_stack_t *s);
static void release_next(res_stack_t *s);

/* $begin stack-release */
static void on_released(res_t *item, int status)
{
  res_stack_t *s = item->owner;

  // TODO: res.h, the exit stack: each release sees the outcome the one above left
  // (#exit-stack).
  AP_TODO();
}

static void release_next(res_stack_t *s)
{
  // TODO: res.h, the exit stack: release in reverse order, the status threaded
  // through; a stack whose enter failed never reports 0 (#exit-stack).
  AP_TODO();
}
/* $end stack-release */

/* $begin stack-acquire */
static void on_acquired(res_t *item, int status)
{
  res_stack_t *s = item->owner;

  // TODO: res.h, the exit stack: a failed enter releases exactly what was acquired
  // before it (#exit-stack).
  AP_TODO();
}

static void acquire_next(res_stack_t *s)
{
  // TODO: res.h, the exit stack: acquire the items in order (#exit-stack).
  AP_TODO();
}
/* $end stack-acquire */

static void stack_enter(res_t *r, res_cb done)
{
  res_stack_t *s = AP_CONTAINER_OF(r, res_stack_t, res);

  s->done = done;
  s->held = 0;
  s->status = 0;
  s->enter_error = 0;
  acquire_next(s);
}

static void stack_exit(res_t *r, int status, res_cb done)
{
  res_stack_t *s = AP_CONTAINER_OF(r, res_stack_t, res);

  s->done = done;
  s->status = status;
  release_next(s);
}

static const res_ops_t stack_ops = {.enter = stack_enter, .exit = stack_exit};

int res_stack_init(res_stack_t *s, uv_loop_t *loop, res_t **items, size_t n)
{
  if (s == NULL || items == NULL || n == 0)
    return UV_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (items[i] == NULL || items[i]->ops == NULL)
      return UV_EINVAL;
  for (size_t i = 0; i < n; i++)
    items[i]->owner = s;
  s->res.ops = &stack_ops;
  s->res.loop = loop;
  s->items = items;
  s->n = n;
  s->held = 0;
  return 0;
}
