# Production async patterns in C, on libuv — the workbook's Makefile.
#
#   make grade            grade your labs (labs/): a table, and files in build/results/
#   make grade LAB=00     grade one lab;  SRC=solutions or SRC=path/to/dir: grade another tree
#   make grade STRICT=1   exit non-zero below full marks (for CI gates)
#   make run LAB=00       run lab 00's demo
#   make check            the project's own tests (solutions, starters, mutants, sanitizers)
#   make help             every target
#
# Parameters: LAB (a number or NN-slug), SRC (default labs), MODE (debug|asan),
# TIMEOUT_SCALE (multiplies every test timeout, for slow machines), RESULTS.

MODE ?= debug
SRC ?= labs
LAB ?=
STRICT ?=
RESULTS ?= build/results
export MODE

include mk/flags.mk
include mk/book.mk

LIB_DIR := build/$(MODE)/lib
HELPER_SRCS := $(wildcard helpers/*.c)
# The grader's two programs (grader/grader.h): the harness, which never
# links lab code, and the test program; table.c is in both.
HARNESS_SRCS := grader/runner.c grader/spawn.c grader/table.c
GRADER_SRCS := grader/child.c grader/alloc.c grader/table.c
HELPER_OBJS := $(patsubst %.c,build/$(MODE)/obj/%.o,$(HELPER_SRCS))
GRADER_OBJS := $(patsubst %.c,build/$(MODE)/obj/%.o,$(GRADER_SRCS))
HARNESS_OBJS := $(patsubst %.c,build/$(MODE)/obj/%.o,$(HARNESS_SRCS))
REPORT := build/tools/report
REPORT_SRCS := $(wildcard grader/report/*.c)

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@sed -n 's/^\([a-z_.-]*\):.*## \(.*\)/  make \1\t\2/p' $(MAKEFILE_LIST) | expand -t 28 \
	  $(if $(FULL_REPO_GOALS),| grep -vE '^  make ($(subst $() ,|,$(strip $(FULL_REPO_GOALS)))) ')

.PHONY: deps
deps: ## install (as root) or name what grading needs
	@tools/deps.sh grade

.PHONY: deps-pages
deps-pages:
	@tools/deps.sh pages

.PHONY: deps-dev
deps-dev: ## install (as root) or name what make check and the book need
	@tools/deps.sh dev

.PHONY: deps-fresh
deps-fresh: ## install (as root) or name what make check-fresh needs (debootstrap, bubblewrap, git)
	@tools/deps.sh fresh

.PHONY: libs
libs: $(LIB_DIR)/libap.a $(LIB_DIR)/libgrade.a $(LIB_DIR)/libharness.a $(REPORT)

$(LIB_DIR)/libap.a: $(HELPER_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(LIB_DIR)/libgrade.a: $(GRADER_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(LIB_DIR)/libharness.a: $(HARNESS_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

build/$(MODE)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ihelpers -Igrader -c $< -o $@

# The reporter never runs lab code: always built plainly.
$(REPORT): $(REPORT_SRCS) grader/report/report.h grader/stub.h
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra -Werror -O1 -g -D_POSIX_C_SOURCE=200809L $(REPORT_SRCS) -o $@

.PHONY: grade
grade: deps ## grade the labs (LAB=NN, SRC=dir, STRICT=1)
	@$(MAKE) --no-print-directory -s libs
	@SRC="$(SRC)" LAB="$(LAB)" STRICT="$(STRICT)" RESULTS="$(RESULTS)" grader/grade.sh

.PHONY: run
run: deps ## run a lab's demo (LAB=NN; SRC=solutions for the reference)
	@$(MAKE) --no-print-directory -s libs
	@SRC="$(SRC)" LAB="$(LAB)" grader/grade.sh --demo

.PHONY: check
check: deps-dev ## the project's own tests (LAB=NN: one lab's part; PERTURB=mutants: check-perturb's work too, as CI runs it)
	@LAB="$(LAB)" tools/selftest.sh

# Tiers of make check (tools/selftest.sh's PARTS): one lab's part, the
# book, the classroom tools.
.PHONY: check-lab
check-lab: deps-dev ## one lab's part of make check (LAB=NN): solution, starter, mutants, sample, perturbed runs
	@[ -n "$(LAB)" ] || { echo "make check-lab needs a lab: make check-lab LAB=03"; exit 2; }
	@LAB="$(LAB)" PARTS="labs perturb" tools/selftest.sh

.PHONY: check-book
check-book: deps-dev ## make check's book part: both editions built and checked as a reader would
	@PARTS=book tools/selftest.sh

.PHONY: check-classroom
check-classroom: deps-dev ## make check's classroom part: handout, gradebook, CI templates, watch, progress
	@PARTS=classroom tools/selftest.sh

.PHONY: check-fresh
check-fresh: deps-fresh ## the README's make grade and make check on a fresh minimal Debian 12 (root; slow; what CI runs)
	@tools/check-fresh.sh

.PHONY: check-perturb
check-perturb: deps-dev ## solutions and every mutant graded under several loop perturbations: same verdicts
	@tools/perturb.sh --mutants

.PHONY: check-hostile
check-hostile: deps-dev ## the hostile submissions alone: tests/hostile, the sandbox, the gradebook's attacks
	@$(MAKE) --no-print-directory -s libs
	@tools/hostile.sh

# Mutants nobody chose (tools/mutate.py): every mutant the operators make of
# the solutions' student-written regions, graded; reports in build/mutate/.
.PHONY: mutate
mutate: deps-dev ## grade generated mutants (LAB=NN SAMPLE=n SEED=s IDS=a,b HIDDEN=0 MIN_KILL=90 STRICT=1)
	@$(MAKE) --no-print-directory -s MODE=debug libs
	@/usr/bin/python3 tools/mutate.py $(LAB) $(if $(SAMPLE),--sample $(SAMPLE) --seed $(or $(SEED),0)) $(if $(IDS),--ids $(IDS)) \
	  $(if $(HIDDEN),--hidden $(HIDDEN)) $(if $(MIN_KILL),--min-kill $(MIN_KILL)) $(if $(STRICT),--strict)

.PHONY: stress
stress: deps ## grade the solutions N times (default 50) and compare the results
	@$(MAKE) --no-print-directory -s libs
	@tools/stress.sh $(or $(N),50)

.PHONY: starters
starters: ## regenerate labs/ from solutions/ (overwrites your work in labs/!)
	@tools/mkstarter.sh solutions labs

.PHONY: compile_commands.json
compile_commands.json: ## a compilation database for editors (needs bear)
	@command -v bear > /dev/null || { echo "install bear: sudo apt-get install -y bear"; exit 1; }
	bear --output $@ -- tools/build-all.sh

# The C files kept in .clang-format's shape: make format rewrites them, make
# format-check (run by make check) lists those that differ. labs/ is generated
# (make starters), but a starter must be clean as shipped: when only labs/
# differs, fix the STARTER lines or SOLUTION regions in solutions/.
# In a student's handout (no solutions/) only the student's files: the rest
# is the course's, and its manifest would flag a reformatted grader.
FORMAT_SRCS := $(if $(wildcard solutions),$(wildcard helpers/*.[ch] grader/*.[ch] grader/report/*.[ch] \
                 solutions/*/*.[ch] labs/*/*.[ch] tests/*/*.c tests/*/hidden/*.c bench/*.[ch] \
                 tools/*.c),$(wildcard labs/*/*.[ch]))

.PHONY: format
format: ## clang-format the C sources in place (FORMAT_SRCS)
	@clang-format -i $(FORMAT_SRCS)

.PHONY: format-check
.PHONY: shellcheck
shellcheck: ## shellcheck every shell script (.shellcheckrc); fails on a finding
	@tools/shellcheck.sh

format-check: ## list the C files clang-format would change; fails if there is one
	@command -v clang-format > /dev/null || { echo "format-check: clang-format is not installed (make deps-dev)"; exit 1; }
	@out=$$(clang-format --dry-run $(FORMAT_SRCS) 2>&1) || { printf '%s\n' "$$out"; exit 1; }; \
	bad=$$(printf '%s\n' "$$out" | sed -n 's/:[0-9]*:[0-9]*: warning: .*\[-Wclang-format-violations\]$$//p' | sort -u); \
	[ -z "$$bad" ] || { printf '%s\n' $$bad; echo "format-check: these files differ from .clang-format; run: make format"; exit 1; }

.PHONY: clean
clean: ## remove build/
	rm -rf build

include mk/upstream.mk
include mk/bench.mk
include mk/classroom.mk

-include $(HELPER_OBJS:.o=.d) $(GRADER_OBJS:.o=.d)
