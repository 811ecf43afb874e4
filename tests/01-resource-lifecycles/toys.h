/* toys.h — what the graded tests of lab 01, public and hidden, share: a toy
 * resource with scripted outcomes, a body that reports on a later turn, and a
 * final that counts. Everything records its own events in grade_trace()
 * ("enter", "entered", "exit", "exited", "body", "body-done", "final"), so
 * the order a test sees is the order things happened, not what the lab says
 * about itself.
 */
#ifndef TOYS_H
#define TOYS_H

#include "grade.h"
#include "res.h"

/* What a toy's exit reports. */
enum { LET_THROUGH, SUPPRESS, FAIL };

typedef struct toy {
  res_t res;
  int enter_status; /* what enter reports */
  int exit_mode;    /* LET_THROUGH, SUPPRESS, or FAIL with exit_error */
  int exit_error;
  int held;
  int enters;
  int exits;
  int exit_got; /* the status the last exit received */
  int result;   /* what the step in progress will report */
  int entering;
  res_cb done;
  ap_soon_t soon;
} toy_t;

/* A toy with this id on grade_loop(); its exit records "exit-not-held" when
 * it is released without being held. */
void toy_init(toy_t *t, long id, int enter_status, int exit_mode, int exit_error);

/* The scripted body reports body_status on a later turn; final records it. */
extern int body_status;
extern int bodies;
extern int finals;
extern int final_status;
extern res_body_cb body_cb;     /* the running body's completion */
extern res_using_t *body_block; /* and its block */
void body(res_using_t *u, res_body_cb done);
/* Reports body_status for the block on a later turn ("body-done"). */
void body_later(res_using_t *u, res_body_cb done);
void final(res_using_t *u, int status);
/* Fail the test if they run. */
void never_body(res_using_t *u, res_body_cb done);
void never_final(res_using_t *u, int status);

/* Runs one using block over r with the body reporting status. */
void use(res_t *r, int status);

/* The status t's last exit received was expected; "exit never ran" when it
 * did not run at all (then there is no status to compare). */
void expect_exit_got(const char *what, int expected, const toy_t *t);

#endif /* TOYS_H */
