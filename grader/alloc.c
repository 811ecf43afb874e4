/* alloc.c — the lab's allocations, which a test can make fail.
 *
 * mk/lab.mk renames the calls to malloc, calloc, realloc and strdup in the
 * lab's own objects (objcopy --redefine-sym, after compiling) to the
 * grade_lab_ functions below. Nothing else is renamed: the tests, Check,
 * libuv, the helper layer and the grader keep calling the C library, so a
 * failure injected here reaches only the code under test. Students write
 * calloc as usual; the compiler sees the real declarations (same warnings,
 * same code) and any allocation it adds itself is caught too.
 *
 * Why not the alternatives: -Dcalloc=... renames every token of that name
 * the lab's translation units see, headers included (an
 * __attribute__((malloc)) breaks the build); the linker's --wrap renames the
 * calls of every object linked, the grader's and the helpers' too.
 *
 * This file is its own member of libgrade.a and refers to nothing else of
 * the grader: the demo links it alone. Lab code may allocate on libuv's
 * worker threads (lab 04): the counters are atomic.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "grade.h"

/* Prototypes for the names the lab's objects call (no header: only the
 * renamed objects use them). */
void *grade_lab_malloc(size_t size);
void *grade_lab_calloc(size_t n, size_t size);
void *grade_lab_realloc(void *p, size_t size);
char *grade_lab_strdup(const char *s);

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

void *grade_lab_malloc(size_t size)
{
  return alloc_fails() ? NULL : malloc(size);
}

void *grade_lab_calloc(size_t n, size_t size)
{
  return alloc_fails() ? NULL : calloc(n, size);
}

/* A failed realloc leaves p allocated, as the C library's does. */
void *grade_lab_realloc(void *p, size_t size)
{
  return alloc_fails() ? NULL : realloc(p, size);
}

char *grade_lab_strdup(const char *s)
{
  return alloc_fails() ? NULL : strdup(s);
}
