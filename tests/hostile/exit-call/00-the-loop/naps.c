/* naps.c — a hostile fixture (tests/hostile/README.md): calls exit, which lab code may not */
#include "naps.h"
#include <stdlib.h>

int naps_gather(uv_loop_t *loop, naps_t *g, const uint64_t *delays_ms, long *results, size_t n,
                naps_done_cb done)
{
  (void) loop, (void) g, (void) delays_ms, (void) results, (void) n, (void) done;
  exit(0);
}
