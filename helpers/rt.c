/* rt.c — the runtime: a loop, its call-soon queue, and the leak check.
 *
 * The leak check reports before it cleans up. libuv's own test teardown
 * closes whatever is left and so hides leaks; here a leaked handle is named
 * first, then closed, so that the process (a grader, a demo) can go on.
 */
#include <stdlib.h>
#include <string.h>

#include "ap.h"
#include "internal.h"

enum { PERTURB_MAX_STALLS = 64, PERTURB_LATE_RUNS = 4, PERTURB_LATE_MS = 25 };

/* xorshift64: the same stalls for the same seed. */
static uint64_t next_random(uint64_t *state)
{
  uint64_t x = *state;

  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *state = x;
}

/* Before the poll: now and then, stall the loop as a busy machine would.
 * Bounded, so that a test of a million turns is not slowed down much. */
static void perturb_cb(uv_prepare_t *prepare)
{
  ap_rt_t *rt = AP_CONTAINER_OF(prepare, ap_rt_t, perturb);
  uint64_t r = next_random(&rt->perturb_seed);

  if (rt->perturb_left > 0 && r % 4 == 0) {
    rt->perturb_left--;
    uv_sleep(1 + (unsigned int) (r >> 8) % 3);
  }
}

static void perturb_init(ap_rt_t *rt)
{
  const char *seed = getenv("AP_PERTURB");
  unsigned long long s = seed != NULL ? strtoull(seed, NULL, 10) : 0;

  if (s == 0)
    return;
  rt->perturb_seed = s * 0x9e3779b97f4a7c15u | 1;
  rt->perturb_left = PERTURB_MAX_STALLS;
  rt->perturb_late_runs = s % 2 == 0 ? PERTURB_LATE_RUNS : 0;
  uv_prepare_init(&rt->loop, &rt->perturb);
  uv_prepare_start(&rt->perturb, perturb_cb);
  uv_unref((uv_handle_t *) &rt->perturb);
}

int ap_rt_init(ap_rt_t *rt)
{
  int err;

  memset(rt, 0, sizeof(*rt));
  err = uv_loop_init(&rt->loop);
  if (err != 0)
    return err;
  rt->loop.data = rt;
  uv_check_init(&rt->loop, &rt->soon_check);
  uv_idle_init(&rt->loop, &rt->soon_idle);
  uv_check_start(&rt->soon_check, ap__soon_check_cb);
  /* The check runs every turn but must not keep the loop alive by itself. */
  uv_unref((uv_handle_t *) &rt->soon_check);
  perturb_init(rt);
  return 0;
}

ap_rt_t *ap_rt_of(uv_loop_t *loop)
{
  return (ap_rt_t *) loop->data;
}

int ap_rt_run(ap_rt_t *rt)
{
  /* A loaded machine may start the loop late: whatever was started before
   * now counts from a loop time that is stale by then. */
  if (rt->perturb_late_runs > 0) {
    rt->perturb_late_runs--;
    uv_sleep(PERTURB_LATE_MS);
  }
  return uv_run(&rt->loop, UV_RUN_DEFAULT);
}

static int is_own_handle(ap_rt_t *rt, uv_handle_t *h)
{
  return h == (uv_handle_t *) &rt->soon_check || h == (uv_handle_t *) &rt->soon_idle ||
         h == (uv_handle_t *) &rt->perturb;
}

static void append(char *buf, size_t size, const char *text)
{
  size_t used = strlen(buf);

  if (used + 1 < size)
    snprintf(buf + used, size - used, "%s", text);
}

static void count_leak(uv_handle_t *h, void *arg)
{
  ap_leaks_t *leaks = arg;
  ap_rt_t *rt = ap_rt_of(h->loop);
  char *names = leaks->text + sizeof(leaks->text) / 2;

  if (is_own_handle(rt, h))
    return;
  if (uv_is_closing(h)) {
    leaks->closing++;
    return;
  }
  leaks->handles++;
  append(names, sizeof(leaks->text) / 2, leaks->handles > 1 ? ", " : "");
  append(names, sizeof(leaks->text) / 2, uv_handle_type_name(uv_handle_get_type(h)));
}

static void describe(ap_leaks_t *leaks)
{
  char names[sizeof(leaks->text) / 2];
  size_t n = 0;

  memcpy(names, leaks->text + sizeof(leaks->text) / 2, sizeof(names));
  memset(leaks->text, 0, sizeof(leaks->text));
  if (leaks->handles > 0)
    n += snprintf(leaks->text + n, sizeof(leaks->text) - n, "%d handle%s still open (%s); ",
                  leaks->handles, leaks->handles == 1 ? "" : "s", names);
  if (leaks->closing > 0 && n < sizeof(leaks->text))
    n += snprintf(leaks->text + n, sizeof(leaks->text) - n,
                  "%d handle%s closed but the loop never ran the close callback; ", leaks->closing,
                  leaks->closing == 1 ? "" : "s");
  if (leaks->requests > 0 && n < sizeof(leaks->text))
    n += snprintf(leaks->text + n, sizeof(leaks->text) - n, "%d request%s still pending; ",
                  leaks->requests, leaks->requests == 1 ? "" : "s");
  if (leaks->soon > 0 && n < sizeof(leaks->text))
    n += snprintf(leaks->text + n, sizeof(leaks->text) - n, "%d call-soon callback%s never ran; ",
                  leaks->soon, leaks->soon == 1 ? "" : "s");
  if (n >= 2 && n < sizeof(leaks->text))
    leaks->text[n - 2] = '\0'; /* drop the last "; " */
}

static void close_leftover(uv_handle_t *h, void *arg)
{
  (void) arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

int ap_rt_close(ap_rt_t *rt, ap_leaks_t *leaks)
{
  ap_leaks_t local;
  int leaked;

  if (leaks == NULL)
    leaks = &local;
  memset(leaks, 0, sizeof(*leaks));
  uv_walk(&rt->loop, count_leak, leaks);
  leaks->requests = (int) rt->loop.active_reqs.count;
  leaks->soon = (int) rt->soon_count;
  describe(leaks);
  leaked = leaks->handles + leaks->closing + leaks->requests + leaks->soon;

  /* Clean up regardless, so the caller can continue. Pending requests are
   * waited for: a request cannot be taken back from libuv. */
  rt->soon_head = rt->soon_tail = NULL;
  rt->soon_count = 0;
  uv_walk(&rt->loop, close_leftover, NULL);
  while (uv_loop_close(&rt->loop) == UV_EBUSY)
    uv_run(&rt->loop, UV_RUN_DEFAULT);
  return leaked > 0 ? UV_EBUSY : 0;
}
