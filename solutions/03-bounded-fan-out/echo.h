/* echo.h — lab 03: one real request as a bf_start_fn (given, not graded on
 * its own: the tests run it through bf_fetch_all()).
 *
 * bf_echo_start(op) connects to 127.0.0.1:port, sends "item <n>\n", reads
 * the echo back, half-closes, waits for the server to close its side, then
 * closes the socket and reports with bf_op_done().
 *
 * Usage rules:
 *  - op->ctx must point to a bf_echo_target_t that outlives every request.
 *
 * Contract (each clause has a graded test that names it: tools/clauses.sh):
 *  [echo.1] Each request reports once, with bf_op_done() from its socket's
 *           close callback, after freeing its memory: status 0 and value
 *           the bytes echoed (the length of "item <n>\n").
 *  [echo.2] A request fails with UV_EBUSY when the server answered "BUSY\n"
 *           (it turned the connection away), UV_EPROTO for any other
 *           answer, or the libuv error met on the way (UV_ECONNREFUSED when
 *           nothing listens).
 *  [echo.3] "Done" means the server has let go of the connection (the
 *           request waits for its end-of-file before closing): a next
 *           request started from this one's permit never meets it still
 *           counted as open, so limit L against a server of L connections
 *           turns nothing away.
 *  [echo.4] target->inflight (optional) is raised as a request starts and
 *           lowered in its close callback, before bf_op_done(); the trace
 *           (optional) gets "open", then "close" or "fail", with the number
 *           in flight as value.
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
