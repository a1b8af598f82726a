#!/bin/sh
# Runs each C unit test of lib/ and relays its TAP as one subtest line each.
. "${0%/*}/lib/test-lib.sh"

for test_bin in "$KTSTR_BUILD"/t/test-*; do
	[ -x "$test_bin" ] || continue
	name=${test_bin##*/}
	if "$test_bin" >"$T/$name.tap" 2>&1; then
		ok "unit $name"
	else
		not_ok "unit $name"
		grep -v '^ok ' "$T/$name.tap" | sed 's/^/# /' >&2
	fi
done
done_testing
