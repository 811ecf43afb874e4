/* stub.h — the message of a test that reached a starter's TODO stub.
 *
 * child.c fails the test with it (AP_TODO says which function, and where);
 * report/tally.c recognises it and then says which function to write, instead of
 * the test's hint. One definition, so the two cannot drift apart:
 *   not implemented yet: FUNC() at FILE:LINE still has its TODO stub
 */
#ifndef GRADE_STUB_H
#define GRADE_STUB_H

#define GRADE_STUB_HEAD "not implemented yet: "
#define GRADE_STUB_MID "() at "
#define GRADE_STUB_TAIL " still has its TODO stub"

#endif /* GRADE_STUB_H */
