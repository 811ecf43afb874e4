/* naps.c — a hostile fixture (tests/hostile/README.md): has code that runs before or after main */
#include "naps.h"

volatile int hostile_runs;
__attribute__((constructor)) static void early(void)
{
  hostile_runs++;
}
__attribute__((destructor)) static void late(void)
{
  hostile_runs++;
}
int naps_gather(uv_loop_t *loop, naps_t *g, const uint64_t *delays_ms, long *results, size_t n,
                naps_done_cb done)
{
  (void) loop, (void) g, (void) delays_ms, (void) results, (void) n, (void) done;
  return 0;
}
