/* alloc.c — the lab's allocations: counted, tracked, and made to fail on demand.
 *
 * mk/lab.mk renames the calls to malloc, calloc, realloc, strdup, strndup and
 * free in the lab's own objects (objcopy --redefine-sym, after compiling) to
 * the grade_lab_ functions below. Nothing else is renamed: the tests, Check,
 * libuv, the helper layer and the grader keep calling the C library, so a
 * failure injected here reaches only the code under test, and the blocks
 * tracked here are exactly the lab's. Students write calloc as usual; the
 * compiler sees the real declarations (same warnings, same code) and any
 * allocation it adds itself is caught too.
 *
 * Why not the alternatives: -Dcalloc=... renames every token of that name
 * the lab's translation units see, headers included (an
 * __attribute__((malloc)) breaks the build); the linker's --wrap renames the
 * calls of every object linked, the grader's and the helpers' too.
 *
 * Every block the lab allocates is kept in a table until the lab frees it,
 * so the grader can say, in its plain (non-ASan) mode, that a test ended
 * with the lab's memory not given back. A block the lab frees that it did
 * not allocate (libuv's, say) is freed and not counted.
 *
 * This file is its own member of libgrade.a and refers to nothing else of
 * the grader: the demo links it alone. Lab code may allocate on libuv's
 * worker threads (lab 04): the counters are atomic and the table locked.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grader.h"

/* Prototypes for the names the lab's objects call (no header: only the
 * renamed objects use them). */
void *grade_lab_malloc(size_t size);
void *grade_lab_calloc(size_t n, size_t size);
void *grade_lab_realloc(void *p, size_t size);
char *grade_lab_strdup(const char *s);
char *grade_lab_strndup(const char *s, size_t n);
void grade_lab_free(void *p);

static atomic_long calls;          /* the lab's allocations so far */
static atomic_long fail_from = -1; /* calls >= this fail; -1: none */

void grade_fail_alloc(long after)
{
  atomic_store(&fail_from, after < 0 ? -1 : atomic_load(&calls) + after);
}

/* Counts one allocation; 1 if it must fail (errno set as the C library does). */
static int alloc_fails(void)
{
  long n = atomic_fetch_add(&calls, 1), from = atomic_load(&fail_from);

  if (from < 0 || n < from)
    return 0;
  errno = ENOMEM;
  return 1;
}

/* ---- The live blocks: an open-addressing set of pointers ------------------ */

typedef struct live_block {
  void *p; /* NULL: empty slot; TOMBSTONE: freed */
  size_t size;
} live_block_t;

#define TOMBSTONE ((void *) 1)

/* The first table is static, so that tracking adds nothing to the heap that
 * a test measures (lab 03 bounds what fetch_all holds); past 8,192 live
 * blocks it moves to the heap. */
static live_block_t live_static[1 << 14];
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static live_block_t *live = live_static;
static size_t live_cap = AP_COUNT_OF(live_static);
static size_t live_used, live_count, live_bytes; /* used: slots not empty */

static size_t slot_of(const void *p, size_t cap)
{
  uintptr_t h = (uintptr_t) p;

  h ^= h >> 17;
  h *= 0x9e3779b97f4a7c15u;
  return (size_t) (h >> 7) & (cap - 1);
}

/* Doubles the table; the old tombstones are dropped. */
static int live_grow(void)
{
  size_t cap = live_cap * 2;
  live_block_t *t = calloc(cap, sizeof(*t));

  if (t == NULL)
    return -1;
  for (size_t i = 0; i < live_cap; i++) {
    if (live[i].p == NULL || live[i].p == TOMBSTONE)
      continue;
    size_t j = slot_of(live[i].p, cap);
    while (t[j].p != NULL)
      j = (j + 1) & (cap - 1);
    t[j] = live[i];
  }
  if (live != live_static)
    free(live);
  live = t;
  live_cap = cap;
  live_used = live_count;
  return 0;
}

static void live_add(void *p, size_t size)
{
  pthread_mutex_lock(&live_lock);
  if ((live_used + 1) * 2 > live_cap && live_grow() != 0) {
    pthread_mutex_unlock(&live_lock); /* untracked: only a missed leak report */
    return;
  }
  size_t i = slot_of(p, live_cap);
  while (live[i].p != NULL && live[i].p != TOMBSTONE)
    i = (i + 1) & (live_cap - 1);
  if (live[i].p == NULL)
    live_used++;
  live[i] = (live_block_t){p, size};
  live_count++;
  live_bytes += size;
  pthread_mutex_unlock(&live_lock);
}

/* Takes the address as a number: after realloc the old pointer may not be
 * used, even to look it up. */
static void live_remove(uintptr_t p)
{
  pthread_mutex_lock(&live_lock);
  for (size_t i = slot_of((void *) p, live_cap); live[i].p != NULL; i = (i + 1) & (live_cap - 1)) {
    if ((uintptr_t) live[i].p == p) {
      live_bytes -= live[i].size;
      live_count--;
      live[i].p = TOMBSTONE;
      break;
    }
  }
  pthread_mutex_unlock(&live_lock);
}

size_t grade_lab_live_blocks(size_t *bytes)
{
  pthread_mutex_lock(&live_lock);
  size_t n = live_count;
  if (bytes != NULL)
    *bytes = live_bytes;
  pthread_mutex_unlock(&live_lock);
  return n;
}

static void *tracked(void *p, size_t size)
{
  if (p != NULL)
    live_add(p, size);
  return p;
}

/* ---- What the lab's renamed calls reach ------------------------------------ */

void *grade_lab_malloc(size_t size)
{
  return alloc_fails() ? NULL : tracked(malloc(size), size);
}

void *grade_lab_calloc(size_t n, size_t size)
{
  return alloc_fails() ? NULL : tracked(calloc(n, size), n * size);
}

/* A failed realloc leaves p allocated, as the C library's does. */
void *grade_lab_realloc(void *p, size_t size)
{
  uintptr_t old = (uintptr_t) p;
  void *q;

  if (alloc_fails())
    return NULL;
  q = realloc(p, size);
  if (q == NULL) {
    if (size == 0 && old != 0)
      live_remove(old); /* realloc(p, 0) may free p and return NULL */
    return NULL;
  }
  if (old != 0)
    live_remove(old);
  return tracked(q, size);
}

char *grade_lab_strdup(const char *s)
{
  return alloc_fails() ? NULL : tracked(strdup(s), strlen(s) + 1);
}

char *grade_lab_strndup(const char *s, size_t n)
{
  char *d = alloc_fails() ? NULL : strndup(s, n);

  return tracked(d, d != NULL ? strlen(d) + 1 : 0);
}

void grade_lab_free(void *p)
{
  if (p != NULL)
    live_remove((uintptr_t) p);
  free(p);
}
