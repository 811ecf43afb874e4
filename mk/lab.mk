# lab.mk — builds one lab from its staged copy: the harness, the test program, the demo.
#
# Called by grader/grade.sh from the repository's root, never by hand:
#   make -f mk/lab.mk STAGE=build/debug/labs/<tag>/00-the-loop/stage \
#        TEST_DIR=tests/00-the-loop OUT=build/debug/labs/<tag>/00-the-loop MODE=debug \
#        harness|objects|lab-objects|test-objects|tests|demo
# Nothing is read from the submission itself: grader/stage.sh copied what
# may be built into STAGE, every name checked (make and the shell only see
# names of letters, digits, _ . -):
#   STAGE/lab/            the lab's .c files (demo.c is the demo) and headers,
#                         the course's headers over the student's
#   STAGE/uses/NN-slug/   the same for each lab it uses (not their demos)
#   STAGE/inc/            what the tests see: grade.h, ap.h, the course's headers
# TESTS_OUT (default OUT) is where the tests' objects and the harness go,
# compiled against TEST_STAGE/inc (default STAGE): grade.sh builds them once
# per lab and mode, for every tree it grades, since they are made from tests/
# and the course's headers alone.
# (LAB_NAME, not LAB: a LAB given to the top-level make reaches this one.)
# GRADE_SRC (environment) is the lab folder's parent as the student names it:
# the lab's file names in messages (__FILE__) are shown under it.

include mk/flags.mk

LIB_DIR := build/$(MODE)/lib
TESTS_OUT ?= $(OUT)
TEST_STAGE ?= $(STAGE)
LAB_NAME := $(notdir $(TEST_DIR))
USES := $(notdir $(wildcard $(STAGE)/uses/*))
LAB_SRCS := $(filter-out %/demo.c,$(wildcard $(STAGE)/lab/*.c))
USE_SRCS := $(filter-out %/demo.c,$(foreach u,$(USES),$(wildcard $(STAGE)/uses/$(u)/*.c)))
TEST_SRCS := $(wildcard $(TEST_DIR)/*.c $(TEST_DIR)/hidden/*.c)
LAB_OBJS := $(patsubst $(STAGE)/lab/%.c,$(OUT)/lab/%.o,$(LAB_SRCS))
USE_OBJS := $(patsubst $(STAGE)/uses/%.c,$(OUT)/uses/%.o,$(USE_SRCS))
TEST_OBJS := $(patsubst $(TEST_DIR)/%.c,$(TESTS_OUT)/test/%.o,$(TEST_SRCS))
LIST_OBJS := $(patsubst $(TEST_DIR)/%.c,$(TESTS_OUT)/list/%.o,$(TEST_SRCS))
# Tests see the course's headers only; lab code its own folder first.
TEST_INCLUDES := -I$(TEST_STAGE)/inc
LAB_INCLUDES := -I$(STAGE)/lab $(addprefix -I$(STAGE)/uses/,$(USES)) -I$(STAGE)/inc
# Quoted: the student's folder may have any name; the shell expands it, never make.
LAB_PREFIX_MAP := "-ffile-prefix-map=$(STAGE)/lab=$${GRADE_SRC:-labs}/$(LAB_NAME)" \
                  "-ffile-prefix-map=$(STAGE)/uses=$${GRADE_SRC:-labs}"

# The lab's calls to malloc, calloc, realloc, strdup, strndup and free go to
# the grader's counting versions (grader/alloc.c, which says why this way): renamed in
# the lab's objects once compiled, so a test can make the lab's allocations
# fail (grade_fail_alloc) and nothing else's. The demo links that one member
# of libgrade.a for them.
OBJCOPY ?= objcopy
LAB_ALLOCS := malloc calloc realloc strdup strndup free
LAB_REDEFINE := $(foreach f,$(LAB_ALLOCS),--redefine-sym $(f)=grade_lab_$(f))

.PHONY: harness objects lab-objects test-objects tests demo runner grader-syms
harness: $(TESTS_OUT)/harness
objects: test-objects lab-objects
# The lab's code is compiled apart (grade.sh does it in the sandbox, where
# the tests' sources, hidden ones included, cannot be read).
lab-objects: $(LAB_OBJS) $(USE_OBJS)
test-objects: $(TEST_OBJS)
tests: $(OUT)/tests
demo: $(OUT)/demo
runner: harness tests

# The harness: the tests' tables and the grader, no lab code (grader/runner.c).
$(TESTS_OUT)/harness: $(LIST_OBJS) $(LIB_DIR)/libharness.a $(LIB_DIR)/libap.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The global names of the grader's side, which lab code may not define
# (grade.sh checks): what the archives define or call (a lab's uv_run would
# serve the helpers) and what the test objects define.
grader-syms: $(TESTS_OUT)/grader.syms
$(TESTS_OUT)/grader.syms: $(TEST_OBJS) $(LIB_DIR)/libgrade.a $(LIB_DIR)/libap.a
	{ nm -g $(LIB_DIR)/libgrade.a $(LIB_DIR)/libap.a && nm -g --defined-only $(TEST_OBJS); } | \
	  awk 'NF >= 2 { print $$NF }' | LC_ALL=C sort -u > $@

# The test program: tests + the lab + the grader's side of a test + the helpers.
$(OUT)/tests: $(TEST_OBJS) $(LAB_OBJS) $(USE_OBJS) $(LIB_DIR)/libgrade.a $(LIB_DIR)/libap.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(OUT)/demo: $(OUT)/lab/demo.o $(LAB_OBJS) $(USE_OBJS) $(LIB_DIR)/libgrade.a $(LIB_DIR)/libap.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# An object whose recipe failed halfway (compiled, not renamed) is removed;
# the lab's objects are rebuilt when this file (their renaming) changes.
.DELETE_ON_ERROR:

# A file that still has an AP_TODO() stub is a starter being written: its
# stubs leave parameters, variables and static helpers unused on purpose, so
# those warnings are off for it (the starters need no `(void) x;` lines).
# Once its last stub is gone the file gets every warning again.
STARTER_CFLAGS := -Wno-unused-parameter -Wno-unused-function -Wno-unused-variable \
                  -Wno-unused-but-set-variable

# A lab's source, its own or a lab it uses: compiled, then renamed.
define lab_object
@mkdir -p $(@D)
$(CC) $(CFLAGS) $$(grep -qs 'AP_TODO()' $< && echo '$(STARTER_CFLAGS)') $(LAB_PREFIX_MAP) $(LAB_INCLUDES) -c $< -o $@
$(OBJCOPY) $(LAB_REDEFINE) $@
endef

$(OUT)/lab/%.o: $(STAGE)/lab/%.c mk/lab.mk
	$(lab_object)

$(OUT)/uses/%.o: $(STAGE)/uses/%.c mk/lab.mk
	$(lab_object)

# A test frees what the lab hands it (lab 04's text): its free is the
# tracking one too, so that block counts as freed.
$(TESTS_OUT)/test/%.o: $(TEST_DIR)/%.c mk/lab.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_INCLUDES) -c $< -o $@
	$(OBJCOPY) --redefine-sym free=grade_lab_free $@

$(TESTS_OUT)/list/%.o: $(TEST_DIR)/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DGRADE_LIST_ONLY -Wno-error -Wno-unused-function $(TEST_INCLUDES) -c $< -o $@

-include $(LAB_OBJS:.o=.d) $(USE_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(LIST_OBJS:.o=.d) $(OUT)/lab/demo.d
