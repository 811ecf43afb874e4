/* todo.c — what generated starter code calls where your code goes. */
#include <stdlib.h>

#include "ap.h"

void (*ap_todo_hook)(const char *func, const char *file, int line);

int ap_todo(const char *func, const char *file, int line)
{
  if (ap_todo_hook != NULL)
    ap_todo_hook(func, file, line);
  fflush(stdout);
  fprintf(stderr, "%s:%d: %s: not implemented yet (TODO)\n", file, line, func);
  exit(3);
}
