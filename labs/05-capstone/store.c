/* store.c — lab 05 (given): the blocking side of storing a body, and the
 * words for a failure. cap_store_file() blocks in open/write/close: call it
 * on a worker thread, never on the loop. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"

/* $begin cap-fnv1a */
uint64_t cap_fnv1a(const void *data, size_t len)
{
  const unsigned char *p = data;
  uint64_t h = 14695981039346656037ULL; /* the 64-bit offset basis */

  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 1099511628211ULL; /* the 64-bit FNV prime */
  }
  return h;
}
/* $end cap-fnv1a */

int cap_store_file(const char *path, const char *data, size_t len)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int err = 0;

  if (fd < 0)
    return -errno; /* libuv's error codes are negated errno values on Unix */
  while (len > 0 && err == 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno != EINTR)
      err = -errno;
    else if (n > 0)
      data += n, len -= (size_t) n;
  }
  if (close(fd) != 0 && err == 0)
    err = -errno;
  return err;
}

const char *cap_reason(const cap_result_t *r, char *buf, size_t size)
{
  if (r->status == UV_EPROTO && r->http != 0)
    snprintf(buf, size, "HTTP %d", r->http);
  else if (r->status == UV_ECANCELED)
    snprintf(buf, size, "cancelled");
  else if (r->status == UV_EOF)
    snprintf(buf, size, "connection closed before the whole answer");
  else
    snprintf(buf, size, "%s (%s)", uv_strerror(r->status), uv_err_name(r->status));
  return buf;
}
