/* naps.c — a hostile fixture (tests/hostile/README.md): beside it, files whose names must
 * never reach make or a shell ("my notes.c", one that runs a command there); neither is built. */
#include "naps.h"

int naps_gather(uv_loop_t *loop, naps_t *g, const uint64_t *delays_ms, long *results, size_t n,
                naps_done_cb done)
{
  (void) loop, (void) g, (void) delays_ms, (void) results, (void) n, (void) done;
  return 0;
}
