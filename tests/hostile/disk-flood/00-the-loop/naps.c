/* naps.c — a hostile fixture (tests/hostile/README.md): writes to /tmp until
 * the disk is full (the sandbox's /tmp is small and private), and starts no
 * nap. */
#include <fcntl.h>

#include "naps.h"

int naps_gather(uv_loop_t *loop, naps_t *g, const uint64_t *delays_ms, long *results, size_t n,
                naps_done_cb done)
{
  static char block[1 << 20];
  uv_fs_t req;
  uv_buf_t buf = uv_buf_init(block, sizeof(block));
  int fd;

  (void) g, (void) delays_ms, (void) results, (void) n, (void) done;
  fd = uv_fs_open(loop, &req, "/tmp/flood", O_WRONLY | O_CREAT | O_TRUNC, 0644, NULL);
  uv_fs_req_cleanup(&req);
  while (fd >= 0 && uv_fs_write(loop, &req, fd, &buf, 1, -1, NULL) > 0)
    uv_fs_req_cleanup(&req);
  uv_fs_req_cleanup(&req);
  return UV_EIO;
}
