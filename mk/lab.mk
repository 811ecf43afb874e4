# lab.mk — builds one lab: its grading runner and its demo.
#
# Called by grader/grade.sh and the top-level Makefile, never by hand:
#   make -f mk/lab.mk LAB_DIR=<SRC>/00-the-loop TEST_DIR=tests/00-the-loop \
#        OUT=build/debug/labs/<tag>/00-the-loop MODE=debug runner|runner-list|demo
# LAB_DIR is the student's folder (demo.c there is the demo, every other .c is
# the lab); TEST_DIR holds the graded tests (and hidden/, absent from student
# handouts); OUT receives every object file.

ROOT := $(patsubst %/mk/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
include $(ROOT)/mk/flags.mk

LIB_DIR := $(ROOT)/build/$(MODE)/lib
# A lab may build on earlier ones: its file "uses" names lab folders (one per
# line) from the same tree, whose code (not their demos) is compiled in.
USES := $(shell cat $(LAB_DIR)/uses 2>/dev/null)
USE_DIRS := $(addprefix $(dir $(LAB_DIR)),$(USES))
LAB_SRCS := $(filter-out %/demo.c,$(wildcard $(LAB_DIR)/*.c))
USE_SRCS := $(filter-out %/demo.c,$(foreach d,$(USE_DIRS),$(wildcard $(d)/*.c)))
TEST_SRCS := $(wildcard $(TEST_DIR)/*.c $(TEST_DIR)/hidden/*.c)
LAB_OBJS := $(patsubst $(LAB_DIR)/%.c,$(OUT)/lab/%.o,$(LAB_SRCS))
USE_OBJS := $(foreach d,$(USES),$(patsubst $(dir $(LAB_DIR))$(d)/%.c,$(OUT)/uses/$(d)/%.o,$(filter $(dir $(LAB_DIR))$(d)/%,$(USE_SRCS))))
TEST_OBJS := $(patsubst $(TEST_DIR)/%.c,$(OUT)/test/%.o,$(TEST_SRCS))
LIST_OBJS := $(patsubst $(TEST_DIR)/%.c,$(OUT)/list/%.o,$(TEST_SRCS))
CFLAGS += -ffile-prefix-map=$(ROOT)/=
INCLUDES := -I$(LAB_DIR) $(addprefix -I,$(USE_DIRS)) -I$(ROOT)/helpers -I$(ROOT)/grader

# The lab's calls to malloc, calloc, realloc, strdup, strndup and free go to
# the grader's counting versions (grader/alloc.c, which says why this way): renamed in
# the lab's objects once compiled, so a test can make the lab's allocations
# fail (grade_fail_alloc) and nothing else's. The demo links that one member
# of libgrade.a for them.
OBJCOPY ?= objcopy
LAB_ALLOCS := malloc calloc realloc strdup strndup free
LAB_REDEFINE := $(foreach f,$(LAB_ALLOCS),--redefine-sym $(f)=grade_lab_$(f))

# The table alone needs only declarations: when the lab's own headers are
# missing or broken, the project's starter headers stand in.
LIST_FALLBACK := -I$(ROOT)/labs/$(notdir $(LAB_DIR))

.PHONY: runner runner-list demo
runner: $(OUT)/runner
runner-list: $(OUT)/runner-list
demo: $(OUT)/demo

# The graded runner: tests + the lab + the grader + the helper layer.
$(OUT)/runner: $(TEST_OBJS) $(LAB_OBJS) $(USE_OBJS) $(LIB_DIR)/libgrade.a $(LIB_DIR)/libap.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The test table alone, for a lab that does not compile: the bodies are
# compiled out (GRADE_LIST_ONLY) so nothing refers to the lab's functions.
$(OUT)/runner-list: $(LIST_OBJS) $(LIB_DIR)/libgrade.a $(LIB_DIR)/libap.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(OUT)/demo: $(OUT)/lab/demo.o $(LAB_OBJS) $(USE_OBJS) $(LIB_DIR)/libgrade.a $(LIB_DIR)/libap.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# An object whose recipe failed halfway (compiled, not renamed) is removed;
# the lab's objects are rebuilt when this file (their renaming) changes.
.DELETE_ON_ERROR:

# A lab's source, its own or a lab it uses: compiled, then renamed.
define lab_object
@mkdir -p $(@D)
$(CC) $(CFLAGS) $(INCLUDES) -c $< -o $@
$(OBJCOPY) $(LAB_REDEFINE) $@
endef

$(OUT)/lab/%.o: $(LAB_DIR)/%.c $(ROOT)/mk/lab.mk
	$(lab_object)

$(OUT)/uses/%.o: $(dir $(LAB_DIR))%.c $(ROOT)/mk/lab.mk
	$(lab_object)

# A test frees what the lab hands it (lab 04's text): its free is the
# tracking one too, so that block counts as freed.
$(OUT)/test/%.o: $(TEST_DIR)/%.c $(ROOT)/mk/lab.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(INCLUDES) -c $< -o $@
	$(OBJCOPY) --redefine-sym free=grade_lab_free $@

$(OUT)/list/%.o: $(TEST_DIR)/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DGRADE_LIST_ONLY -Wno-error -Wno-unused-function $(INCLUDES) $(LIST_FALLBACK) -c $< -o $@

-include $(LAB_OBJS:.o=.d) $(USE_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(LIST_OBJS:.o=.d) $(OUT)/lab/demo.d
