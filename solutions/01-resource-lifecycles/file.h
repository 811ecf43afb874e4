/* file.h — lab 01: a buffered file writer as a resource, on uv_fs_*.
 *
 * enter opens (creating or truncating) the file; the body appends with
 * res_file_write(), which only buffers; exit writes the buffer, fsyncs and
 * closes. When the using block's final callback runs, the bytes are in the
 * file and the descriptor is closed, whatever the body reported.
 *
 * Contract (each clause has a graded test that names it: tools/clauses.sh):
 *  [file.1] res_file_init() once; path must stay valid while the resource
 *           is used. The caller sets res.id, res.trace and res.data; f
 *           works whatever its other fields held before res_file_init().
 *  [file.2] enter opens path for writing (created, or truncated); it reports
 *           0 with f->fd open, or the open's error with no descriptor: then
 *           neither body nor exit runs.
 *  [file.3] res_file_write() only copies into memory; it returns 0, UV_EBADF
 *           when the resource is not held (before enter, after exit; nothing
 *           is kept) or UV_ENOMEM (nothing of this call is kept, the bytes
 *           before it are).
 *  [file.4] exit writes the whole buffer, fsyncs and closes, whatever the body
 *           reported: when final runs, every byte the body wrote is in the
 *           file, the descriptor is closed, f->fd is -1 and the buffer freed.
 *  [file.5] exit reports the body's status, unless writing, fsync or close
 *           failed: then the first of those errors, which replaces the
 *           body's. The descriptor is closed on every path.
 *  [file.6] Once a block's final ran, f may be used again: the next enter
 *           truncates the file, and nothing of the last use (bytes, errors)
 *           is left.
 *  [file.7] The resource's trace records "fsync" (value: the bytes written)
 *           and then "fd-closed" (value: the first release error, or 0),
 *           between "exit" and "exited".
 */
#ifndef FILE_H
#define FILE_H

#include "res.h"

/* $begin file-type */
typedef struct res_file {
  res_t res; /* the resource: enter opens, exit flushes and closes */
  const char *path;
  uv_file fd; /* read-only: open while held, -1 otherwise */
  /* private */
  uv_fs_t req; /* one file operation at a time */
  char *buf;   /* what the body wrote, freed when the file is closed */
  size_t len;
  size_t cap;
  size_t flushed; /* bytes of buf already in the file */
  int status;     /* what exit reports unless a release step fails */
  int error;      /* the first release error, or 0 */
  res_cb done;    /* the step in progress */
} res_file_t;
/* $end file-type */

void res_file_init(res_file_t *f, uv_loop_t *loop, const char *path);
/* Appends len bytes to the buffer. Returns 0, UV_EBADF or UV_ENOMEM
 * ([file.3]). */
int res_file_write(res_file_t *f, const void *data, size_t len);

#endif /* FILE_H */
