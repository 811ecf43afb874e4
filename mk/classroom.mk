# classroom.mk — for instructors and for students working alone.
#
#   make handout            build/handout/ and build/handout.tar.gz: what students get
#                           (LABS="00 02": only those labs)
#   make gradebook SUBMISSIONS=dir [SHARD=k/n] [LAB=NN] [JOBS=n]
#                           grade every submission in dir: build/gradebook/gradebook.csv
#   make gradebook-merge PARTS="dir1 dir2 ..."
#                           join the slices of SHARD=k/n runs into build/gradebook/
#   make watch LAB=NN       re-grade a lab each time one of its files is saved
#   make progress           which labs are done, partly done, not started; what next
#
# Included by the top-level Makefile. In a handout (no solutions/), the
# targets that need the reference solutions stop at once and say so, before
# anything is touched: make starters there would overwrite labs/.

GRADEBOOK ?= build/gradebook
export GRADEBOOK

ifeq ($(wildcard solutions/.),)
FULL_REPO_GOALS := check check-hostile starters stress handout gradebook gradebook-merge \
	compile_commands.json book book-check book-html book-student bench bench-smoke bench-plots
ifneq ($(filter $(FULL_REPO_GOALS),$(MAKECMDGOALS)),)
$(error make $(filter $(FULL_REPO_GOALS),$(MAKECMDGOALS)) needs the full repository, \
with solutions/: this is a student handout. Your work is in labs/; grade it with make grade; \
the book is built already: book/index.html)
endif
endif

.PHONY: handout
handout: deps-dev ## the student handout: build/handout/ and build/handout.tar.gz (LABS="00 02")
	@LABS="$(LABS)" tools/handout.sh build/handout

.PHONY: gradebook
gradebook: deps ## grade a folder of submissions in the sandbox (SUBMISSIONS=dir, SHARD=k/n, JOBS=n)
	@[ "$(SANDBOX)" = 0 ] || tools/deps.sh gradebook
	@SANDBOX="$(SANDBOX)" SUBMISSIONS="$(SUBMISSIONS)" SHARD="$(SHARD)" LAB="$(LAB)" JOBS="$(JOBS)" tools/gradebook.sh

.PHONY: gradebook-merge
gradebook-merge: ## join gradebook slices (PARTS="dir1 dir2 ...") into build/gradebook/
	@PARTS="$(PARTS)" tools/gradebook-merge.sh

.PHONY: watch
watch: deps ## re-grade a lab each time one of its files is saved (LAB=NN)
	@SRC="$(SRC)" LAB="$(LAB)" RESULTS="$(RESULTS)" tools/watch.sh

.PHONY: progress
progress: deps ## which labs are done, partly done, not started, and what to do next
	@SRC="$(SRC)" RESULTS="$(RESULTS)" tools/progress.sh
