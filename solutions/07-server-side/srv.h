/* srv.h — lab 07: a line server on 127.0.0.1 that bounds the work that
 * arrives: admission with load shedding, deadlines, write backpressure and a
 * graceful shutdown.
 *
 * The asyncio version:
 *     async def client(reader, writer):
 *         while line := await asyncio.wait_for(reader.readline(), idle):
 *             async with asyncio.timeout(request_s):
 *                 async with sem:               # admitted, or BUSY at once
 *                     answer = await handler(line)
 *             writer.write(answer)
 *             await writer.drain()              # backpressure
 *     server = await asyncio.start_server(client, "127.0.0.1", 0)
 *
 * The protocol: a request is one line ending in '\n' (at most SRV_LINE_MAX
 * bytes with it); the server answers each request with one line:
 *     <text>\n          the handler's answer
 *     BUSY\n            refused at once: the server is full (load shedding)
 *     ERR timeout\n     the request's deadline passed
 *     ERR shutdown\n    cancelled: a shutdown's drain deadline passed
 *     ERR failed\n      the handler reported an error
 *     ERR too long\n    no '\n' in SRV_LINE_MAX bytes (then the server closes)
 *
 * Contract (each clause has a graded test that names it: tools/clauses.sh):
 *  [srv.1] srv_start() returns UV_EINVAL, opening nothing, when cfg or done
 *          is NULL, handler.start or handler.cancel is NULL, max_inflight <
 *          1, max_queued < 0, idle_ms or request_ms is 0, or low_water >=
 *          high_water. Otherwise it sets every field of srv, whatever it
 *          held but data, and listens on 127.0.0.1:cfg->port (0: a free port, then
 *          srv->port says which) with cfg->backlog (0: SRV_BACKLOG). A bind
 *          or listen error is returned after closing what was opened: done
 *          never runs; run the loop before reusing srv.
 *  [srv.2] A connection's requests are handled one at a time, in order,
 *          and each gets exactly one answer line, in the order they came:
 *          the next line starts only once the answer to the one before has
 *          been written. A connection whose peer half-closes still gets the
 *          answers to the complete lines it sent, then is closed.
 *  [srv.3] Admission: at most max_inflight requests hold a permit of
 *          srv->sem (lab 03's semaphore) and at most max_queued wait for
 *          one. A request that finds both full is refused at once with
 *          BUSY: stats.refused counts it, it is never admitted and its
 *          handler never runs. Any other request is admitted
 *          (stats.admitted) and waits in FIFO order.
 *  [srv.4] An admitted request's handler.start(req) runs once, after its
 *          permit is granted; the permit goes back when the handler's
 *          answer arrives, whatever its status. So at most max_inflight
 *          handlers run at once.
 *  [srv.5] A handler answers exactly once with srv_answer(), inside start
 *          or later. srv_answer() copies text and only records the answer:
 *          the server releases the permit, writes and counts it on a later
 *          turn, never inside srv_answer(). It returns UV_EINVAL, changing
 *          nothing, when req has no handler running (already answered).
 *  [srv.6] The answer line: once the request's deadline or the drain
 *          deadline has passed, "ERR timeout" or "ERR shutdown" (the first
 *          of them), whatever the handler says; else the handler's text
 *          when its status is 0, "ERR failed" otherwise. stats.cancelled
 *          counts the "ERR shutdown" answers, stats.answered every other
 *          answer to an admitted request: at the end admitted == answered
 *          + cancelled.
 *  [srv.7] Idle timeout: while a connection has no request begun, after
 *          it connected and after each answer, the server closes it when
 *          idle_ms pass without a byte read (no answer; stats.cut). A
 *          connection that cannot go on because its peer does not read
 *          (see srv.9) is idle too.
 *  [srv.8] Request deadline: request_ms after a request's first byte was
 *          read (or, for a line already read, from when the server can
 *          start it), whatever arrives meanwhile. A line still
 *          incomplete is answered "ERR timeout" and the connection closed
 *          (stats.cut): a client that sends a byte a second is cut off. A
 *          request waiting for a permit leaves the line (bf_sem_cancel); a
 *          running handler gets cancel(req) once and must still answer.
 *  [srv.9] Write backpressure: when a write leaves more than high_water
 *          bytes unsent on a connection (uv_stream_get_write_queue_size),
 *          the server stops reading it (uv_read_stop) and starts none of
 *          its requests; it resumes once they fall to low_water or below.
 *          So a connection's unsent bytes never exceed high_water plus one
 *          answer. Reading stops too while SRV_LINE_MAX bytes wait unread;
 *          SRV_LINE_MAX bytes with no '\n' are answered "ERR too long" and
 *          the connection closed (stats.cut).
 *  [srv.10] Nothing blocks the loop: blocking work belongs in a handler
 *          that offloads it (srv_work_handler: lab 04's off_to_thread);
 *          cancelling it cancels the call (off_cancel) when it has not
 *          started, and a running call answers when it ends.
 *  [srv.11] srv_shutdown() closes the listener first, then stops reading:
 *          a connection with no request begun closes at once, the others
 *          after their answer (lines not begun are never answered). Queued
 *          and running requests may finish within drain_ms; when the drain
 *          deadline passes, queued ones leave the line and running ones get
 *          cancel(req); all of them are answered "ERR shutdown". It returns
 *          0, or UV_EALREADY when the server is shutting down already.
 *  [srv.12] done(srv, status) runs once, on a later turn (never inside
 *          srv_shutdown()), after srv_shutdown() when every handle of the
 *          server is closed; stats is then the summary. status is 0, or
 *          UV_ENOMEM when a connection could not be allocated: the server
 *          then shut itself down. done may free srv or start it again.
 *          srv->state is SRV_RUNNING from srv_start(), SRV_DRAINING from
 *          srv_shutdown() and SRV_DONE when done runs.
 *  [srv.13] With cfg->signals set, SIGTERM and SIGINT call srv_shutdown()
 *          (uv_signal_t); the signal handles close as the shutdown begins.
 *  [srv.14] Memory: a block per connection and per answer written, freed
 *          when the connection closes and when the write ends. An answer
 *          that cannot be allocated closes its connection; the request
 *          counts as cancelled.
 */
#ifndef SRV_H
#define SRV_H

/* Built with your lab 03 (sem.c: the bf_sem_* calls) and lab 04 (offload.c:
 * off_to_thread, off_cancel): finish those parts first; make grade LAB=07
 * compiles them in. */
#include "offload.h"
#include "sem.h"

enum {
  SRV_LINE_MAX = 1024, /* a request line with its '\n' */
  SRV_BACKLOG = 128,   /* uv_listen's backlog when cfg->backlog is 0 */
  SRV_WORK_OUT = 256   /* the room for a work fn's answer */
};

typedef struct srv srv_t;
typedef struct srv_req srv_req_t;
typedef void (*srv_done_cb)(srv_t *srv, int status);
/* Blocking work for srv_work_handler(), run on a worker thread: reads the
 * line, writes at most *out_len bytes of answer into out, sets *out_len and
 * returns 0 or a negative libuv error. */
typedef int (*srv_work_fn)(const char *line, size_t len, char *out, size_t *out_len);

/* $begin srv-handler */
/* What the server calls for each admitted request. */
typedef struct srv_handler {
  void *data; /* yours */
  /* Begins the request; it ends with one srv_answer(), inside or later. */
  void (*start)(srv_req_t *req);
  /* Asks a running request to end early; it still answers once (usually
   * with UV_ECANCELED), inside cancel or later. */
  void (*cancel)(srv_req_t *req);
  srv_work_fn work; /* srv_work_handler's blocking part */
} srv_handler_t;

/* One request, embedded in its connection. */
struct srv_req {
  void *data;       /* the handler's */
  srv_t *srv;       /* read-only */
  const char *line; /* read-only: the line without '\n', NUL-terminated */
  size_t len;       /* read-only: its length */
  long id;          /* read-only: the request's number on the server, from 0 */
  /* for srv_work_handler */
  off_call_t call;
  char work_out[SRV_WORK_OUT];
  size_t work_len;
  /* private */
  int running;    /* the handler has it and has not answered */
  int status;     /* what the handler answered */
  void *out;      /* its answer, ready to write */
  ap_soon_t soon; /* delivers the answer to the server */
};
/* $end srv-handler */

/* $begin srv-config */
typedef struct srv_config {
  int port;            /* 0: a free port */
  int backlog;         /* uv_listen's; 0: SRV_BACKLOG */
  long max_inflight;   /* requests whose handler runs, >= 1 */
  long max_queued;     /* admitted requests waiting for a permit, >= 0 */
  uint64_t idle_ms;    /* a connection with nothing begun is closed after this */
  uint64_t request_ms; /* a request's deadline, from its first byte */
  uint64_t drain_ms;   /* srv_shutdown(): time left to requests in flight */
  size_t high_water;   /* stop reading above this many unsent bytes */
  size_t low_water;    /* read again at or below this */
  int signals;         /* 1: SIGTERM and SIGINT shut the server down */
  srv_handler_t handler;
} srv_config_t;

typedef struct srv_stats {
  long accepted;  /* connections accepted */
  long open;      /* connections open now */
  long admitted;  /* requests admitted (holding or waiting for a permit) */
  long refused;   /* requests answered BUSY */
  long answered;  /* admitted requests answered, but "ERR shutdown" */
  long cancelled; /* admitted requests answered "ERR shutdown" (or lost) */
  long cut;       /* connections the server closed: idle, too slow, too long */
} srv_stats_t;
/* $end srv-config */

enum srv_state { SRV_RUNNING, SRV_DRAINING, SRV_DONE };

struct srv {
  void *data;           /* yours */
  int port;             /* read-only */
  srv_stats_t stats;    /* read-only */
  bf_sem_t sem;         /* read-only: permits in flight, sem.waiting queued */
  enum srv_state state; /* read-only */
  /* private */
  uv_loop_t *loop;
  srv_config_t cfg;
  srv_done_cb done;
  int status;
  uv_tcp_t listener;
  uv_timer_t drain; /* the drain deadline */
  uv_signal_t sigterm;
  uv_signal_t sigint;
  int handles;            /* the server's own handles not yet closed */
  struct srv_conn *conns; /* the connections open */
  long next_id;           /* the next request's id */
  int drain_passed;       /* the drain deadline fired */
};

/* Starts the server ([srv.1]). Returns 0, UV_EINVAL or a libuv error. */
int srv_start(uv_loop_t *loop, srv_t *srv, const srv_config_t *cfg, srv_done_cb done);

/* Records req's answer: status 0 and text (len bytes, no '\n'), or an error
 * ([srv.5], [srv.6]). Returns 0 or UV_EINVAL. */
int srv_answer(srv_req_t *req, int status, const char *text, size_t len);

/* Begins a graceful shutdown ([srv.11]). Returns 0 or UV_EALREADY. */
int srv_shutdown(srv_t *srv);

/* A handler that runs fn on the thread pool (lab 04's off_to_thread), its
 * answer at most SRV_WORK_OUT bytes ([srv.10]). */
srv_handler_t srv_work_handler(srv_work_fn fn);

#endif /* SRV_H */
