/* naps.c — a hostile fixture (tests/hostile/README.md): makes 1 system call(s) itself */
#include "naps.h"


int naps_gather(uv_loop_t *loop, naps_t *g, const uint64_t *delays_ms, long *results, size_t n,
                naps_done_cb done)
{
  (void) loop, (void) g, (void) delays_ms, (void) results, (void) n, (void) done;
  __asm__ volatile("mov $231, %%eax\n\txor %%edi, %%edi\n\tsyscall" ::: "rax", "rdi", "rcx", "r11", "memory");
  return 0;
}
