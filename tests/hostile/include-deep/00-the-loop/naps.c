/* naps.c — a hostile fixture (tests/hostile/README.md): the reference, from the build folder up. */
#include "../../../../../../../solutions/00-the-loop/naps.c"
