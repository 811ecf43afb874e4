# bench.mk — the benchmarks: the workbook's patterns against raw libuv,
# Python's asyncio and uvloop, and Node.js (tools/bench.sh runs them; bench/*.c are the programs).
#
#   make bench              every benchmark, BENCH_RUNS times (default 5), the
#                           median of each: build/bench/*.csv, *.svg (gnuplot),
#                           summary.md (the targets, pass/miss), machine.txt
#   make bench BENCH_ONLY="server sweep"
#                           only those benchmarks (fanout order offload sweep
#                           grade server); build/bench/ then holds them alone
#   make bench-plots        redraw the plots and the summary from build/bench/*.csv
#   make bench-smoke        each benchmark once with tiny sizes, into
#                           build/bench-smoke/ (part of make check)
#
# Included by the top-level Makefile. The programs are built with -O2 and
# no sanitizer, from the reference solutions (solutions/NN-slug/*.c except
# demo.c) and a -O2 helper library of their own (build/bench/lib/libap.a):
# the project's debug and asan builds are left alone. The book shows the
# plots: build/book/img/bench-*.svg is the measured plot when make bench has
# run, and a placeholder that says so when it has not.

BENCH := build/bench
BENCH_RUNS ?= 5
BENCH_CFLAGS := -std=c11 -Wall -Wextra -Werror -O2 -g -D_POSIX_C_SOURCE=200809L \
	-MMD -MP $(PKG_CFLAGS)
BENCH_PROGS := fanout order offload lag sweep srvd overload
BENCH_BINS := $(BENCH_PROGS:%=$(BENCH)/bin/%)
# The lab whose reference solution each program measures.
BENCH_LAB_fanout := 03-bounded-fan-out
BENCH_LAB_sweep := 03-bounded-fan-out
BENCH_LAB_order := 02-completion-order
BENCH_LAB_offload := 04-offloading
BENCH_LAB_lag := 04-offloading
BENCH_LAB_srvd := 07-server-side
# overload (the generator that drives srvd and the peers' servers) measures no lab.

# A lab and the labs it builds on (grader/labs.sh, as for make grade).
bench_labs = $(if $(1),$(1) $(shell bash -c '. grader/labs.sh && labs_used_by "$$1" solutions' bench $(1)))
bench_lab_objs = $(patsubst %.c,$(BENCH)/obj/%.o,$(filter-out %/demo.c,\
	$(foreach l,$(call bench_labs,$(1)),$(wildcard solutions/$(l)/*.c))))
# The lab a source is compiled for: its folder under solutions/, or the one
# its benchmark program measures.
bench_src_lab = $(if $(filter solutions/%,$(1)),$(notdir $(patsubst %/,%,$(dir $(1)))),$(BENCH_LAB_$(basename $(notdir $(1)))))
BENCH_HELPER_OBJS := $(patsubst %.c,$(BENCH)/obj/%.o,$(wildcard helpers/*.c))

.PHONY: bench
bench: deps-bench ## benchmarks vs raw libuv, asyncio, uvloop, Node.js: build/bench/ (slow; BENCH_RUNS=5, PEERS=, BENCH_ONLY=)
	@$(MAKE) --no-print-directory -s bench-bins
	@BENCH_RUNS=$(BENCH_RUNS) BENCH_ONLY="$(BENCH_ONLY)" $(if $(filter undefined,$(origin PEERS)),,PEERS="$(PEERS)") tools/bench.sh full $(BENCH)

.PHONY: deps-bench
deps-bench: ## install (as root) or name what make bench needs (the peers too)
	@tools/deps.sh bench

.PHONY: bench-plots
bench-plots: ## redraw the benchmark plots and summary from build/bench/*.csv
	@$(MAKE) --no-print-directory -s bench-bins
	@BENCH_REPLOT=1 tools/bench.sh full $(BENCH)

.PHONY: bench-smoke
bench-smoke: ## each benchmark once, tiny sizes: build/bench-smoke/
	@$(MAKE) --no-print-directory -s bench-bins
	@tools/bench.sh smoke build/bench-smoke

.PHONY: bench-bins
bench-bins: $(BENCH_BINS)

$(BENCH)/lib/libap.a: $(BENCH_HELPER_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(BENCH)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -Ihelpers -Ibench $(addprefix -Isolutions/,$(call bench_labs,$(call bench_src_lab,$<))) \
		$(addprefix -I,$(dir $<)) -c $< -o $@

define bench_prog
$(BENCH)/bin/$(1): $(BENCH)/obj/bench/$(1).o $(BENCH)/obj/bench/bench.o \
		$(call bench_lab_objs,$(BENCH_LAB_$(1))) $(BENCH)/lib/libap.a
	@mkdir -p $$(@D)
	$$(CC) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(BENCH_PROGS),$(eval $(call bench_prog,$(p))))

# ---- the book's copies of the plots -------------------------------------------
# A page only needs each picture to exist (order-only, like the timelines):
# the measured one when there is one, else a placeholder that says how to
# make it. The measured plot, once there, is newer and replaces it.
BENCH_PLOTS := fanout sweep offload lag server
BENCH_BOOK_SVGS := $(BENCH_PLOTS:%=$(BOOK)/img/bench-%.svg)

$(BOOK)/img/bench-%.svg: $(wildcard $(BENCH)/*.svg) tools/bench.sh
	@mkdir -p $(@D)
	@tools/bench.sh book-svg $* $(BENCH) $@

$(BOOK_PAGES) $(BOOK)/book.html: | $(BENCH_BOOK_SVGS)
# The EPUB and the PDF carry the pictures inside: remade when a plot is.
$(BOOK)/book.epub $(BOOK)/book.pdf: $(BENCH_BOOK_SVGS)

-include $(wildcard $(BENCH)/obj/*/*.d $(BENCH)/obj/*/*/*.d)
