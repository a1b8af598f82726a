# Man pages: scdoc sources in man/NAME.SECTION.scd, built to roff in
# $(O)/share/man/manSECTION/, the layout man(1) searches, so
# `man -M build/share/man 7 ktstr` works before installing.

MAN_SRC := $(wildcard man/*.scd)
man_page = $(O)/share/man/man$(subst .,,$(suffix $(1)))/$(1)
MAN_PAGES := $(foreach src,$(MAN_SRC),$(call man_page,$(basename $(notdir $(src)))))

.PHONY: man
all: man
man: $(MAN_PAGES)

define man_rule
$(call man_page,$(1)): man/$(1).scd
	@mkdir -p $$(@D)
	$$(quiet) SCDOC $$@
	$$(Q)scdoc < $$< > $$@
endef
$(foreach src,$(MAN_SRC),$(eval $(call man_rule,$(basename $(notdir $(src))))))
