/* file.h — lab 01: a buffered file writer as a resource, on uv_fs_*.
 *
 * enter opens (creating or truncating) the file; the body appends with
 * res_file_write(), which only buffers; exit writes the buffer, fsyncs and
 * closes. When the using block's final callback runs, the bytes are in the
 * file and the descriptor is closed, whatever the body reported.
 *
 * Usage rules:
 *  - res_file_init() once; path must stay valid while the resource is used.
 *  - res_file_write() only while the resource is held (in the body).
 *  - exit reports the body's status, unless writing, fsync or close failed:
 *    then the first of those errors (a release error replaces the body's).
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
/* Appends len bytes to the buffer. Returns 0, UV_EBADF (not held) or
 * UV_ENOMEM. */
int res_file_write(res_file_t *f, const void *data, size_t len);

#endif /* FILE_H */
