/* http.c — lab 05 (given): the request line and a response parser that
 * accepts what arrived so far. Strict on purpose: the upstream always sends
 * a Content-Length, so a response without one is a protocol error. */
#include <stdlib.h>
#include <string.h>

#include "http.h"

void cap_http_reset(cap_http_t *h)
{
  h->len = h->head_len = h->body_len = 0;
  h->status = 0;
}

size_t cap_http_request(long item, char *out, size_t size)
{
  int n = snprintf(out, size,
                   "GET /items/%ld HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "User-Agent: workbook-fetcher\r\nConnection: close\r\n\r\n",
                   item);

  return n > 0 && (size_t) n < size ? (size_t) n : 0;
}

uv_buf_t cap_http_space(cap_http_t *h)
{
  return uv_buf_init(h->buf + h->len, (unsigned int) (CAP_HTTP_MAX - h->len));
}

/* Content-Length's value in the head, or -1. */
static long content_length(const char *head)
{
  const char *p = strstr(head, "\r\nContent-Length:");
  char *end;
  long v;

  if (p == NULL)
    return -1;
  v = strtol(p + 17, &end, 10);
  return end != p + 17 && v >= 0 ? v : -1;
}

static int parse_head(cap_http_t *h)
{
  char *end = strstr(h->buf, "\r\n\r\n");
  long length;

  if (end == NULL)
    return h->len == CAP_HTTP_MAX ? UV_EPROTO : UV_EAGAIN;
  *end = '\0'; /* the head as a string, for strstr; restored below */
  length = content_length(h->buf);
  if (sscanf(h->buf, "HTTP/1.1 %3d ", &h->status) != 1)
    h->status = 0;
  *end = '\r';
  if (h->status < 100 || length < 0)
    return UV_EPROTO;
  h->head_len = (size_t) (end + 4 - h->buf);
  h->body_len = (size_t) length;
  return h->head_len + h->body_len > CAP_HTTP_MAX ? UV_EPROTO : 0;
}

int cap_http_parse(cap_http_t *h)
{
  int err;

  h->buf[h->len] = '\0';
  if (h->status == 0 && (err = parse_head(h)) != 0)
    return err;
  return h->len >= h->head_len + h->body_len ? 0 : UV_EAGAIN;
}
