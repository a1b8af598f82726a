# Installation under $(DESTDIR)$(PREFIX), laid out like the build directory so
# that programs find share/ and libexec/ relative to their own location.

bindir := $(PREFIX)/bin
libexecdir := $(PREFIX)/libexec/ktstr
datadir := $(PREFIX)/share/ktstr
mandir := $(PREFIX)/share/man

.PHONY: install uninstall
install: all
	install -d '$(DESTDIR)$(bindir)' '$(DESTDIR)$(libexecdir)' '$(DESTDIR)$(datadir)'
	install -m 0755 $(O)/bin/cargo-ktstr $(TOOL_BINS) '$(DESTDIR)$(bindir)'
	ln -f '$(DESTDIR)$(bindir)/cargo-ktstr' '$(DESTDIR)$(bindir)/ktstr'
	$(if $(GUEST_SRC),install -m 0755 $(GUEST_BIN) '$(DESTDIR)$(libexecdir)')
	cp -R share/. '$(DESTDIR)$(datadir)/'
	for page in $(MAN_PAGES); do \
		section=$${page##*.}; \
		install -d "$(DESTDIR)$(mandir)/man$$section"; \
		install -m 0644 "$$page" "$(DESTDIR)$(mandir)/man$$section/"; \
	done

uninstall:
	rm -f '$(DESTDIR)$(bindir)/cargo-ktstr' '$(DESTDIR)$(bindir)/ktstr' \
		$(TOOLS:%='$(DESTDIR)$(bindir)/%')
	rm -rf '$(DESTDIR)$(libexecdir)' '$(DESTDIR)$(datadir)'
	for page in $(notdir $(MAN_PAGES)); do \
		rm -f "$(DESTDIR)$(mandir)/man$${page##*.}/$$page"; \
	done
