/* conn.h — lab 01: a TCP connection to 127.0.0.1 as a resource.
 *
 * enter connects, exit closes: the connection's handle lives from the one to
 * the other. enter allocates it; the close callback frees it, because libuv
 * keeps pointers into a handle until that callback has run.
 *
 * Contract (each clause has a graded test that names it: tools/clauses.sh):
 *  [conn.1] res_conn_init() once, then use &c->res with res_using() or in a
 *           stack. The caller sets res.id, res.trace and res.data; c works
 *           whatever its other fields held before res_conn_init().
 *  [conn.2] enter allocates c->tcp and connects it to 127.0.0.1:port; it
 *           reports 0 once connected. c->tcp is the connection while the
 *           resource is held, NULL otherwise.
 *  [conn.3] A failed enter (connection refused; UV_ENOMEM when the handle
 *           cannot be allocated) reports its error on a later turn, never
 *           inside res_enter(), and only once the handle it made is closed
 *           and freed: c->tcp is NULL and no handle is left.
 *  [conn.4] exit closes the handle and reports the status it received, from
 *           the close callback, after freeing the handle: when the block's
 *           final runs, c->tcp is NULL and the handle is gone from the loop.
 *  [conn.5] Once a block's final ran, c may be used again at once, from
 *           final included: the next enter makes a new connection.
 *  [conn.6] res_conn_echo() only in the body: it sends len bytes of text and
 *           reads len bytes into reply, then calls cb(c, 0) on a later turn;
 *           cb(c, error) if the connection fails or ends first. An echo
 *           still running when exit starts is cut off: cb never runs.
 *  [conn.7] res_conn_echo() returns UV_EINVAL (len 0, cb NULL, or the
 *           resource is not held: before enter, after exit) or UV_EBUSY (an
 *           echo is running); then cb is never called.
 *  [conn.8] The resource's trace records "tcp-open" (value: the port) when
 *           the handle is made and "tcp-closed" (value: the status reported)
 *           once it is freed, between "enter"/"entered" and "exit"/"exited".
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
 * calls cb(c, 0) ([conn.6]). Returns 0, UV_EINVAL or UV_EBUSY ([conn.7]). */
int res_conn_echo(res_conn_t *c, const char *text, char *reply, size_t len, res_echo_cb cb);

#endif /* CONN_H */
