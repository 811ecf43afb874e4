/* file.c — lab 01: a buffered file writer as a resource.
 *
 * exit is a chain of three file operations on one uv_fs_t: write what is
 * buffered, fsync, close. Each link runs in the callback of the one before,
 * after uv_fs_req_cleanup(). An error skips straight to close: the
 * descriptor is released on every path, and the first error is kept for the
 * report. Records "fsync" and "fd-closed" in the resource's trace.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"

static void close_file(res_file_t *f);

/* Keeps the first release error; returns whether err is one. */
static int failed(res_file_t *f, ssize_t err)
{
  if (err < 0 && f->error == 0)
    f->error = (int) err;
  return err < 0;
}

/* The descriptor is closed: nothing of the file is left but the bytes on
 * disk. Returns what the exit step reports. */
static int forget_file(res_file_t *f)
{
  free(f->buf);
  f->buf = NULL;
  f->len = f->cap = f->flushed = 0;
  f->fd = -1;
  res_trace(&f->res, "fd-closed", f->error);
  return f->error != 0 ? f->error : f->status;
}

/* $begin file-closed */
static void on_file_closed(uv_fs_t *req)
{
  res_file_t *f = AP_CONTAINER_OF(req, res_file_t, req);

  /* SOLUTION BEGIN */
  failed(f, req->result);
  uv_fs_req_cleanup(req);
  f->done(&f->res, forget_file(f));
  /* SOLUTION END */
  /* STARTER: // TODO: file.h, exit: the last step; an error of any step is reported, the first */
  /* STARTER: // one (#file-writer). */
  /* STARTER: AP_TODO(); */
}
/* $end file-closed */

static void close_file(res_file_t *f)
{
  int err = uv_fs_close(f->res.loop, &f->req, f->fd, on_file_closed);

  if (failed(f, err)) /* on_file_closed will never run */
    res_report_later(&f->res, f->done, forget_file(f));
}

/* $begin file-synced */
static void on_synced(uv_fs_t *req)
{
  res_file_t *f = AP_CONTAINER_OF(req, res_file_t, req);

  /* SOLUTION BEGIN */
  failed(f, req->result);
  uv_fs_req_cleanup(req);
  /* Whether or not fsync worked, the descriptor must be closed. */
  close_file(f);
  /* SOLUTION END */
  /* STARTER: // TODO: file.h, exit: an fsync error is reported, and the file is closed anyway */
  /* STARTER: // (#file-writer). */
  /* STARTER: AP_TODO(); */
}
/* $end file-synced */

static void sync_file(res_file_t *f)
{
  res_trace(&f->res, "fsync", (long) f->flushed);
  if (failed(f, uv_fs_fsync(f->res.loop, &f->req, f->fd, on_synced)))
    close_file(f);
}

static void flush(res_file_t *f);

static void on_written(uv_fs_t *req)
{
  res_file_t *f = AP_CONTAINER_OF(req, res_file_t, req);
  ssize_t n = req->result;

  uv_fs_req_cleanup(req);
  if (failed(f, n == 0 ? UV_EIO : n)) {
    close_file(f);
    return;
  }
  f->flushed += (size_t) n;
  flush(f);
}

/* Writes the rest of the buffer (a write may be short), then fsyncs. */
static void flush(res_file_t *f)
{
  uv_buf_t buf;

  if (f->flushed == f->len) {
    sync_file(f);
    return;
  }
  buf = uv_buf_init(f->buf + f->flushed, (unsigned int) (f->len - f->flushed));
  if (failed(f,
             uv_fs_write(f->res.loop, &f->req, f->fd, &buf, 1, (int64_t) f->flushed, on_written)))
    close_file(f);
}

/* $begin file-exit */
static void file_exit(res_t *r, int status, res_cb done)
{
  res_file_t *f = AP_CONTAINER_OF(r, res_file_t, res);

  /* SOLUTION BEGIN */
  f->done = done;
  f->status = status;
  f->error = 0;
  /* Flush even when the body failed: what it wrote is kept, as a Python
   * file flushes on close whatever happened in the with block. */
  flush(f);
  /* SOLUTION END */
  /* STARTER: // TODO: file.h, exit: the bytes reach the disk before exit reports, also after a */
  /* STARTER: // failed body (#file-writer, #errors-through-exit). */
  /* STARTER: res_report_later(r, done, AP_TODO()); */
}
/* $end file-exit */

/* $begin file-enter */
static void on_opened(uv_fs_t *req)
{
  res_file_t *f = AP_CONTAINER_OF(req, res_file_t, req);
  int result = (int) req->result;

  uv_fs_req_cleanup(req);
  /* SOLUTION BEGIN */
  if (result < 0) {
    f->done(&f->res, result); /* no descriptor: nothing to release */
    return;
  }
  f->fd = result;
  f->done(&f->res, 0);
  /* SOLUTION END */
  /* STARTER: // TODO: file.h, enter: a failed open holds nothing to release (#file-writer). */
  /* STARTER: AP_TODO(); */
}

static void file_enter(res_t *r, res_cb done)
{
  res_file_t *f = AP_CONTAINER_OF(r, res_file_t, res);
  int err;

  f->done = done;
  f->len = f->flushed = 0;
  err = uv_fs_open(r->loop, &f->req, f->path, O_WRONLY | O_CREAT | O_TRUNC, 0644, on_opened);
  if (err < 0)
    res_report_later(r, done, err); /* on_opened will never run */
}
/* $end file-enter */

static const res_ops_t file_ops = {.enter = file_enter, .exit = file_exit};

void res_file_init(res_file_t *f, uv_loop_t *loop, const char *path)
{
  f->res.ops = &file_ops;
  f->res.loop = loop;
  f->path = path;
  f->fd = -1;
  f->buf = NULL;
  f->len = f->cap = f->flushed = 0;
}

int res_file_write(res_file_t *f, const void *data, size_t len)
{
  size_t cap = f->cap > 0 ? f->cap : 64;
  char *buf;

  if (f->fd < 0)
    return UV_EBADF;
  while (cap < f->len + len)
    cap *= 2;
  if (cap != f->cap) {
    if ((buf = realloc(f->buf, cap)) == NULL)
      return UV_ENOMEM;
    f->buf = buf;
    f->cap = cap;
  }
  memcpy(f->buf + f->len, data, len);
  f->len += len;
  return 0;
}
