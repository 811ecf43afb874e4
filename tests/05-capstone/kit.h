/* kit.h — lab 05's tests: the upstream, the fetch and its files, shared by
 * the public and the hidden tests.
 *
 * start_fetch() starts the real upstream (ap_upstream_t) on the test's loop
 * and a fetch of n items into a fresh mkdtemp directory; finish_fetch() runs
 * the loop to the end, reads every file back and removes them. The fetch's
 * done drains the upstream, which waits for the client to close every
 * connection itself. Hooks (request_hook, result_hook, done_hook) let a test
 * act at exact points.
 */
#ifndef CAP_TESTS_KIT_H
#define CAP_TESTS_KIT_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"
#include "grade.h"

enum { MAX_ITEMS = 16, FIRST_ITEM = 20 };
enum { FILE_MISSING = 0, FILE_OK, FILE_WRONG };

static ap_upstream_t up;
static cap_fetch_t fetch;
static long items[MAX_ITEMS];
static cap_result_t results[MAX_ITEMS];
static size_t n_items;
static char dir[64];
static int file_state[MAX_ITEMS];
static int dir_left_behind;

static long reported[MAX_ITEMS]; /* items, in the order on_result saw them */
static size_t ks[MAX_ITEMS];     /* the k each report came with */
static size_t n_reported;
static int done_calls;
static size_t reports_before_done; /* on_result calls when done ran */
static cap_summary_t summary;
static long requests_for[MAX_ITEMS];

/* Optional per-test hooks. */
static void (*request_hook)(long item, int fault);
static void (*result_hook)(const cap_result_t *r, size_t k);
static void (*done_hook)(void);
static void (*grader_todo_hook)(const char *func, const char *file, int line);

/* FNV-1a, 64 bits, written again here: the test does not trust the lab's. */
static inline uint64_t fnv1a(const char *p, size_t len)
{
  uint64_t h = 14695981039346656037ULL;

  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char) p[i]) * 1099511628211ULL;
  return h;
}

static inline void item_path(size_t i, char *path, size_t size)
{
  snprintf(path, size, "%s/item-%ld.txt", dir, items[i]);
}

static inline void remove_dir(void)
{
  char path[128];

  for (size_t i = 0; i < n_items; i++) {
    item_path(i, path, sizeof(path));
    unlink(path);
  }
  dir_left_behind = rmdir(dir) != 0; /* a file nobody asked for */
}

static inline void remove_dir_then_todo(const char *func, const char *file, int line)
{
  remove_dir();
  grader_todo_hook(func, file, line);
}

static inline int read_state(size_t i)
{
  char path[128], got[AP_UPSTREAM_BODY_MAX + 16], want[AP_UPSTREAM_BODY_MAX];
  size_t want_len = ap_upstream_body(items[i], want, sizeof(want)), got_len;
  FILE *file;

  item_path(i, path, sizeof(path));
  file = fopen(path, "rb");
  if (file == NULL)
    return FILE_MISSING;
  got_len = fread(got, 1, sizeof(got), file);
  fclose(file);
  return got_len == want_len && memcmp(got, want, want_len) == 0 ? FILE_OK : FILE_WRONG;
}

/* Reads every file back, then removes them all. */
static inline void collect_files(void)
{
  for (size_t i = 0; i < n_items; i++)
    file_state[i] = read_state(i);
  remove_dir();
}

static inline void count_request(ap_upstream_t *u, long item, int fault)
{
  (void) u;
  if (item >= FIRST_ITEM && item < FIRST_ITEM + MAX_ITEMS)
    requests_for[item - FIRST_ITEM]++;
  if (request_hook != NULL)
    request_hook(item, fault);
}

static inline void record_result(cap_fetch_t *f, const cap_result_t *r, size_t k)
{
  (void) f;
  if (n_reported < MAX_ITEMS) {
    reported[n_reported] = r->item;
    ks[n_reported] = k;
  }
  n_reported++;
  if (result_hook != NULL)
    result_hook(r, k);
}

static inline void on_done(cap_fetch_t *f, const cap_summary_t *s)
{
  (void) f;
  done_calls++;
  summary = *s;
  reports_before_done = n_reported;
  if (done_hook != NULL)
    done_hook();
  /* Waits until the client closed every connection on its own. */
  ap_upstream_drain(&up, NULL);
}

/* Faults the item at index i of the fetch: see ap_upstream_fault. */
static inline void add_fault(long i, int kind, int times)
{
  EXPECT_ERR("ap_upstream_fault()", 0, ap_upstream_fault(&up, FIRST_ITEM + i, kind, times));
}

/* Starts the upstream (its settings and faults set by the test) and a fetch
 * of n items, FIRST_ITEM, FIRST_ITEM + 1, ... */
static inline void start_fetch_with(size_t n, long limit, int retries, cap_done_cb done)
{
  int err;

  strcpy(dir, "/tmp/cap-test-XXXXXX");
  EXPECT(mkdtemp(dir) != NULL, "mkdtemp failed");
  grader_todo_hook = ap_todo_hook;
  ap_todo_hook = remove_dir_then_todo;
  n_items = n;
  for (size_t i = 0; i < n; i++)
    items[i] = FIRST_ITEM + (long) i;
  up.on_request = count_request;
  up.linger_ms = 1000; /* a client that never closes shows up as "abandoned" */
  EXPECT_ERR("ap_upstream_start", 0, ap_upstream_start(grade_loop(), &up));
  fetch.port = up.port;
  fetch.limit = limit;
  fetch.retries = retries;
  fetch.dir = dir;
  fetch.on_result = record_result;
  fetch.trace = grade_trace();
  err = cap_fetch_start(grade_loop(), &fetch, items, n, results, done);
  if (err != 0) {
    remove_dir();
    ap_upstream_stop(&up, NULL);
  }
  EXPECT_ERR("cap_fetch_start()", 0, err);
}

static inline void start_fetch(size_t n, long limit, int retries)
{
  start_fetch_with(n, limit, retries, on_done);
}

/* Runs the loop to the end, then collects the files. */
static inline void finish_fetch(void)
{
  grade_run();
  collect_files();
  grade_hint("Every item gets one result, reported through on_result the moment it is known; "
             "done comes once, after the n-th [cap.5] [cap.6].");
  EXPECT_EQ("done calls", 1, done_calls);
  EXPECT_EQ("results reported through on_result", n_items, n_reported);
  EXPECT_EQ("results reported through on_result before done ran", n_items, reports_before_done);
  grade_hint(NULL);
}

static inline void expect_fetched(size_t i)
{
  const cap_result_t *r = &results[i];
  char body[AP_UPSTREAM_BODY_MAX];
  size_t len = ap_upstream_body(items[i], body, sizeof(body));

  EXPECT_EQ("results[i].item", items[i], r->item);
  /* A retried item still showing an earlier attempt's error status. */
  if (r->attempts > 1 && r->status == UV_EPROTO)
    grade_hint("Each attempt reads its answer from scratch (http.h: cap_http_reset before each "
               "response): a retry that parses on from the last answer keeps its status [cap.3].");
  EXPECT(r->status == 0, "item %ld: status %s (%d attempt%s, HTTP %d), expected 0", r->item,
         grade_err_name(r->status), r->attempts, GRADE_S(r->attempts), r->http);
  grade_hint("A fetched item's bytes and checksum are those of the body alone, after the "
             "answer's headers [cap.4].");
  EXPECT(r->bytes == len, "item %ld: bytes %zu, expected %zu (the body's length)", r->item,
         r->bytes, len);
  EXPECT(r->checksum == fnv1a(body, len),
         "item %ld: checksum %016llx, expected %016llx (FNV-1a of the body alone)", r->item,
         (unsigned long long) r->checksum, (unsigned long long) fnv1a(body, len));
  grade_hint(NULL);
  EXPECT(file_state[i] == FILE_OK, "item %ld: its file is %s", r->item,
         file_state[i] == FILE_MISSING ? "missing" : "not the body that was fetched");
}

static inline void expect_not_fetched(size_t i, int status, int attempts)
{
  const cap_result_t *r = &results[i];

  EXPECT(r->status == status, "item %ld: status %s, expected %s", r->item,
         grade_err_name(r->status), grade_err_name(status));
  EXPECT(r->attempts == attempts, "item %ld: %d attempt%s, expected %d", r->item, r->attempts,
         GRADE_S(r->attempts), attempts);
  EXPECT(file_state[i] == FILE_MISSING, "item %ld failed, yet it has a file", r->item);
}

static inline void expect_all_closed(void)
{
  EXPECT_EQ("connections still open at the upstream", 0, up.active);
  EXPECT_EQ("connections the client never closed (the upstream gave up on them)", 0, up.abandoned);
  EXPECT_EQ("connections closed, as the upstream saw it (= connections accepted)", up.accepted,
            up.closed);
  EXPECT(!dir_left_behind, "the directory held files for items nobody fetched");
}

#endif /* CAP_TESTS_KIT_H */
