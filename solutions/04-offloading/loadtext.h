/* loadtext.h — lab 04: read a whole file on the thread pool.
 *
 * The asyncio version:
 *     text = await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
 *
 * The reading itself is plain blocking POSIX code (open, read, close), the
 * kind a synchronous library does; off_to_thread keeps it off the loop.
 *
 * Usage rules:
 *  - cb runs once, on the loop thread, on a later loop turn. On success
 *    status is 0 and text holds the file's bytes, NUL-terminated, len of
 *    them (the NUL not counted); the bytes are not decoded or checked.
 *    On failure status is a negative libuv error (UV_ENOENT: no such file,
 *    UV_EISDIR: a directory, UV_EACCES, ...), text is NULL and len 0.
 *  - cb owns text and frees it with free().
 *  - path is copied: the caller may reuse it once off_load_text returned.
 *  - req must stay valid until cb has run; cb may free it.
 *  - If off_load_text() returns an error, cb is never called.
 */
#ifndef LOADTEXT_H
#define LOADTEXT_H

#include "offload.h"

typedef struct off_text off_text_t;
typedef void (*off_text_cb)(off_text_t *req, int status, char *text, size_t len);

struct off_text {
  void *data; /* yours */
  /* private */
  off_call_t call;
  char *path; /* our copy, freed before cb runs */
  size_t len; /* written by the worker, next to the text */
  off_text_cb cb;
};

/* Returns 0, UV_EINVAL (path or cb is NULL) or UV_ENOMEM. */
int off_load_text(uv_loop_t *loop, off_text_t *req, const char *path, off_text_cb cb);

#endif /* LOADTEXT_H */
