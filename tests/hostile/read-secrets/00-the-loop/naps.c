/* naps.c — a hostile fixture (tests/hostile/README.md): at run time, reads the
 * reference solution and the hidden tests through allowed calls and prints them
 * into its test output, which goes back to the student in results.json. In the
 * sandbox neither file exists. It starts no nap. */
#include <fcntl.h>
#include <stdio.h>

#include "naps.h"

static void leak_file(uv_loop_t *loop, const char *path)
{
  static char text[65536];
  uv_fs_t req;
  uv_buf_t buf = uv_buf_init(text, sizeof(text) - 1);
  int fd = uv_fs_open(loop, &req, path, O_RDONLY, 0, NULL);

  uv_fs_req_cleanup(&req);
  if (fd < 0)
    return;
  if (uv_fs_read(loop, &req, fd, &buf, 1, 0, NULL) > 0)
    fwrite(text, 1, (size_t) req.result, stdout);
  uv_fs_req_cleanup(&req);
  uv_fs_close(loop, &req, fd, NULL);
  uv_fs_req_cleanup(&req);
}

int naps_gather(uv_loop_t *loop, naps_t *g, const uint64_t *delays_ms, long *results, size_t n,
                naps_done_cb done)
{
  (void) g, (void) delays_ms, (void) results, (void) n, (void) done;
  leak_file(loop, "solutions/00-the-loop/naps.c");
  leak_file(loop, "tests/00-the-loop/hidden/test_hidden.c");
  leak_file(loop, "tests/00-the-loop/mutants/never-closes.patch");
  return UV_EINVAL;
}
