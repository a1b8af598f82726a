#!/bin/sh
# cargo ktstr coverage: the exec chain into cargo llvm-cov nextest (stand-ins
# for cargo-llvm-cov, cargo-nextest and rustup's component list, because
# neither tool nor llvm-tools-preview can be installed here), and the
# message when a coverage tool is missing (real rustup and rustc).
#
# test-lib.sh points HOME at the scratch directory; rustup's proxies need
# the real toolchain directory, so keep it.
: "${RUSTUP_HOME:=${HOME:-/root}/.rustup}"
export RUSTUP_HOME
. "${0%/*}/lib/test-lib.sh"
require_assets

export CARGO_TARGET_DIR=$T/target
export KTSTR_STANDIN_LOG=$T/log
cp -r "$KTSTR_SRC/t/fixtures/cargo-tests" "$T/project"
cp -r "$KTSTR_SRC/t/fixtures/cargo-empty" "$T/empty"
mkdir -p "$KTSTR_STANDIN_LOG"
unset CARGO RUSTC
cd "$T/project" || exit 1
base_path=$PATH
llvm_tools=llvm-tools-x86_64-unknown-linux-gnu
image=$(readlink -f "$KTSTR_ASSET_KERNEL")

# standin_dir NAME PROGRAM...: a directory holding links to the named stand-ins.
standin_dir() {
	local dir=$T/$1
	shift
	mkdir -p "$dir"
	for program in "$@"; do
		ln -sf "$KTSTR_SRC/t/fixtures/standins/$program" "$dir/$program"
	done
	echo "$dir"
}

lines() {
	tr '\n' '|' <"$1"
}

env_value() {
	grep "^$1=" "$KTSTR_STANDIN_LOG/cargo-llvm-cov.env" | cut -d= -f2- | grep . || echo unset
}

all_tools=$(standin_dir all cargo-llvm-cov cargo-nextest rustup):$base_path
no_nextest=$(standin_dir no-nextest cargo-llvm-cov rustup):$base_path
no_llvm_cov=$(standin_dir no-llvm-cov cargo-nextest rustup):$base_path
real_rustup=$(standin_dir real-rustup cargo-llvm-cov cargo-nextest):$base_path

expect_status 0 'coverage --help exits 0' cargo-ktstr ktstr coverage --help
like "$(cat "$out")" '^Usage: cargo ktstr coverage \[--kernel ID\]' 'help starts with the synopsis'

KTSTR_STANDIN_COMPONENTS="cargo-x86_64-unknown-linux-gnu $llvm_tools" PATH=$all_tools \
	expect_status 0 'stand-in llvm-cov runs through cargo' \
	cargo-ktstr ktstr coverage -- --workspace --lcov --output-path 'lcov info' ''
is "$(lines "$KTSTR_STANDIN_LOG/cargo-llvm-cov.argv")" \
	'llvm-cov|nextest|--workspace|--lcov|--output-path|lcov info||' \
	'stand-in llvm-cov gets arguments after -- unchanged'
like "$(cat "$err")" '^cargo ktstr: running coverage$' 'coverage prints the status line'
unlike "$(cat "$err")" 'not installed' 'coverage with every tool has no notice'
like "$(env_value CARGO)" '/cargo$' 'stand-in llvm-cov was started by cargo'
is "$(env_value KTSTR_KERNEL)" unset 'no --kernel exports no KTSTR_KERNEL'

KTSTR_STANDIN_COMPONENTS=$llvm_tools PATH=$all_tools \
	expect_status 0 'coverage --kernel runs the tests' cargo-ktstr ktstr coverage --kernel "$image"
is "$(env_value KTSTR_KERNEL)" "$image" 'coverage exports KTSTR_KERNEL'
is "$(env_value KTSTR_TEST_KERNEL)" "$image" 'coverage exports KTSTR_TEST_KERNEL'

KTSTR_STANDIN_COMPONENTS=llvm-tools-preview-x86_64-unknown-linux-gnu PATH=$all_tools \
	expect_status 0 'older llvm-tools-preview component name counts' \
	cargo-ktstr ktstr coverage --features integration
is "$(lines "$KTSTR_STANDIN_LOG/cargo-llvm-cov.argv")" 'llvm-cov|nextest|--features|integration|' \
	'stand-in llvm-cov gets arguments without -- unchanged'

KTSTR_STANDIN_STATUS=1 KTSTR_STANDIN_COMPONENTS=$llvm_tools PATH=$all_tools \
	expect_status 1 'stand-in llvm-cov status passes through' cargo-ktstr ktstr coverage

KTSTR_STANDIN_COMPONENTS=$llvm_tools PATH=$no_nextest \
	expect_status 0 'coverage without nextest falls back' cargo-ktstr ktstr coverage -- --lib
like "$(cat "$err")" 'cargo-nextest is not installed \(install it with: cargo install cargo-nextest --locked\); running cargo llvm-cov test instead' \
	'coverage fallback prints the install command'
is "$(lines "$KTSTR_STANDIN_LOG/cargo-llvm-cov.argv")" 'llvm-cov|test|--lib|' \
	'coverage fallback runs cargo llvm-cov test'

# Missing coverage tools: exit 127 with both install commands.
install_both='install the coverage tools with: cargo install cargo-llvm-cov --locked && rustup component add llvm-tools-preview$'
rm -f "$KTSTR_STANDIN_LOG/cargo-llvm-cov.argv"

KTSTR_STANDIN_COMPONENTS=$llvm_tools PATH=$no_llvm_cov \
	expect_status 127 'missing cargo-llvm-cov exits 127' cargo-ktstr ktstr coverage
like "$(cat "$err")" "^cargo ktstr: cannot run coverage: cargo-llvm-cov is not installed; $install_both" \
	'missing cargo-llvm-cov names both install commands'
one_line_error 'missing cargo-llvm-cov error is one line'

if rustup component list --installed 2>/dev/null | grep -q '^llvm-tools'; then
	skip 'missing llvm-tools-preview (real rustup): llvm-tools-preview is installed here'
else
	PATH=$real_rustup expect_status 127 'missing llvm-tools-preview exits 127 (real rustup)' \
		cargo-ktstr ktstr coverage
	like "$(cat "$err")" "^cargo ktstr: cannot run coverage: the rustup component llvm-tools-preview is not installed; $install_both" \
		'missing llvm-tools-preview names both install commands'
	one_line_error 'missing llvm-tools-preview error is one line'
fi

KTSTR_STANDIN_COMPONENTS=rustc-x86_64-unknown-linux-gnu PATH=$(standin_dir bare rustup):$base_path \
	expect_status 127 'missing llvm-cov and llvm-tools exits 127' cargo-ktstr ktstr coverage
like "$(cat "$err")" "cargo-llvm-cov and the rustup component llvm-tools-preview are not installed; $install_both" \
	'missing llvm-cov and llvm-tools names both'

# Without rustup on PATH the sysroot of the real rustc is searched, and it
# has no llvm-profdata here.
no_rustup=$(standin_dir no-rustup cargo-llvm-cov cargo-nextest)
ln -s "$(command -v cargo)" "$no_rustup/cargo"
ln -s "$(command -v rustc)" "$no_rustup/rustc"
if ls "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-profdata >/dev/null 2>&1; then
	skip 'sysroot without llvm tools: the sysroot has llvm-profdata here'
else
	PATH=$no_rustup:$KTSTR_BUILD/bin:/usr/bin:/bin \
		expect_status 127 'sysroot without llvm tools exits 127' cargo-ktstr ktstr coverage
	like "$(cat "$err")" 'the rustup component llvm-tools-preview is not installed' \
		'sysroot without llvm tools names the component'
fi
check 'missing tools run no runner' test ! -e "$KTSTR_STANDIN_LOG/cargo-llvm-cov.argv"

# Bad input shared with test.
PATH=$KTSTR_BUILD/bin expect_status 127 'coverage without cargo exits 127' cargo-ktstr ktstr coverage
one_line_error 'coverage without cargo error is one line'
cd "$T/empty" || exit 1
KTSTR_STANDIN_COMPONENTS=$llvm_tools PATH=$all_tools \
	expect_status 4 'coverage of a project without tests exits 4' cargo-ktstr ktstr coverage
like "$(cat "$err")" "no tests to run in '$T/empty'" 'coverage without tests names the workspace'
cd "$T/project" || exit 1
KTSTR_STANDIN_COMPONENTS=$llvm_tools PATH=$all_tools \
	expect_status 125 'coverage with a blank --kernel exits 125' cargo-ktstr ktstr coverage --kernel ' '
like "$(tail -n 1 "$err")" "^Try 'cargo ktstr coverage --help'" 'coverage usage error points at its help'
check 'bad input runs no runner' test ! -e "$KTSTR_STANDIN_LOG/cargo-llvm-cov.argv"
done_testing
