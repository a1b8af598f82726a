# Shell test library: TAP output for prove, one scratch directory per test file.
#
#   . "${0%/*}/lib/test-lib.sh"
#   run ktstr-cache list          # sets $status, $out, $err (files)
#   is "$status" 0 'list exits 0'
#   like "$(cat "$err")" 'cache:' 'list names the cache root'
#   expect_status 2 'bad option is a usage error' ktstr-cache --bogus
#   done_testing
#
# Tests run with the build directory's bin/ first on PATH (make check sets
# KTSTR_BUILD and PATH).  Each file gets a fresh $T and its own cache root.

set -u
test_count=0
test_failed=0
test_name=$(basename "$0" .t)
KTSTR_SRC=${KTSTR_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
KTSTR_BUILD=${KTSTR_BUILD:-$KTSTR_SRC/build}
case ":$PATH:" in
*":$KTSTR_BUILD/bin:"*) ;;
*) PATH=$KTSTR_BUILD/bin:$PATH ;;
esac
export KTSTR_SRC KTSTR_BUILD PATH

# The test assets live outside the scratch HOME, so fix their directory
# before HOME changes; otherwise every test would fetch them again.
KTSTR_ASSET_DIR=${KTSTR_ASSET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ktstr/test-assets}
export KTSTR_ASSET_DIR
# rustup and cargo find their toolchains through HOME too.
RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}
CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
export RUSTUP_HOME CARGO_HOME

T=$(mktemp -d "${TMPDIR:-/tmp}/ktstr-test.$test_name.XXXXXX")
export KTSTR_CACHE_DIR=$T/cache
export KTSTR_SIDECAR_DIR=$T/sidecars
export HOME=$T/home
mkdir -p "$HOME"
unset KTSTR_KERNEL KTSTR_TEST_KERNEL KTSTR_SCHEDULER KTSTR_TRACE XDG_CACHE_HOME
cleanup_scratch() {
	chmod -R u+rwx "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup_scratch EXIT
cd "$T" || exit 1

ok() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1"
}

not_ok() {
	test_count=$((test_count + 1))
	test_failed=$((test_failed + 1))
	echo "not ok $test_count - $1"
}

# diag TEXT...: a comment line that prove shows on failure.
diag() {
	printf '%s\n' "$@" | sed 's/^/# /' >&2
}

# run CMD ARGS...: run a command, keep its status and its outputs in files.
run() {
	out=$T/.out err=$T/.err
	"$@" >"$out" 2>"$err" </dev/null
	status=$?
	return 0
}

# is GOT EXPECTED NAME
is() {
	if [ "$1" = "$2" ]; then
		ok "$3"
	else
		not_ok "$3"
		diag "got:      '$1'" "expected: '$2'"
	fi
}

# pattern_ok REGEX: grep reads a pattern with a newline as several
# patterns, and an empty one matches every line, so such a check could
# never fail.  Lines are matched one by one: use ^ and $ instead.
pattern_ok() {
	case $1 in
	*'
'*)
		diag "the pattern of '$2' has a newline, so it matches anything; use ^ and \$"
		return 1 ;;
	esac
	return 0
}

# like TEXT REGEX NAME (extended regular expression, matched line by line)
like() {
	if ! pattern_ok "$2" "$3"; then
		not_ok "$3"
	elif printf '%s' "$1" | grep -Eq -- "$2"; then
		ok "$3"
	else
		not_ok "$3"
		diag "text did not match /$2/:" "$(printf '%s' "$1" | head -c 2000)"
	fi
}

unlike() {
	if ! pattern_ok "$2" "$3"; then
		not_ok "$3"
	elif printf '%s' "$1" | grep -Eq -- "$2"; then
		not_ok "$3"
		diag "text matched /$2/:" "$(printf '%s' "$1" | head -c 2000)"
	else
		ok "$3"
	fi
}

# check NAME CMD ARGS...: passes when CMD exits 0.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# expect_status STATUS NAME CMD ARGS...: CMD must exit exactly STATUS.
# A death by signal (128+N) or a failed exec (126/127) never counts as a
# clean refusal unless STATUS is that value.
expect_status() {
	local want=$1 name=$2
	shift 2
	run "$@"
	if [ "$status" = "$want" ]; then
		ok "$name"
	else
		not_ok "$name"
		diag "command: $*" "status $status, expected $want" "stderr:" "$(head -c 2000 "$err")"
	fi
}

# one_line_error NAME: the last command's stderr is one line.
one_line_error() {
	is "$(wc -l <"$err" | tr -d ' ')" 1 "$1"
}

skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count # SKIP $1"
}

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

done_testing() {
	echo "1..$test_count"
	[ "$test_failed" -eq 0 ]
	exit $?
}

# require_assets: load the VM test assets (Debian sched_ext kernel, schedulers).
# make check fetches them first, so a missing asset is a failure, not a skip.
require_assets() {
	local env_file
	env_file=$("$KTSTR_SRC/scripts/test-assets") || {
		echo "Bail out! scripts/test-assets failed"
		exit 1
	}
	# shellcheck disable=SC1090
	. "$env_file"
}
