/* echo.h — lab 03: one real request as a bf_start_fn (given, not graded).
 *
 * bf_echo_start(op) connects to 127.0.0.1:port, sends "item <n>\n", reads
 * the echo back, half-closes, waits for the server to close its side, then
 * closes the socket and reports with bf_op_done(): status 0 and value the
 * bytes echoed; UV_EBUSY when the server answered "BUSY\n" (it refused the
 * connection); UV_EPROTO for any other answer; or the libuv error met on
 * the way.
 *
 * Waiting for the server's end-of-file before closing makes "done" mean
 * "the server has let go of this connection": the next request, started
 * from this one's permit, can never meet it still counted as open.
 *
 * Usage rules:
 *  - op->ctx must point to a bf_echo_target_t that outlives every request.
 *  - Each request owns its socket until the socket's close callback, where
 *    its memory is freed and bf_op_done() is called.
 */
#ifndef BF_ECHO_H
#define BF_ECHO_H

#include "fanout.h"

typedef struct bf_echo_target {
  int port;             /* the server on 127.0.0.1 */
  ap_gauge_t *inflight; /* optional: raised from start to close */
  ap_trace_t *trace;    /* optional: "open", then "close" or "fail"; value: in flight */
} bf_echo_target_t;

void bf_echo_start(bf_op_t *op);

#endif /* BF_ECHO_H */
