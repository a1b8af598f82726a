# Debian packages that the build, the tests and a real kernel build need.
# `make deps` installs them (as root); `make check` runs it when one is missing.

DEB_PACKAGES := \
	gcc make pkg-config git ca-certificates curl time file \
	libcurl4-openssl-dev libarchive-dev libjq-dev jq libelf-dev zlib1g-dev libssl-dev \
	qemu-system-x86 busybox-static cpio xz-utils zstd python3 dpkg \
	clang-22 llvm-22 libbpf-dev \
	flex bison bc dwarves gpgv gnupg \
	scdoc man-db perl zsh fish elvish bash-completion

.PHONY: deps deps-check
deps:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(DEB_PACKAGES)

# Installs only when something is missing, so a prepared machine pays nothing.
deps-check:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "make: installing missing Debian packages:" $$missing; \
		$(MAKE) --no-print-directory deps; \
	fi
