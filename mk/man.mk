# Man pages: scdoc sources in man/NAME.SECTION.scd, built to roff.

MAN_SRC := $(wildcard man/*.scd)
MAN_PAGES := $(patsubst man/%.scd,$(O)/share/man/%,$(MAN_SRC))

.PHONY: man
all: man
man: $(MAN_PAGES)

$(O)/share/man/%: man/%.scd
	@mkdir -p $(@D)
	$(quiet) SCDOC $@
	$(Q)scdoc < $< > $@
