/* naps.c — a hostile fixture (tests/hostile/README.md): forks until something
 * stops it. objcheck.sh refuses fork; the sandbox's process limit would stop
 * it anyway (tools/sandbox-test.sh tries that part alone). */
#include <unistd.h>

#include "naps.h"

int naps_gather(uv_loop_t *loop, naps_t *g, const uint64_t *delays_ms, long *results, size_t n,
                naps_done_cb done)
{
  (void) loop, (void) g, (void) delays_ms, (void) results, (void) n, (void) done;
  for (;;)
    fork();
}
