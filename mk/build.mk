# Programs, the shared library and the guest agent.
#
# The build directory mirrors an installed tree, so programs find their data
# the same way in both: $(O)/bin, $(O)/libexec/ktstr, $(O)/share/ktstr.
#
# Every directory tools/ktstr-NAME/ becomes the program $(O)/bin/ktstr-NAME,
# linked with libktstr and the libraries listed in tools/ktstr-NAME/libs.

LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(O)/obj/%.o)
LIBKTSTR := $(O)/obj/libktstr.a

TOOLS := $(notdir $(wildcard tools/ktstr-*))
TOOL_BINS := $(TOOLS:%=$(O)/bin/%)
DISPATCH_SRC := $(wildcard bin/*.c)
DISPATCH_OBJ := $(DISPATCH_SRC:%.c=$(O)/obj/%.o)
DISPATCH_BINS := $(O)/bin/cargo-ktstr $(O)/bin/ktstr
GUEST_SRC := $(wildcard guest/*.c)
GUEST_OBJ := $(GUEST_SRC:%.c=$(O)/obj/%.o)
GUEST_BIN := $(O)/libexec/ktstr/ktstr-guest
SHARE_LINK := $(O)/share/ktstr
FLAGS_STAMP := $(O)/obj/cflags.stamp

libs_of = $(shell cat $(1) 2>/dev/null)

.PHONY: all
all: $(DISPATCH_BINS) $(TOOL_BINS) $(if $(GUEST_SRC),$(GUEST_BIN)) $(SHARE_LINK)

# Rebuild everything when the compile flags change.
$(FLAGS_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(ALL_CFLAGS)' | cmp -s - $@ || echo '$(CC) $(ALL_CFLAGS)' > $@

$(O)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(quiet) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) $(CURL_CFLAGS) -c -o $@ $<

$(LIBKTSTR): $(LIB_OBJ)
	$(quiet) AR $@
	$(Q)rm -f $@ && $(AR) rcs $@ $^

define tool_rule
$(1)_SRC := $$(wildcard tools/$(1)/*.c)
$(1)_OBJ := $$($(1)_SRC:%.c=$$(O)/obj/%.o)
$$(O)/bin/$(1): $$($(1)_OBJ) $$(LIBKTSTR) $$(wildcard tools/$(1)/libs)
	@mkdir -p $$(@D)
	$$(quiet) LINK $$@
	$$(Q)$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$($(1)_OBJ) $$(LIBKTSTR) $$(call libs_of,tools/$(1)/libs)
-include $$($(1)_OBJ:.o=.d)
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

$(O)/bin/cargo-ktstr: $(DISPATCH_OBJ) $(LIBKTSTR) bin/libs
	@mkdir -p $(@D)
	$(quiet) LINK $@
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(DISPATCH_OBJ) $(LIBKTSTR) $(call libs_of,bin/libs)

# One program with two names: it looks at argv[0] to tell which it is.
$(O)/bin/ktstr: $(O)/bin/cargo-ktstr
	$(quiet) LN $@
	$(Q)ln -f $< $@

# The guest agent runs as PID 1 in an initramfs without a dynamic loader.
$(GUEST_BIN): $(GUEST_OBJ) $(LIBKTSTR)
	@mkdir -p $(@D)
	$(quiet) LINK $@
	$(Q)$(CC) $(CFLAGS) -static -o $@ $(GUEST_OBJ) $(LIBKTSTR)

$(SHARE_LINK):
	@mkdir -p $(@D)
	$(Q)ln -sfn $(CURDIR)/share $@

.PHONY: clean FORCE
clean:
	rm -rf $(O)

-include $(LIB_OBJ:.o=.d) $(DISPATCH_OBJ:.o=.d) $(GUEST_OBJ:.o=.d)
