/* http.h — lab 05 (given): the client side of the upstream's HTTP subset.
 *
 * One request per connection: cap_http_request() writes the request line,
 * cap_http_parse() reads the answer as it arrives. The upstream's protocol
 * is described in helpers/ap.h (ap_upstream_t).
 *
 * Usage rules:
 *  - Zero a cap_http_t before each response (cap_http_reset).
 *  - Read into cap_http_space(), add what arrived to len, call
 *    cap_http_parse(): UV_EAGAIN means "read more".
 *  - The body is buf + head_len, body_len bytes long, once parse returned 0.
 */
#ifndef CAP_HTTP_H
#define CAP_HTTP_H

#include "ap.h"

enum { CAP_HTTP_MAX = AP_UPSTREAM_BODY_MAX + 512 };

typedef struct cap_http {
  char buf[CAP_HTTP_MAX + 1];
  size_t len;      /* bytes in buf */
  size_t head_len; /* status line and headers, blank line included */
  size_t body_len; /* Content-Length */
  int status;      /* the HTTP status; 0 until the head is complete */
} cap_http_t;

void cap_http_reset(cap_http_t *h);
/* "GET /items/<item> HTTP/1.1" and its headers, in out. Returns the length. */
size_t cap_http_request(long item, char *out, size_t size);
/* Where the next read goes. len 0 means the buffer is full. */
uv_buf_t cap_http_space(cap_http_t *h);
/* Returns 0 when the whole response is in buf, UV_EAGAIN when more must be
 * read, UV_EPROTO when it is not the HTTP the upstream speaks (or too long
 * for the buffer). */
int cap_http_parse(cap_http_t *h);

#endif /* CAP_HTTP_H */
