/* naps.c — a hostile fixture (tests/hostile/README.md): a daemon that escapes
 * the test's process group (double fork, setsid, exec with an empty
 * environment) to rewrite results after grading. objcheck.sh refuses fork,
 * setsid and execve; the sandbox's PID namespace would kill it anyway
 * (tools/sandbox-test.sh tries that part alone). */
#include <stddef.h>
#include <unistd.h>

#include "naps.h"

int naps_gather(uv_loop_t *loop, naps_t *g, const uint64_t *delays_ms, long *results, size_t n,
                naps_done_cb done)
{
  static char *const argv[] = {"/bin/sh", "-c", "sleep 5; echo forged > ../rows.csv", NULL};
  static char *const envp[] = {NULL};

  (void) loop, (void) g, (void) delays_ms, (void) results, (void) n, (void) done;
  if (fork() == 0) {
    setsid();
    if (fork() == 0)
      execve(argv[0], argv, envp);
  }
  return 0;
}
