/* naps.c — a hostile fixture (tests/hostile/README.md): touches memory until
 * something stops it (the sandbox's memory limit), and starts no nap. */
#include <stdlib.h>
#include <string.h>

#include "naps.h"

int naps_gather(uv_loop_t *loop, naps_t *g, const uint64_t *delays_ms, long *results, size_t n,
                naps_done_cb done)
{
  (void) loop, (void) g, (void) delays_ms, (void) results, (void) n, (void) done;
  for (;;) {
    char *p = malloc(64 << 20);
    if (p == NULL)
      return UV_ENOMEM;
    memset(p, 1, 64 << 20);
  }
}
