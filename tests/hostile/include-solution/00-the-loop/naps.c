/* naps.c — a hostile fixture (tests/hostile/README.md): the reference, by the grader's paths. */
#include "../../solutions/00-the-loop/naps.c"
