/* naps.c — a hostile fixture (tests/hostile/README.md): looks for the grader's token in its own
 * memory (the old attack), then plays the grader's side of the report pipe with allowed calls,
 * and starts no nap. Its tests must still fail. */
#include <string.h>

#include "naps.h"

static void put(uv_loop_t *loop, int fd, char *data, size_t len)
{
  uv_fs_t req;
  uv_buf_t buf = uv_buf_init(data, (unsigned) len);

  uv_fs_write(loop, &req, fd, &buf, 1, -1, NULL);
  uv_fs_req_cleanup(&req);
}

/* 32 lowercase hex digits, as the old token was. */
static int looks_like_token(const char *p)
{
  for (int i = 0; i < 32; i++)
    if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
      return 0;
  return 1;
}

int naps_gather(uv_loop_t *loop, naps_t *g, const uint64_t *delays_ms, long *results, size_t n,
                naps_done_cb done)
{
  char nonce[33] = "E";
  const char *p = (const char *) &nonce;
  uv_fs_t req;
  uv_buf_t buf = uv_buf_init(nonce, 32);

  (void) g, (void) delays_ms, (void) results, (void) n, (void) done;
  for (size_t i = 0; i < 4096; i++)
    if (looks_like_token(p + i))
      memcpy(nonce + 1, p + i, 32);
  put(loop, 3, nonce, 1);
  uv_fs_read(loop, &req, 4, &buf, 1, -1, NULL);
  uv_fs_req_cleanup(&req);
  put(loop, 3, nonce, 32);
  return 0;
}
