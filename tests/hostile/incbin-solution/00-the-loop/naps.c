/* naps.c — a hostile fixture (tests/hostile/README.md): pulls the reference
 * solution into its object with the assembler's .incbin, which no #include
 * check sees, to print it at run time. Compiled in the sandbox, where
 * solutions/ does not exist, it does not build. */
#include "naps.h"

__asm__(
    ".section .rodata\n.globl stolen\nstolen:\n.incbin \"solutions/00-the-loop/naps.c\"\n.byte 0\n"
    ".text\n");

int naps_gather(uv_loop_t *loop, naps_t *g, const uint64_t *delays_ms, long *results, size_t n,
                naps_done_cb done)
{
  (void) loop, (void) g, (void) delays_ms, (void) results, (void) n, (void) done;
  return UV_EINVAL;
}
