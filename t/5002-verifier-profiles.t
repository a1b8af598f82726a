#!/bin/sh
# The --ktstr-list-flags protocol against the real fixture scheduler and
# against stand-ins that break it, profile selection, and option checks.
# No VM boots: --list-profiles stops before the runs.
. "${0%/*}/lib/test-lib.sh"
require_assets

FIXTURE=$KTSTR_ASSET_FIXTURE

# stand_in NAME BODY: a scheduler stand-in whose answer to
# --ktstr-list-flags is the shell code BODY.
stand_in() {
	printf '#!/bin/sh\nif [ "$1" = --ktstr-list-flags ]; then\n%s\nfi\nexit 3\n' "$2" >"$T/$1"
	chmod +x "$T/$1"
}

expect_status 0 'fixture lists all profiles' \
	ktstr-verifier --scheduler-bin "$FIXTURE" --all-profiles --list-profiles
printf 'default\nllc\t--llc\nllc+steal\t--llc --steal\nborrow\t--borrow\nllc+borrow\t--llc --borrow\nllc+steal+borrow\t--llc --steal --borrow\n' \
	>"$T/expected"
check 'power set under requires, in mask order' cmp -s "$out" "$T/expected"
is "$(cat "$err")" '' 'listing profiles prints no message'

expect_status 0 'select profiles by name' \
	ktstr-verifier --scheduler-bin "$FIXTURE" --profiles steal+llc,default,llc+steal --list-profiles --json
is "$(jq -r '[.[].profile] | join(" ")' "$out")" 'llc+steal default' 'names made canonical, repeats dropped'
is "$(jq -c '.[0].scheduler_args' "$out")" '["--llc","--steal"]' 'profile arguments in flag order'
is "$(jq -c '.[0].active_flags' "$out")" '["llc","steal"]' 'profile flags in list order'

expect_status 2 'unknown profile' ktstr-verifier --scheduler-bin "$FIXTURE" --profiles default,bogus --list-profiles
like "$(cat "$err")" "unknown profile 'bogus': no flag 'bogus' \\(profiles: default, llc, llc\\+steal, borrow, llc\\+borrow, llc\\+steal\\+borrow\\)" \
	'unknown profile error lists the valid ones'
one_line_error 'unknown profile error is one line'
is "$(wc -c <"$out" | tr -d ' ')" 0 'nothing on stdout for an unknown profile'

expect_status 2 'profile without its requirement' ktstr-verifier --scheduler-bin "$FIXTURE" --profiles steal --list-profiles
like "$(cat "$err")" "invalid profile 'steal': flag 'steal' requires 'llc'" 'requirement error names both flags'

expect_status 0 'default profile needs no query' ktstr-verifier --scheduler-bin /bin/true --list-profiles
is "$(cat "$out")" 'default' 'without profile options only default runs'

# Stand-ins that break the protocol.
stand_in garbage 'echo "flags: llc steal"; exit 0'
expect_status 2 'garbage flag list' ktstr-verifier --scheduler-bin "$T/garbage" --all-profiles --list-profiles
like "$(cat "$err")" "cannot list the flags of '$T/garbage' with --ktstr-list-flags: invalid output: not JSON" \
	'garbage error names the binary and the cause'
one_line_error 'garbage error is one line'

stand_in cycle 'echo "[{\"name\":\"a\",\"requires\":[\"b\"]},{\"name\":\"b\",\"requires\":[\"a\"]}]"; exit 0'
expect_status 2 'requires cycle' ktstr-verifier --scheduler-bin "$T/cycle" --all-profiles --list-profiles
like "$(cat "$err")" 'invalid output: requirements form a cycle: a -> b -> a' 'cycle error shows the cycle'
one_line_error 'cycle error is one line'

stand_in unknown_req 'echo "[{\"name\":\"a\",\"requires\":[\"numa\"]}]"; exit 0'
expect_status 2 'requirement not listed' ktstr-verifier --scheduler-bin "$T/unknown_req" --profiles a --list-profiles
like "$(cat "$err")" "flag 'a' requires 'numa', which is not listed" 'unknown requirement named'

stand_in crash 'kill -SEGV $$'
expect_status 2 'crash on --ktstr-list-flags' ktstr-verifier --scheduler-bin "$T/crash" --all-profiles --list-profiles
like "$(cat "$err")" "cannot list the flags of '$T/crash'.*crashed: killed by signal 11" 'crash error names the signal'
one_line_error 'crash error is one line'

stand_in unsupported 'echo "unknown option" >&2; exit 1'
expect_status 0 'no --ktstr-list-flags support' \
	ktstr-verifier --scheduler-bin "$T/unsupported" --all-profiles --list-profiles
is "$(cat "$out")" 'default' 'unsupported binary has only the default profile'
like "$(cat "$err")" "'$T/unsupported' does not support --ktstr-list-flags \\(exit status 1\\)" \
	'unsupported binary gets a notice'

stand_in silent 'exit 0'
expect_status 0 'empty flag list output' ktstr-verifier --scheduler-bin "$T/silent" --all-profiles --list-profiles
is "$(cat "$out")" 'default' 'silent binary has only the default profile'
expect_status 2 'named profile of a binary without flags' \
	ktstr-verifier --scheduler-bin "$T/silent" --profiles llc --list-profiles
like "$(cat "$err")" "unknown profile 'llc': no flag 'llc' \\(profiles: default\\)" 'only default is valid'

# Option checks.
expect_status 2 '--scheduler conflicts with --scheduler-bin' \
	ktstr-verifier --scheduler fake --scheduler-bin "$FIXTURE"
like "$(head -n1 "$err")" '^ktstr-verifier: --scheduler and --scheduler-bin conflict' 'conflict named'
expect_status 2 '--scheduler-bin conflicts with --scheduler' \
	ktstr-verifier --scheduler-bin "$FIXTURE" --scheduler fake
expect_status 2 '--all-profiles conflicts with --profiles' \
	ktstr-verifier --scheduler-bin "$FIXTURE" --all-profiles --profiles llc
expect_status 2 'no scheduler' ktstr-verifier --all-profiles
like "$(head -n1 "$err")" 'no scheduler: give --scheduler PKG or --scheduler-bin PATH' 'missing scheduler named'
expect_status 2 'missing binary' ktstr-verifier --scheduler-bin "$T/nope"
like "$(cat "$err")" "scheduler binary '$T/nope' \\(--scheduler-bin\\) not found" 'missing binary named'
one_line_error 'missing binary error is one line'
: >"$T/plain"
expect_status 2 'binary not executable' ktstr-verifier --scheduler-bin "$T/plain"
like "$(cat "$err")" "scheduler binary '$T/plain' \\(--scheduler-bin\\) is not executable" 'not executable named'
expect_status 2 'missing kernel' ktstr-verifier --scheduler-bin "$FIXTURE" --kernel "$T/no-bzImage"
like "$(cat "$err")" "kernel path '$T/no-bzImage' does not exist" "ktstr-vm's reason is shown"
like "$(cat "$err")" "profile 'default': ktstr-vm exited with status 125 without writing a sidecar" \
	'failed run named'
is "$(wc -c <"$out" | tr -d ' ')" 0 'nothing on stdout without a run'
expect_status 2 'two kernels' ktstr-verifier --scheduler-bin "$FIXTURE" --kernel a --kernel b
like "$(head -n1 "$err")" '--kernel given twice' 'second kernel rejected'
expect_status 2 'empty profile list' ktstr-verifier --scheduler-bin "$FIXTURE" --profiles ''
expect_status 2 'unknown subcommand' ktstr-verifier frob
like "$(head -n1 "$err")" "unknown subcommand 'frob'" 'unknown subcommand named'
expect_status 2 'show rejects scheduler options' ktstr-verifier show --scheduler-bin "$FIXTURE" x.json
expect_status 2 'unknown option' ktstr-verifier --frob

# --help and the man page list the same options: the option lines of the
# help text against the option headings of the man page.
expect_status 0 'help exits 0' ktstr-verifier --help
grep -E '^  (-[a-zA-Z], |    )--[a-z]' "$out" | grep -o -- '--[a-z][a-z-]*' | sort -u >"$T/help-options"
sed -n '/^# OPTIONS/,/^# PROFILES/p' "$KTSTR_SRC/man/ktstr-verifier.1.scd" | grep -E '^\*-' |
	grep -o -- '--[a-z][a-z-]*' | sort -u >"$T/man-options"
check 'help and man page name the same options' cmp -s "$T/help-options" "$T/man-options"
is "$(wc -l <"$T/help-options" | tr -d ' ')" 15 'help lists 15 long options'
diff "$T/help-options" "$T/man-options" | sed 's/^/# /' >&2
expect_status 0 'dispatcher runs ktstr-verifier' ktstr verifier --scheduler-bin "$FIXTURE" --profiles llc --list-profiles
is "$(cat "$out")" "$(printf 'llc\t--llc')" 'ktstr verifier passes arguments through'
done_testing
