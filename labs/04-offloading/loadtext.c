/* loadtext.c — lab 04: load_text through off_to_thread.
 *
 * load_fn is the blocking function: it runs on a worker thread, so it may
 * wait on the disk as long as it likes, and it touches only its own request
 * (the path and len fields) and the buffer it returns. Errors come from
 * errno, which is per thread, translated to libuv's negative codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loadtext.h"

enum { FIRST_CAPACITY = 4096 };

/* $begin load-read-all */
/* Reads fd to its end into a fresh NUL-terminated buffer. Returns 0 or a
 * libuv error; on error nothing is left allocated. */
static int read_all(int fd, char **text, size_t *len)
{
  size_t cap = FIRST_CAPACITY, n = 0;
  char *buf = malloc(cap), *bigger;
  ssize_t got;

  // TODO: loadtext.h [text.2], [text.3]: every byte, then a NUL; on error nothing
  // left allocated (#load-text).
  free(buf);
  return AP_TODO();
}
/* $end load-read-all */

/* $begin load-fn */
/* Worker thread: open, read, close — all of it blocking. */
static int load_fn(void *arg, void **result)
{
  off_text_t *req = arg;
  char *text = NULL;
  int fd, err;

  // TODO: loadtext.h [text.1], [text.3], [text.4]: the file read and closed on
  // this worker; open's and read's errors as libuv errors (#load-text).
  return AP_TODO();
}
/* $end load-fn */

/* Loop thread. */
static void on_loaded(off_call_t *call, int status, void *result)
{
  off_text_t *req = AP_CONTAINER_OF(call, off_text_t, call);

  free(req->path);
  req->path = NULL;
  req->cb(req, status, result, status == 0 ? req->len : 0);
}

/* $begin load-text */
int off_load_text(uv_loop_t *loop, off_text_t *req, const char *path, off_text_cb cb)
{
  if (path == NULL || cb == NULL)
    return UV_EINVAL;
  req->path = strdup(path);
  if (req->path == NULL)
    return UV_ENOMEM;
  req->cb = cb;
  req->len = 0;
  /* Cannot fail: load_fn and on_loaded are not NULL. */
  return off_to_thread(loop, &req->call, load_fn, req, on_loaded);
}
/* $end load-text */
