/* naps.c — a hostile fixture (tests/hostile/README.md): it defines libuv's uv_loop_close,
 * which the grader's leak check calls, so that a loop left with open handles would look
 * closed. The lab's objects are linked before libuv: its copy would win. The grader says
 * so in the findings and marks the results tampered. */
#include "naps.h"

int uv_loop_close(uv_loop_t *loop)
{
  (void) loop;
  return 0;
}

int naps_gather(uv_loop_t *loop, naps_t *g, const uint64_t *delays_ms, long *results, size_t n,
                naps_done_cb done)
{
  (void) loop, (void) g, (void) delays_ms, (void) results, (void) n, (void) done;
  return 0;
}
