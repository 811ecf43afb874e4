/* probe.c — a heartbeat that shows whether the loop stays responsive.
 *
 * A frozen loop shows up as a long gap between ticks and as little idle
 * time; tests use tick counts (handshakes), demos and benchmarks the gaps.
 */
#include "ap.h"

static void on_tick(uv_timer_t *timer)
{
  ap_probe_t *probe = AP_CONTAINER_OF(timer, ap_probe_t, timer);
  uint64_t now = uv_hrtime();

  if (now - probe->last_ns > probe->max_gap_ns)
    probe->max_gap_ns = now - probe->last_ns;
  probe->last_ns = now;
  probe->ticks++;
  if (probe->on_tick != NULL)
    probe->on_tick(probe);
}

int ap_probe_start(uv_loop_t *loop, ap_probe_t *probe, uint64_t interval_ms)
{
  int err;

  /* Fails with UV_EINVAL once the loop has run; the idle time is then only
   * approximate, which demos tolerate. */
  uv_loop_configure(loop, UV_METRICS_IDLE_TIME);
  err = uv_timer_init(loop, &probe->timer);
  if (err != 0)
    return err;
  probe->ticks = 0;
  probe->max_gap_ns = 0;
  probe->last_ns = uv_hrtime();
  probe->idle_start_ns = uv_metrics_idle_time(loop);
  err = uv_timer_start(&probe->timer, on_tick, interval_ms, interval_ms);
  if (err != 0)
    uv_close((uv_handle_t *) &probe->timer, NULL);
  return err;
}

void ap_probe_stop(ap_probe_t *probe)
{
  if (!uv_is_closing((uv_handle_t *) &probe->timer))
    uv_close((uv_handle_t *) &probe->timer, NULL);
}

uint64_t ap_probe_idle_ns(const ap_probe_t *probe)
{
  return uv_metrics_idle_time(probe->timer.loop) - probe->idle_start_ns;
}
