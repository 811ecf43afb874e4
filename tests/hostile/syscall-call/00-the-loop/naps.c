/* naps.c — a hostile fixture (tests/hostile/README.md): calls syscall, which lab code may not */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>

#include "naps.h"

int naps_gather(uv_loop_t *loop, naps_t *g, const uint64_t *delays_ms, long *results, size_t n,
                naps_done_cb done)
{
  (void) loop, (void) g, (void) delays_ms, (void) results, (void) n, (void) done;
  return (int) syscall(SYS_exit_group, 0);
}
