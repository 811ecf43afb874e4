# upstream.mk — the standalone HTTP upstream (helpers/upstream.c behind
# tools/upstream-main.c), to talk to with curl or nc; included by the Makefile.
#
#   make upstream        builds build/$(MODE)/bin/upstream
#   build/debug/bin/upstream --port 8080 --max-conns 4 --latency 100

UPSTREAM_BIN := build/$(MODE)/bin/upstream

.PHONY: upstream
upstream: $(UPSTREAM_BIN) ## build the local HTTP upstream (build/debug/bin/upstream --help)

$(UPSTREAM_BIN): tools/upstream-main.c $(LIB_DIR)/libap.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ihelpers $(LDFLAGS) -o $@ $< $(LIB_DIR)/libap.a $(LDLIBS)

-include $(UPSTREAM_BIN).d
