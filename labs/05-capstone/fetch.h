/* fetch.h — lab 05, the capstone: a polite fetcher for N items of an HTTP
 * upstream, built from the labs before it.
 *
 * The asyncio version:
 *     async def fetch_all(items, limit, retries, out_dir):
 *         sem = asyncio.Semaphore(limit)                        # chapter 03
 *         async def one(item):
 *             for attempt in range(1 + retries):
 *                 async with sem:
 *                     async with connect(HOST, PORT) as conn:   # chapter 01
 *                         status, body = await conn.get(f"/items/{item}")
 *                 if status == 200:
 *                     break
 *             else:
 *                 raise FetchError(item, status)
 *             await asyncio.to_thread(store, out_dir, item, body)  # chapter 04
 *             return item, fnv1a(body)
 *         for k, done in enumerate(asyncio.as_completed(map(one, items)), 1):
 *             print(f"{k}/{len(items)}", await done)            # chapter 02
 *
 * One item's life: wait for a permit (bf_sem_t, lab 03), hold a connection
 * in a using block while one request is exchanged (res_using_t and
 * res_conn_t, lab 01), give the permit back once the connection is closed,
 * then checksum and write the body on the thread pool (off_limiter_t, lab
 * 04), and report the result the moment it is known (lab 02).
 *
 * Usage rules: zero a cap_fetch_t, fill in its settings, call
 * cap_fetch_start(). store runs on a worker thread: it must not touch the
 * loop.
 *
 * Contract (each clause has a graded test that names it: tools/clauses.sh):
 *  [cap.1] Each attempt holds one permit of limit from before its
 *          connection opens until after that connection's close callback
 *          ran: never more than limit connections are open at once, and
 *          with enough items exactly limit are.
 *  [cap.2] Items wait for their first permit in input order. A failed
 *          request with attempts left queues again for a permit, behind
 *          every item already waiting, like a new request: never at once,
 *          never with the permit it held.
 *  [cap.3] A request fails with the read error (UV_ECONNRESET, UV_EOF when
 *          the answer is cut short, ...) or UV_EPROTO for an answer other
 *          than 200 (http holds that status). An item gets at most
 *          1 + retries requests; it is fetched as soon as one succeeds.
 *          attempts counts its requests, summary.retries those beyond the
 *          first of each item.
 *  [cap.4] A fetched body is checksummed (FNV-1a of the body alone) and
 *          written by store (cap_store_file when NULL) on the pool, never on
 *          the loop thread, at most writers (0: 2) at once. A store error is
 *          the item's result, as it is: no request is retried for it
 *          (checksum and bytes mean something only when status is 0).
 *  [cap.5] Every item gets exactly one result, and a failure, in any
 *          position, disturbs no other item. on_result (optional) runs once
 *          per item, the moment its result is known, in that order, with
 *          k = 1, 2, ..., n; results[i] is final when it runs.
 *  [cap.6] done runs exactly once, after the n-th result, when no
 *          connection, permit or write of the fetch is left, with the
 *          summary (fetched, failed, cancelled, retries); done may free f,
 *          results and the items. With n == 0 it runs on a later loop turn,
 *          never inside cap_fetch_start().
 *  [cap.7] cap_fetch_start() returns UV_EINVAL (done or dir NULL, limit < 1,
 *          retries < 0, no port, or n > 0 with items or results NULL) or
 *          UV_ENOMEM; on an error no callback is ever called and nothing
 *          is left open or allocated.
 *  [cap.8] cap_fetch_stop() ends the fetch early, in whatever state each
 *          item is: waiting for a permit (granted one included), connecting
 *          or exchanging, it ends with UV_ECANCELED, its connection closed,
 *          and is not retried; a fetched body is still written and
 *          reported. No callback runs inside cap_fetch_stop(). It returns 0,
 *          or UV_EALREADY when a stop was asked before or done has run.
 *  [cap.9] The caller sets data and the settings; cap_fetch_start() sets
 *          every other field, whatever it held: once done has run, f may be
 *          started again (from done too).
 *  [cap.10] The trace events below, when f->trace is set.
 *
 * Trace events (id: the item; the grader reads them): "permit" (value: the
 * attempt's number) as an attempt starts with its permit; "request" (the
 * attempt) as its request is written; "response" (the HTTP status, 0 if
 * none) as the exchange ends; "closed" (the exchange's status) once its
 * connection is closed; "retry" (the attempts so far) as it queues again;
 * "stored" (the store's status); "result" (k) as it is reported; "stop" (id
 * -1, results so far) and "done" (id -1, items fetched).
 */
#ifndef CAP_FETCH_H
#define CAP_FETCH_H

/* Built with your lab 01 (conn.c, using.c: res_conn_init, res_using), lab 03
 * (sem.c: the bf_sem_* calls) and lab 04 (offload.c: the limiter): finish
 * those parts first; make grade LAB=05 compiles them in. */
#include "conn.h"
#include "http.h"
#include "offload.h"
#include "sem.h"

typedef struct cap_fetch cap_fetch_t;

/* $begin cap-result */
typedef struct cap_result {
  long item;         /* the item asked for */
  int status;        /* 0; a libuv error (UV_ECONNRESET, UV_EOF: the
                        answer was cut short, ...); UV_EPROTO for an
                        answer other than 200 (see http); UV_ECANCELED
                        when a stop came first */
  int http;          /* the last HTTP status read; 0: none */
  int attempts;      /* requests made */
  uint64_t checksum; /* FNV-1a (64 bits) of the body, when status is 0 */
  size_t bytes;      /* the body's length, when status is 0 */
  uint64_t ms;       /* from cap_fetch_start() to this result */
} cap_result_t;
/* $end cap-result */

typedef struct cap_summary {
  size_t n;
  size_t fetched;   /* status 0 */
  size_t failed;    /* any other status but UV_ECANCELED */
  size_t cancelled; /* UV_ECANCELED */
  long retries;     /* requests made beyond the first of each item */
  uint64_t ms;      /* from cap_fetch_start() to done */
} cap_summary_t;

/* Writes len bytes of data to the file path. Runs on a worker thread.
 * Returns 0 or a negative libuv error code. */
typedef int (*cap_store_fn)(const char *path, const char *data, size_t len);
typedef void (*cap_result_cb)(cap_fetch_t *f, const cap_result_t *r, size_t k);
typedef void (*cap_done_cb)(cap_fetch_t *f, const cap_summary_t *s);

/* One item from its first wait to its result. */
typedef struct cap_task {
  cap_fetch_t *f;
  cap_result_t *result;  /* where its result goes */
  int state;             /* CAP_WAITING ... CAP_DONE */
  bf_waiter_t waiter;    /* its claim on a permit, one attempt at a time */
  res_conn_t conn;       /* its connection, one attempt at a time */
  res_using_t use;       /* the using block around that connection */
  res_body_cb body_done; /* the block's body is running while not NULL */
  uv_write_t write;
  char request[160];
  cap_http_t http;   /* the answer, read into its buffer */
  off_call_t call;   /* the write of the body on the pool */
  uint64_t checksum; /* written by the worker, read after it finished */
  char path[512];    /* dir/item-<n>.txt */
} cap_task_t;

enum {
  CAP_WAITING = 0, /* queued for a permit */
  CAP_CONNECTED,   /* holds a permit; its using block runs */
  CAP_STORING,     /* body fetched; its write is on the pool */
  CAP_DONE         /* result reported */
};

struct cap_fetch {
  void *data; /* yours */
  /* settings */
  int port;                /* the upstream, on 127.0.0.1 */
  long limit;              /* connections open at once, >= 1 */
  int retries;             /* more attempts for a failed request, >= 0 */
  const char *dir;         /* where the bodies go: dir/item-<n>.txt */
  cap_store_fn store;      /* NULL: cap_store_file */
  unsigned writers;        /* writes on the pool at once; 0: 2 */
  ap_trace_t *trace;       /* optional: "permit", "request", "response",
                              "closed", "retry", "stored", "result" */
  cap_result_cb on_result; /* optional */
  /* private */
  uv_loop_t *loop;
  bf_sem_t sem;         /* the connection limit */
  off_limiter_t writes; /* the write limit */
  cap_task_t *tasks;    /* n, freed before done */
  size_t n;
  size_t reported; /* results handed out so far */
  int stopping;
  uint64_t t0; /* uv_hrtime() at the start */
  cap_summary_t summary;
  cap_done_cb done;
  ap_soon_t soon; /* delivers done when n == 0 */
};

/* Fetches items[0..n), storing item i's result in results[i].
 * Returns 0, UV_EINVAL (done or dir NULL, limit < 1, retries < 0, no port,
 * or n > 0 with items or results NULL) or UV_ENOMEM. */
int cap_fetch_start(uv_loop_t *loop, cap_fetch_t *f, const long *items, size_t n,
                    cap_result_t *results, cap_done_cb done);

/* Asks the fetch to end early: items still waiting for a permit and
 * requests in flight end with UV_ECANCELED; bodies already fetched are
 * still written and reported. done runs as usual, once every item has its
 * result. Returns 0, or UV_EALREADY when a stop was asked before or the
 * fetch is over. */
int cap_fetch_stop(cap_fetch_t *f);

/* ---- Given (store.c) ------------------------------------------------------ */
/* FNV-1a, 64 bits. */
uint64_t cap_fnv1a(const void *data, size_t len);
/* The default store: creates or truncates path, writes, closes. */
int cap_store_file(const char *path, const char *data, size_t len);
/* Why r failed, in words: "HTTP 500", "connection reset by peer", ... */
const char *cap_reason(const cap_result_t *r, char *buf, size_t size);

#endif /* CAP_FETCH_H */
