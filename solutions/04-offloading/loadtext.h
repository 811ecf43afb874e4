/* loadtext.h — lab 04: read a whole file on the thread pool.
 *
 * The asyncio version:
 *     text = await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
 *
 * The reading itself is plain blocking POSIX code (open, read, close), the
 * kind a synchronous library does; off_to_thread keeps it off the loop.
 *
 * Usage rules: req must stay valid until cb has run. Contract (each clause
 * has a graded test that names it: tools/clauses.sh):
 *  [text.1] cb runs exactly once per accepted request, on the loop thread,
 *           on a later loop turn, never inside off_load_text(); the file is
 *           opened and read on the thread pool.
 *  [text.2] On success status is 0 and text holds every byte of the file as
 *           it is (NUL bytes too; nothing decoded or checked), followed by a
 *           NUL; len counts the bytes, not that NUL. An empty file is "", 0.
 *  [text.3] On failure status is the negative libuv error of the open() or
 *           read() that failed (UV_ENOENT: no such file, UV_EISDIR: a
 *           directory, UV_EACCES, ...), or UV_ENOMEM when memory runs out
 *           while reading; text is NULL and len 0.
 *  [text.4] cb owns text and frees it with free(). When cb runs nothing else
 *           of the request is allocated or open (the file is closed).
 *  [text.5] path is copied: the caller may reuse or overwrite it once
 *           off_load_text() returned.
 *  [text.6] off_load_text() returns UV_EINVAL when path or cb is NULL, and
 *           UV_ENOMEM when it cannot copy path: then cb is never called and
 *           nothing is left allocated.
 *  [text.7] The caller owns data, which the lab never touches;
 *           off_load_text() sets every private field of req, whatever it
 *           held: once cb has run (from inside cb too) req may load again,
 *           and cb may free req.
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

/* Returns 0, UV_EINVAL or UV_ENOMEM ([text.6]). */
int off_load_text(uv_loop_t *loop, off_text_t *req, const char *path, off_text_cb cb);

#endif /* LOADTEXT_H */
