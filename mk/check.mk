# Tests: C unit tests for lib/ and shell tests for the tools, all TAP, run by prove.
#
# Tests that boot VMs need the test assets (a Debian sched_ext kernel and the
# kernel's example schedulers); scripts/test-assets fetches them once into a
# cache directory outside the checkout and prints the path of their env file.

UNIT_SRC := $(wildcard t/unit/test-*.c)
UNIT_BINS := $(UNIT_SRC:t/unit/%.c=$(O)/t/%)
UNIT_LIBS := -ljq -lcurl -larchive -lelf -lz -lcrypto -lm
PROVE_JOBS ?= 2
TESTS ?= $(wildcard t/*.t)
SLOW_TESTS ?= $(wildcard t/slow/*.t)

$(O)/t/%: $(O)/obj/t/unit/%.o $(LIBKTSTR)
	@mkdir -p $(@D)
	$(quiet) LINK $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBKTSTR) $(UNIT_LIBS)

-include $(UNIT_SRC:t/unit/%.c=$(O)/obj/t/unit/%.d)

.PHONY: check check-slow test-build assets
test-build: all $(UNIT_BINS)

assets:
	@scripts/test-assets >/dev/null

TEST_ENV = KTSTR_BUILD=$(O) KTSTR_SRC=$(CURDIR) PATH=$(O)/bin:$$PATH

check: deps-check
	@$(MAKE) --no-print-directory test-build
	@$(MAKE) --no-print-directory assets
	$(TEST_ENV) prove -j$(PROVE_JOBS) --timer $(TESTS)

check-slow: deps-check
	@$(MAKE) --no-print-directory test-build
	@$(MAKE) --no-print-directory assets
	$(TEST_ENV) prove --timer $(SLOW_TESTS)

# The README's main job: a real kernel, a real scheduler, a checked scenario, a sidecar.
.PHONY: demo
demo: deps-check
	@$(MAKE) --no-print-directory all
	KTSTR_BUILD=$(O) scripts/demo
