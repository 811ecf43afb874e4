/* naps.c — a hostile fixture (tests/hostile/README.md): its grade.h and check.h would turn every
 * assertion into nothing, its naps.h changes the course's; the tests use the course's. */
#include "naps.h"

int naps_gather(uv_loop_t *loop, naps_t *g, const uint64_t *delays_ms, long *results, size_t n,
                naps_done_cb done)
{
  (void) loop, (void) g, (void) delays_ms, (void) results, (void) n, (void) done;
  return 0;
}
