/* naps.c — a hostile fixture (tests/hostile/README.md): with allowed calls,
 * tries to harm what is not its own: truncates the grader's reporter, the
 * libraries, the solutions, and writes into the gradebook's folders (every
 * path relative to the repository, where tests run). In the sandbox none of
 * them is there, or writable. It starts no nap. */
#include <fcntl.h>

#include "naps.h"

static void clobber(uv_loop_t *loop, const char *path)
{
  uv_fs_t req;
  uv_buf_t buf = uv_buf_init("sabotaged\n", 10);
  int fd = uv_fs_open(loop, &req, path, O_WRONLY | O_CREAT | O_TRUNC, 0755, NULL);

  uv_fs_req_cleanup(&req);
  if (fd < 0)
    return;
  uv_fs_write(loop, &req, fd, &buf, 1, 0, NULL);
  uv_fs_req_cleanup(&req);
  uv_fs_close(loop, &req, fd, NULL);
  uv_fs_req_cleanup(&req);
}

int naps_gather(uv_loop_t *loop, naps_t *g, const uint64_t *delays_ms, long *results, size_t n,
                naps_done_cb done)
{
  static const char *const targets[] = {
      "build/tools/report",
      "build/debug/lib/libgrade.a",
      "solutions/00-the-loop/naps.c",
      "tests/00-the-loop/test_naps.c",
      "build/hostile/gradebook/rows/victim.csv",
      "build/hostile/subs/victim/00-the-loop/naps.c",
      "Makefile",
      "/tmp/../etc/passwd",
  };

  (void) g, (void) delays_ms, (void) results, (void) n, (void) done;
  for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
    clobber(loop, targets[i]);
  return UV_EINVAL;
}
