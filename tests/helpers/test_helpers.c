/* test_helpers.c — unit tests of the helper layer (helpers/ap.h), run by
 * make check under ASan+UBSan with the same grader the labs use. */
#include <stdlib.h>

#include "grade.h"

static int soon_calls;
static ap_soon_t soon_reqs[3];

static void soon_record(ap_soon_t *req)
{
  ap_trace_add(grade_trace(), "soon", (long) (req - soon_reqs), 0);
  soon_calls++;
}

GRADE_TEST(soon_runs_later_in_fifo_order, .points = 1, .section = "helpers#soon",
           .hint = "ap_soon must defer to a later turn and keep FIFO order.")
{
  for (int i = 0; i < 3; i++)
    ap_soon(grade_loop(), &soon_reqs[i], soon_record);
  EXPECT_EQ("callbacks run inside ap_soon", 0, soon_calls);
  EXPECT_EQ("pending", 3, ap_soon_pending(grade_loop()));
  grade_run();
  EXPECT_STREQ("order", "soon:0 soon:1 soon:2", grade_trace_str("soon"));
}

static long chain_left;
static size_t chain_depth_max;
static ap_soon_t chain_req;
static char *chain_stack_base;

static void chain_step(ap_soon_t *req)
{
  char here;
  size_t depth = (size_t) (chain_stack_base > &here ? chain_stack_base - &here : &here - chain_stack_base);

  if (depth > chain_depth_max)
    chain_depth_max = depth;
  if (--chain_left > 0)
    ap_soon(grade_loop(), req, chain_step);
}

GRADE_TEST(soon_chains_do_not_grow_the_stack, .points = 1, .section = "helpers#soon",
           .hint = "A callback queued from a callback must run on the next drain.")
{
  char base;

  chain_stack_base = &base;
  chain_left = 100000;
  ap_soon(grade_loop(), &chain_req, chain_step);
  grade_run();
  EXPECT_EQ("steps left", 0, chain_left);
  EXPECT(chain_depth_max < 64 * 1024, "stack grew to %zu bytes over the chain", chain_depth_max);
}

static void sleep_done(ap_sleep_t *req, int status)
{
  ap_trace_add(grade_trace(), status == 0 ? "woke" : "cancelled", (long) (uintptr_t) req->data, 0);
}

GRADE_TEST(sleeps_wake_in_delay_order_and_cancel, .points = 1, .section = "helpers#sleep",
           .hint = "Sleeps close their timer before calling back; cancel reports UV_ECANCELED.")
{
  ap_sleep_t a = {.data = (void *) 1}, b = {.data = (void *) 2}, c = {.data = (void *) 3};

  EXPECT_ERR("start a", 0, ap_sleep_start(grade_loop(), &a, 20, sleep_done));
  EXPECT_ERR("start b", 0, ap_sleep_start(grade_loop(), &b, 5, sleep_done));
  EXPECT_ERR("start c", 0, ap_sleep_start(grade_loop(), &c, 10, sleep_done));
  EXPECT_ERR("cancel c", 0, ap_sleep_cancel(&c));
  EXPECT_ERR("cancel c again", UV_EALREADY, ap_sleep_cancel(&c));
  grade_run();
  EXPECT_STREQ("order", "cancelled:3 woke:2 woke:1", grade_trace_str(""));
}

static void fake_done(ap_fake_t *op, int status, long value)
{
  ap_trace_add(grade_trace(), "got", op->id, value + status);
}

GRADE_TEST(fakes_complete_when_told, .points = 1, .section = "helpers#fakes",
           .hint = "Fake operations complete in the order the test chooses, on a later turn.")
{
  ap_gauge_t gauge = {0};
  ap_fakes_t set;
  ap_fake_t ops[3];

  ap_fakes_init(&set, grade_loop(), grade_trace(), &gauge);
  for (int i = 0; i < 3; i++)
    ap_fake_start(&set, &ops[i], i, fake_done);
  EXPECT_EQ("peak", 3, gauge.peak);
  ap_fake_complete(&ops[2], 0, 20);
  ap_fake_complete(&ops[0], 0, 0);
  EXPECT_ERR("complete twice", UV_EINVAL, ap_fake_complete(&ops[0], 0, 0));
  EXPECT_EQ("callbacks inside complete", 0, ap_trace_count(grade_trace(), "got"));
  grade_run();
  ap_fake_complete(&ops[1], 0, 10);
  grade_run();
  EXPECT_STREQ("trace", "start:0 start:1 start:2 done:2 done:0 got:2 got:0 done:1 got:1",
               grade_trace_str(""));
  EXPECT_EQ("current", 0, gauge.current);
  EXPECT_EQ("ends", 3, gauge.ends);
}

static void stop_after_three(ap_probe_t *probe)
{
  if (probe->ticks == 3)
    ap_probe_stop(probe);
}

GRADE_TEST(probe_ticks, .points = 1, .section = "helpers#probe",
           .hint = "The probe counts heartbeat ticks until stopped.")
{
  ap_probe_t probe = {.on_tick = stop_after_three};

  EXPECT_ERR("start", 0, ap_probe_start(grade_loop(), &probe, 1));
  grade_run();
  EXPECT_EQ("ticks", 3, probe.ticks);
}

static void never_fires(uv_timer_t *timer)
{
  (void) timer;
  ck_abort_msg("a leaked timer fired during cleanup");
}

GRADE_TEST(leak_report_names_open_handles, .points = 1, .section = "helpers#runtime",
           .hint = "ap_rt_close must name what is still open, then clean up.")
{
  ap_rt_t rt;
  ap_leaks_t leaks;
  uv_timer_t timer;
  uv_idle_t idle;

  EXPECT_ERR("init", 0, ap_rt_init(&rt));
  uv_timer_init(&rt.loop, &timer);
  uv_timer_start(&timer, never_fires, 100000, 0);
  uv_idle_init(&rt.loop, &idle);
  EXPECT_ERR("close with leaks", UV_EBUSY, ap_rt_close(&rt, &leaks));
  EXPECT_EQ("leaked handles", 2, leaks.handles);
  EXPECT_STREQ("report", "2 handles still open (timer, idle)", leaks.text);
  EXPECT_ERR("a clean runtime closes", 0, ap_rt_init(&rt) || ap_rt_close(&rt, NULL));
}

GRADE_LAB("helpers",
          &soon_runs_later_in_fifo_order,
          &soon_chains_do_not_grow_the_stack,
          &sleeps_wake_in_delay_order_and_cancel,
          &fakes_complete_when_told,
          &probe_ticks,
          &leak_report_names_open_handles)
