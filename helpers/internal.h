/* internal.h — names shared between the helper layer's files, not part of
 * the API (hence the ap__ prefix). */
#ifndef AP_INTERNAL_H
#define AP_INTERNAL_H

#include "ap.h"

void ap__soon_idle_cb(uv_idle_t *idle);
void ap__soon_check_cb(uv_check_t *check);

/* A doubly linked list whose nodes live inside their owners (the servers'
 * open connections): unlinking a node needs no search. The head is the
 * owner's `void *conns` field, NULL when empty. */
typedef struct ap__node ap__node_t;
struct ap__node {
  ap__node_t *prev;
  ap__node_t *next;
};

static inline void ap__list_push(void **head, ap__node_t *n)
{
  n->prev = NULL;
  n->next = *head;
  if (n->next != NULL)
    n->next->prev = n;
  *head = n;
}

static inline void ap__list_remove(void **head, ap__node_t *n)
{
  if (n->prev != NULL)
    n->prev->next = n->next;
  else
    *head = n->next;
  if (n->next != NULL)
    n->next->prev = n->prev;
}

#endif /* AP_INTERNAL_H */
