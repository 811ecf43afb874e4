/* expire.h — lab 02's tests: how a test makes the timeout win a race.
 *
 * expire_timeout(ms) blocks the loop thread until a timeout of ms, started by
 * a call that has returned, is due. The loop's next turn then runs it before
 * anything else (libuv runs due timers first in a turn), whatever the load:
 * an operation's end that the test made before is either already reported
 * (co_complete was called) or comes after the timeout (a fake delivers on the
 * next turn, after the timers; a timer due later fires later in that turn).
 */
#ifndef CO_TESTS_EXPIRE_H
#define CO_TESTS_EXPIRE_H

#include "grade.h"

static inline void expire_timeout(uint64_t ms)
{
  uv_loop_t *loop = grade_loop();
  uint64_t due;

  uv_update_time(loop);
  due = uv_now(loop) + ms;
  while (uv_now(loop) < due) {
    uv_sleep(1);
    uv_update_time(loop);
  }
}

#endif /* CO_TESTS_EXPIRE_H */
