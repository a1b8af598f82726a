#!/bin/sh
# --scheduler PKG: ktstr-verifier builds the package with cargo in the
# working directory and takes the binary from cargo's JSON messages.  The
# workspace in t/fixtures/cargo-sched builds offline (std only).

# rustup's cargo finds its toolchains under the real home, which test-lib
# replaces with a scratch one.
if [ -z "${RUSTUP_HOME:-}" ] && [ -d "${HOME:-/nonexistent}/.rustup" ]; then
	RUSTUP_HOME=$HOME/.rustup
	export RUSTUP_HOME
fi
. "${0%/*}/lib/test-lib.sh"
export CARGO_HOME="$T/cargo-home" CARGO_NET_OFFLINE=true
unset CARGO CARGO_TARGET_DIR

WS=$T/ws
cp -R "$KTSTR_SRC/t/fixtures/cargo-sched" "$WS"
cd "$WS" || exit 1

# Without cargo: a one-line error that says what to do.
mkdir "$T/empty-bin"
expect_status 2 'cargo missing' env PATH="$T/empty-bin" "$KTSTR_BUILD/bin/ktstr-verifier" \
	--scheduler fake-sched --list-profiles
like "$(cat "$err")" "cannot build scheduler package 'fake-sched': cargo not found on PATH; install Rust's cargo or pass the binary with --scheduler-bin PATH" \
	'missing cargo error says what to do'
one_line_error 'missing cargo error is one line'

if ! command -v cargo >/dev/null 2>&1; then
	skip 'cargo is not installed'
	done_testing
fi

expect_status 0 'build package and list its profiles' \
	ktstr-verifier --scheduler fake-sched --all-profiles --list-profiles
printf 'default\nfast\t--fast\nfast+turbo\t--fast --turbo\n' >"$T/expected"
check 'profiles come from the built binary' cmp -s "$out" "$T/expected"
like "$(cat "$err")" "building scheduler package 'fake-sched' with cargo" 'build is announced on stderr'
check 'binary is in the workspace target directory' test -x "$WS/target/debug/fake-sched"

expect_status 0 'cargo sets CARGO for plugins' env CARGO="$(command -v cargo)" \
	"$KTSTR_BUILD/bin/cargo-ktstr" ktstr verifier --scheduler fake-sched --profiles fast+turbo --list-profiles
is "$(cat "$out")" "$(printf 'fast+turbo\t--fast --turbo')" 'cargo ktstr verifier builds through $CARGO'

expect_status 2 'build failure' ktstr-verifier --scheduler broken-sched --list-profiles
like "$(cat "$err")" 'mismatched types' "the compiler's error is shown"
like "$(cat "$err")" "cargo build of scheduler package 'broken-sched' failed \\(exit status 101\\)" \
	'build failure names the package and status'
is "$(wc -c <"$out" | tr -d ' ')" 0 'nothing on stdout after a failed build'

expect_status 2 'package without a binary' ktstr-verifier --scheduler lib-only --list-profiles
like "$(tail -n1 "$err")" "cargo built no binary for package 'lib-only': it has no bin target" 'no binary named'

expect_status 2 'package with two binaries' ktstr-verifier --scheduler two-bins --list-profiles
like "$(tail -n1 "$err")" "package 'two-bins' has several binaries \\((sched-a, sched-b|sched-b, sched-a)\\)" \
	'several binaries listed'

expect_status 2 'unknown package' ktstr-verifier --scheduler no-such-package --list-profiles
like "$(cat "$err")" 'did not match any packages' "cargo's own error is shown"
like "$(tail -n1 "$err")" "cargo build of scheduler package 'no-such-package' failed" 'unknown package failure named'
done_testing
