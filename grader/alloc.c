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
 * used, even to look it up. Returns 1 and the block's size if the lab
 * allocated it (and it was tracked), else 0. */
static int live_remove(uintptr_t p, size_t *size)
{
  int found = 0;

  pthread_mutex_lock(&live_lock);
  for (size_t i = slot_of((void *) p, live_cap); live[i].p != NULL; i = (i + 1) & (live_cap - 1)) {
    if ((uintptr_t) live[i].p == p) {
      if (size != NULL)
        *size = live[i].size;
      live_bytes -= live[i].size;
      live_count--;
      live[i].p = TOMBSTONE;
      found = 1;
      break;
    }
  }
  pthread_mutex_unlock(&live_lock);
  return found;
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

/* ---- What the lab's renamed calls reach ------------------------------------
 * Hostile but within the C standard, like glibc's MALLOC_PERTURB_: a fresh
 * malloc block holds garbage, a freed block is overwritten, and realloc
 * always moves. So code that counts on malloc's memory being zero (a missing
 * NUL, a field never set) or keeps using a block after free or realloc goes
 * wrong on every run, in the plain grading mode, not only when the heap
 * happens to be reused. calloc, strdup and strndup give what they promise. */

enum { FRESH_BYTE = 0xA5, FREED_BYTE = 0x5A };

void *grade_lab_malloc(size_t size)
{
  void *p = alloc_fails() ? NULL : malloc(size);

  if (p != NULL)
    memset(p, FRESH_BYTE, size);
  return tracked(p, size);
}

void *grade_lab_calloc(size_t n, size_t size)
{
  return alloc_fails() ? NULL : tracked(calloc(n, size), n * size);
}

/* Moves the block to a new one, always: the old one is poisoned and freed.
 * A failed realloc leaves p allocated, as the C library's does. */
void *grade_lab_realloc(void *p, size_t size)
{
  uintptr_t old = (uintptr_t) p;
  size_t old_size = 0;
  void *q;

  if (p == NULL)
    return grade_lab_malloc(size);
  if (alloc_fails())
    return NULL;
  if (size == 0) { /* the library's choice (glibc frees p, returns NULL) */
    live_remove(old, NULL);
    return tracked(realloc(p, 0), 0);
  }
  q = malloc(size);
  if (q == NULL)
    return NULL;
  if (!live_remove(old, &old_size)) { /* not a block the table knows: the library moves it */
    free(q);
    return tracked(realloc(p, size), size);
  }
  memcpy(q, p, old_size < size ? old_size : size);
  if (size > old_size)
    memset((char *) q + old_size, FRESH_BYTE, size - old_size);
  memset(p, FREED_BYTE, old_size);
  free(p);
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
  size_t size;

  if (p != NULL && live_remove((uintptr_t) p, &size))
    memset(p, FREED_BYTE, size);
  free(p);
}
