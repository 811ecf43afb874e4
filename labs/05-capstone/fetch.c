/* fetch.c — lab 05: the fetcher, one item's pipeline.
 *
 *   bf_sem_acquire ─► on_permit ─► res_using(conn): enter connects,
 *        exchange (the body) sends one request and reads its answer,
 *        exit closes ─► on_block_done ─► bf_sem_release, then
 *          200:                   off_limiter_submit(store_job) ─► on_stored ─► finish
 *          failed, attempts left: bf_sem_acquire again (a retry)
 *          failed for good:       finish
 *   finish ─► the result is reported at once: completion order, k = 1..n
 *
 * Ownership: a task holds its waiter, its connection and its write call,
 * one after the other, never two at once. The permit goes back in
 * on_block_done, after the connection's close callback ran, so the limit
 * counts open connections exactly as the upstream sees them. Every way out
 * of the exchange goes through the using block, so no path can skip the
 * close. The tasks are freed only after the n-th result: by then no
 * waiter, handle or pool request points into them.
 */
#include <stdlib.h>
#include <string.h>

#include "fetch.h"

static void on_permit(bf_waiter_t *w, int status);
static void finish(cap_task_t *t, int status);

static void trace(cap_fetch_t *f, const char *what, long id, long value)
{
  if (f->trace != NULL)
    ap_trace_add(f->trace, what, id, value);
}

/* ---- The exchange: the using block's body (given) -------------------------- */

/* Ends the body, once; the using block then closes the connection. */
static void end_exchange(cap_task_t *t, int status)
{
  res_body_cb done = t->body_done;

  if (done == NULL)
    return; /* already ended: by the answer, an error or a stop */
  t->body_done = NULL;
  uv_read_stop((uv_stream_t *) t->conn.tcp);
  trace(t->f, "response", t->result->item, t->http.status);
  done(&t->use, status);
}

static void on_alloc(uv_handle_t *handle, size_t size, uv_buf_t *buf)
{
  cap_task_t *t = AP_CONTAINER_OF((res_conn_t *) handle->data, cap_task_t, conn);

  (void) size;
  *buf = cap_http_space(&t->http);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  cap_task_t *t = AP_CONTAINER_OF((res_conn_t *) stream->data, cap_task_t, conn);
  int err;

  (void) buf;
  if (nread < 0) { /* UV_EOF before the whole answer, UV_ECONNRESET, ... */
    end_exchange(t, (int) nread);
    return;
  }
  t->http.len += (size_t) nread;
  err = cap_http_parse(&t->http);
  if (err == UV_EAGAIN)
    return;
  t->result->http = t->http.status;
  if (err == 0 && t->http.status != 200)
    err = UV_EPROTO;
  end_exchange(t, err);
}

static void on_request_written(uv_write_t *req, int status)
{
  /* UV_ECANCELED once the connection closed: end_exchange ignores it then. */
  if (status != 0)
    end_exchange(req->data, status);
}

/* $begin cap-exchange */
static void exchange(res_using_t *u, res_body_cb done)
{
  cap_task_t *t = u->data;
  uv_stream_t *tcp = (uv_stream_t *) t->conn.tcp;
  size_t len = cap_http_request(t->result->item, t->request, sizeof(t->request));
  uv_buf_t buf = uv_buf_init(t->request, (unsigned int) len);
  int err;

  t->body_done = done;
  if (t->f->stopping) { /* the stop came while we connected */
    end_exchange(t, UV_ECANCELED);
    return;
  }
  trace(t->f, "request", t->result->item, t->result->attempts);
  t->write.data = t;
  err = uv_write(&t->write, tcp, &buf, 1, on_request_written);
  if (err == 0)
    err = uv_read_start(tcp, on_alloc, on_read);
  if (err != 0)
    end_exchange(t, err);
}
/* $end cap-exchange */

/* ---- Storing, off the loop ------------------------------------------------- */

/* $begin cap-store-job */
/* Worker thread. It reads the task's answer and path and writes its
 * checksum; the loop thread leaves all three alone until on_stored. */
static int store_job(void *arg, void **result)
{
  cap_task_t *t = arg;
  const char *body = t->http.buf + t->http.head_len;
  cap_store_fn store = t->f->store != NULL ? t->f->store : cap_store_file;

  *result = NULL;
  t->checksum = cap_fnv1a(body, t->http.body_len);
  return store(t->path, body, t->http.body_len);
}
/* $end cap-store-job */

/* $begin cap-store */
static void on_stored(off_call_t *call, int status, void *result)
{
  cap_task_t *t = call->data;

  (void) result;
  trace(t->f, "stored", t->result->item, status);
  // TODO: fetch.h, cap_result_t: a stored body's result (#writing-off-the-loop).
  AP_TODO();
}

static void store(cap_task_t *t)
{
  cap_fetch_t *f = t->f;

  t->state = CAP_STORING;
  snprintf(t->path, sizeof(t->path), "%s/item-%ld.txt", f->dir, t->result->item);
  t->call.data = t;
  // TODO: fetch.h: checksum and write off the loop, at most writers at once
  // (#writing-off-the-loop).
  AP_TODO();
}
/* $end cap-store */

/* ---- One attempt: permit, connection, release ------------------------------ */

/* $begin cap-block-done */
/* The using block is over: the connection is closed, whatever happened. */
static void on_block_done(res_using_t *u, int status)
{
  cap_task_t *t = u->data;
  cap_fetch_t *f = t->f;

  trace(f, "closed", t->result->item, status);
  // TODO: fetch.h: one permit per connection, held until it is closed; retries
  // bounded, behind every other waiter (#a-permit-per-connection,
  // #failures-and-retries).
  AP_TODO();
}
/* $end cap-block-done */

/* $begin cap-permit */
static void on_permit(bf_waiter_t *w, int status)
{
  cap_task_t *t = w->data;
  cap_fetch_t *f = t->f;

  // TODO: fetch.h: a connection only with a permit, closed on every path; each
  // attempt parses its answer afresh, http.h (#the-pipeline, #closing-on-every-path,
  // #stopping).
  AP_TODO();
}
/* $end cap-permit */

/* ---- Results, in completion order ------------------------------------------ */

static void all_done(cap_fetch_t *f)
{
  free(f->tasks);
  f->tasks = NULL;
  f->summary.ms = (uv_hrtime() - f->t0) / 1000000;
  trace(f, "done", -1, (long) f->summary.fetched);
  f->done(f, &f->summary);
}

static void count(cap_summary_t *s, int status)
{
  if (status == 0)
    s->fetched++;
  else if (status == UV_ECANCELED)
    s->cancelled++;
  else
    s->failed++;
}

/* $begin cap-finish */
/* The task's last step: it holds nothing any more. */
static void finish(cap_task_t *t, int status)
{
  cap_fetch_t *f = t->f;
  cap_result_t *r = t->result;

  r->status = status;
  r->ms = (uv_hrtime() - f->t0) / 1000000;
  t->state = CAP_DONE;
  count(&f->summary, status);
  // TODO: fetch.h: each result as soon as it is known, k counting reports
  // (#results-as-they-complete).
  AP_TODO();
}
/* $end cap-finish */

/* ---- Start and stop -------------------------------------------------------- */

static void deliver_empty(ap_soon_t *soon)
{
  all_done(AP_CONTAINER_OF(soon, cap_fetch_t, soon));
}

static int check_settings(const cap_fetch_t *f, const long *items, size_t n,
                          const cap_result_t *results, cap_done_cb done)
{
  if (done == NULL || f->dir == NULL || strlen(f->dir) > 400)
    return UV_EINVAL;
  if (f->limit < 1 || f->retries < 0 || f->port <= 0 || f->port > 65535)
    return UV_EINVAL;
  return n > 0 && (items == NULL || results == NULL) ? UV_EINVAL : 0;
}

int cap_fetch_start(uv_loop_t *loop, cap_fetch_t *f, const long *items, size_t n,
                    cap_result_t *results, cap_done_cb done)
{
  int err = check_settings(f, items, n, results, done);

  if (err != 0)
    return err;
  f->tasks = calloc(n > 0 ? n : 1, sizeof(*f->tasks));
  if (f->tasks == NULL)
    return UV_ENOMEM;
  f->loop = loop;
  f->n = n;
  f->reported = 0;
  f->stopping = 0;
  f->done = done;
  f->t0 = uv_hrtime();
  f->summary = (cap_summary_t){.n = n};
  bf_sem_init(loop, &f->sem, f->limit);
  off_limiter_init(&f->writes, loop, f->writers > 0 ? f->writers : 2);
  for (size_t i = 0; i < n; i++) {
    cap_task_t *t = &f->tasks[i];
    t->f = f;
    t->result = &results[i];
    results[i] = (cap_result_t){.item = items[i]};
    t->waiter.data = t;
    bf_sem_acquire(&f->sem, &t->waiter, on_permit);
  }
  if (n == 0)
    ap_soon(loop, &f->soon, deliver_empty);
  return 0;
}

/* $begin cap-stop */
static void cancel_task(cap_task_t *t)
{
  // TODO: fetch.h, cap_fetch_stop: what it cancels, cuts, and keeps (#stopping).
  AP_TODO();
}

int cap_fetch_stop(cap_fetch_t *f)
{
  if (f->stopping || f->tasks == NULL)
    return UV_EALREADY;
  f->stopping = 1;
  trace(f, "stop", -1, (long) f->reported);
  for (size_t i = 0; i < f->n; i++)
    if (f->tasks[i].state != CAP_DONE)
      cancel_task(&f->tasks[i]);
  return 0;
}
/* $end cap-stop */
