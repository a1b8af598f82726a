#!/bin/sh
# cargo ktstr test: the exec chain into cargo nextest run (a stand-in that
# records its argv and environment, because cargo-nextest cannot be installed
# here), the cargo test fallback (real cargo), and bad input.
#
# test-lib.sh points HOME at the scratch directory; rustup's proxies need
# the real toolchain directory, so keep it.
: "${RUSTUP_HOME:=${HOME:-/root}/.rustup}"
export RUSTUP_HOME
. "${0%/*}/lib/test-lib.sh"

export CARGO_TARGET_DIR=$T/target
export KTSTR_STANDIN_LOG=$T/log
mkdir -p "$KTSTR_STANDIN_LOG" "$T/standins"
ln -s "$KTSTR_SRC/t/fixtures/standins/cargo-nextest" "$T/standins/cargo-nextest"
cp -r "$KTSTR_SRC/t/fixtures/cargo-tests" "$T/project"
cp -r "$KTSTR_SRC/t/fixtures/cargo-empty" "$T/empty"
cd "$T/project" || exit 1
unset CARGO

base_path=$PATH
with_nextest=$T/standins:$base_path

# lines FILE: the file's lines joined by '|', to compare argv in one check.
lines() {
	tr '\n' '|' <"$1"
}

# env_value NAME: the value the stand-in saw, or "unset".
env_value() {
	grep "^$1=" "$KTSTR_STANDIN_LOG/cargo-nextest.env" | cut -d= -f2- | grep . || echo unset
}

expect_status 0 'test --help exits 0' cargo-ktstr ktstr test --help
like "$(cat "$out")" '^Usage: cargo ktstr test \[--kernel ID\]' 'help starts with the synopsis'
is "$(cat "$err")" '' 'help writes nothing on stderr'

# The chain through real cargo into the nextest stand-in.
PATH=$with_nextest expect_status 0 'stand-in nextest runs through cargo' \
	cargo-ktstr ktstr test -- -E 'test(a b)' --retries 2 '' --kernel 6.14
is "$(lines "$KTSTR_STANDIN_LOG/cargo-nextest.argv")" 'nextest|run|-E|test(a b)|--retries|2||--kernel|6.14|' \
	'stand-in nextest gets arguments after -- unchanged'
like "$(cat "$err")" '^cargo ktstr: running tests$' 'stand-in nextest run prints the status line'
unlike "$(cat "$err")" 'not installed' 'stand-in nextest run has no fallback notice'
like "$(env_value CARGO)" '/cargo$' 'stand-in nextest was started by cargo'
is "$(env_value KTSTR_KERNEL)" unset 'no --kernel exports no KTSTR_KERNEL'
is "$(env_value KTSTR_TEST_KERNEL)" unset 'no --kernel exports no KTSTR_TEST_KERNEL'
is "$(cat "$KTSTR_STANDIN_LOG/cargo-nextest.cwd")" "$T/project" 'stand-in nextest runs in the project'

PATH=$with_nextest expect_status 0 'stand-in nextest without --' \
	cargo-ktstr ktstr test --no-fail-fast -E 'test(x)' -- --nocapture
is "$(lines "$KTSTR_STANDIN_LOG/cargo-nextest.argv")" 'nextest|run|--no-fail-fast|-E|test(x)|--|--nocapture|' \
	'stand-in nextest gets arguments without -- unchanged'

KTSTR_STANDIN_STATUS=2 PATH=$with_nextest expect_status 2 'stand-in nextest rejection status passes through' \
	cargo-ktstr ktstr test -- --no-such-option
KTSTR_STANDIN_STATUS=100 PATH=$with_nextest expect_status 100 'stand-in nextest failure status passes through' \
	cargo-ktstr ktstr test

mkdir -p "$T/cargo-home/bin"
ln -s "$KTSTR_SRC/t/fixtures/standins/cargo-nextest" "$T/cargo-home/bin/cargo-nextest"
rm -f "$KTSTR_STANDIN_LOG/cargo-nextest.argv"
CARGO_HOME=$T/cargo-home expect_status 0 'stand-in nextest found in CARGO_HOME/bin' \
	cargo-ktstr ktstr test -- --workspace
is "$(lines "$KTSTR_STANDIN_LOG/cargo-nextest.argv")" 'nextest|run|--workspace|' \
	'stand-in nextest in CARGO_HOME/bin is the runner'

PATH=$with_nextest expect_status 0 'cargo ktstr test runs as a cargo plugin' \
	cargo ktstr test -- --workspace
is "$(lines "$KTSTR_STANDIN_LOG/cargo-nextest.argv")" 'nextest|run|--workspace|' \
	'cargo plugin run reaches the stand-in nextest'

PATH=$with_nextest expect_status 0 'ktstr test runs the same chain' ktstr test
like "$(cat "$err")" '^ktstr: running tests$' 'ktstr test labels its status lines ktstr'

# Without cargo-nextest: real cargo test on the fixture project.
expect_status 0 'fallback runs cargo test' env KTSTR_FIXTURE_RECORD="$T/record" \
	cargo-ktstr ktstr test
like "$(cat "$err")" "^cargo ktstr: cargo-nextest is not installed \\(install it with: cargo install cargo-nextest --locked\\); running cargo test instead$" \
	'fallback prints the install command'
like "$(cat "$out")" 'test records_kernel_variables \.\.\. ok' 'fallback ran the fixture tests'
is "$(cat "$T/record" 2>/dev/null)" "$(printf 'KTSTR_KERNEL=unset\nKTSTR_TEST_KERNEL=unset')" \
	'fallback without --kernel exports nothing'

KTSTR_FIXTURE_FAIL=1 expect_status 101 'fallback passes a test failure through' \
	cargo-ktstr ktstr test
like "$(cat "$out")" 'fails_when_requested \.\.\. FAILED' 'fallback failure names the test'

expect_status 0 'fallback passes a test filter' cargo-ktstr ktstr test -- records_kernel
like "$(cat "$out")" '1 filtered out' 'fallback applied the filter'

expect_status 1 'fallback passes cargo test rejection through' \
	cargo-ktstr ktstr test -- --no-such-option
like "$(cat "$err")" "unexpected argument '--no-such-option'" 'cargo test named the rejected option'

# Bad input.
PATH=$KTSTR_BUILD/bin expect_status 127 'missing cargo exits 127' \
	cargo-ktstr ktstr test
like "$(cat "$err")" '^cargo ktstr: cargo not found on PATH: install Rust' 'missing cargo names the fix'
one_line_error 'missing cargo error is one line'

mkdir "$T/not-a-project"
cd "$T/not-a-project" || exit 1
PATH=$with_nextest expect_status 125 'outside a cargo project exits 125' cargo-ktstr ktstr test
like "$(cat "$err")" "^cargo ktstr: no cargo project at '$T/not-a-project': Cargo.toml not found" \
	'outside a cargo project names the directory'
one_line_error 'outside a cargo project error is one line'

cd "$T/empty" || exit 1
rm -f "$KTSTR_STANDIN_LOG/cargo-nextest.argv"
PATH=$with_nextest expect_status 4 'project without tests exits 4' cargo-ktstr ktstr test
like "$(cat "$err")" "^cargo ktstr: no tests to run in '$T/empty': no target of the workspace builds tests" \
	'project without tests names the workspace'
one_line_error 'project without tests error is one line'
check 'project without tests runs no runner' test ! -e "$KTSTR_STANDIN_LOG/cargo-nextest.argv"
CARGO_TARGET_DIR=$T/empty-target expect_status 4 'project without tests exits 4 in the fallback' \
	cargo-ktstr ktstr test
check 'project without tests builds nothing' test ! -e "$T/empty-target"
PATH=$with_nextest expect_status 0 'explicit target selection skips the tests check' \
	cargo-ktstr ktstr test --lib
is "$(lines "$KTSTR_STANDIN_LOG/cargo-nextest.argv")" 'nextest|run|--lib|' \
	'explicit target selection reaches the runner'
cd "$T/not-a-project" || exit 1
PATH=$with_nextest expect_status 4 'manifest path argument is checked' \
	cargo-ktstr ktstr test --manifest-path "$T/empty/Cargo.toml"
PATH=$with_nextest expect_status 0 'manifest path to a project with tests runs' \
	cargo-ktstr ktstr test --manifest-path "$T/project/Cargo.toml"
cd "$T/project" || exit 1

rm -f "$KTSTR_STANDIN_LOG/cargo-nextest.argv"
PATH=$with_nextest expect_status 125 '--kernel without a value exits 125' cargo-ktstr ktstr test --kernel
like "$(cat "$err")" "^cargo ktstr: option '--kernel' requires a value" '--kernel without a value is named'
like "$(tail -n 1 "$err")" "^Try 'cargo ktstr test --help'" 'usage error points at test --help'
PATH=$with_nextest expect_status 125 'empty --kernel= value exits 125' cargo-ktstr ktstr test --kernel=
PATH=$with_nextest expect_status 125 'only blank --kernel values exit 125' cargo-ktstr ktstr test --kernel ' ' --kernel=
like "$(cat "$err")" "option '--kernel' requires a value that is not blank" 'blank --kernel values are named'
PATH=$with_nextest expect_status 125 'clashing kernel labels exit 125' cargo-ktstr ktstr test --kernel 6.14.2 --kernel 6_14_2
is "$(head -n 1 "$err")" "cargo ktstr: kernels '6.14.2' and '6_14_2' would both be named kernel_6_14_2 in the tests; pass only one of them to cargo ktstr test" \
	'label clash is caught before any lookup'
one_line_error 'label clash error is one line'
check 'usage errors run no runner' test ! -e "$KTSTR_STANDIN_LOG/cargo-nextest.argv"
done_testing
