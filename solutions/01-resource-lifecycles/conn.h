/* conn.h — lab 01: a TCP connection to 127.0.0.1 as a resource.
 *
 * enter connects, exit closes: the connection's handle lives from the one to
 * the other. enter allocates it; the close callback frees it, because libuv
 * keeps pointers into a handle until that callback has run.
 *
 * Usage rules:
 *  - res_conn_init() once, then use &c->res with res_using() or in a stack.
 *  - c->tcp is the connection while the resource is held, NULL otherwise.
 *  - res_conn_echo() only in the body. An echo still running when exit
 *    starts is cut off: its callback never runs.
 */
#ifndef CONN_H
#define CONN_H

#include "res.h"

typedef struct res_conn res_conn_t;
typedef void (*res_echo_cb)(res_conn_t *c, int status);

/* $begin conn-type */
struct res_conn {
  res_t res;     /* the resource: enter connects, exit closes */
  int port;      /* where to connect, on 127.0.0.1 */
  uv_tcp_t *tcp; /* read-only: allocated by enter, freed on close */
  /* private */
  uv_connect_t connect;
  res_cb done; /* the step in progress */
  int status;  /* what that step reports once the handle is closed */
  /* private: the echo in progress */
  uv_write_t write;
  char *reply;
  size_t want;
  size_t got;
  res_echo_cb echo_cb;
};
/* $end conn-type */

void res_conn_init(res_conn_t *c, uv_loop_t *loop, int port);
/* Sends len bytes of text and reads len bytes into reply (the echo), then
 * calls cb(c, 0); cb(c, error) if the connection fails or ends first.
 * Returns 0, UV_EINVAL (len 0, or the resource is not held) or UV_EBUSY
 * (an echo is running); then cb is never called. */
int res_conn_echo(res_conn_t *c, const char *text, char *reply, size_t len, res_echo_cb cb);

#endif /* CONN_H */
