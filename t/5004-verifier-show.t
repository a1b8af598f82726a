#!/bin/sh
# ktstr-verifier show and diff on recorded results: sidecars that real runs
# of scx_fixture and scx_simple wrote on the Debian 7.3 kernel
# (t/fixtures/verifier/sidecars), and the --json documents made from them.
. "${0%/*}/lib/test-lib.sh"

S=$KTSTR_SRC/t/fixtures/verifier/sidecars
E=$KTSTR_SRC/t/fixtures/verifier/expected
cd "$S" || exit 1
DEFAULT=$(ls profiles/*-default-*.ktstr.json)
LLC=$(ls profiles/*-llc-*.ktstr.json)
STEAL=$(ls profiles/*-llc+steal-*.ktstr.json)
BORROW=$(ls profiles/*-borrow-*.ktstr.json)

# jq_true FILE FILTER: FILTER is true on FILE (jq 1.6 -e passes an empty file).
jq_true() {
	[ -s "$1" ] && jq -e "$2" "$1" >/dev/null
}

expect_status 0 'show a directory of sidecars' ktstr-verifier show profiles
check 'report matches expected' cmp -s "$out" "$E/show-profiles.txt"
diff "$out" "$E/show-profiles.txt" | sed 's/^/# /' >&2

expect_status 0 'show --json' ktstr-verifier show --json profiles
cp "$out" "$T/profiles.json"
is "$(jq -r '[.profiles[].profile] | join(" ")' "$T/profiles.json")" 'default llc llc+steal borrow' \
	'profiles in the order the runs started'
is "$(jq -c '.summary[] | select(.program == "fixture_dispatch") | .verified_insns' "$T/profiles.json")" \
	'{"default":20,"llc":54,"llc+steal":142,"borrow":20}' 'summary row per program'
is "$(jq -r '.summary | length' "$T/profiles.json")" 7 'summary has every program'
is "$(jq -r '[.profiles[].total_verified_insns] | join(" ")' "$T/profiles.json")" '200 310 398 238' \
	'totals per profile'
is "$(jq -r '.schema_version, .insn_limit, .near_limit_pct' "$T/profiles.json" | tr '\n' ' ')" '1 1000000 75 ' \
	'document header'
is "$(jq -r '.profiles[2].active_flags | join(",")' "$T/profiles.json")" 'llc,steal' 'active flags from the sidecar'
is "$(jq -r '.profiles[1].sidecar' "$T/profiles.json")" "profiles/${LLC#profiles/}" 'sidecar path recorded'
check 'every program has a type' jq_true "$T/profiles.json" '[.profiles[].programs[].type != null] | all'

expect_status 0 'show a saved --json document' ktstr-verifier show "$T/profiles.json"
check 'document reads back to the same report' cmp -s "$out" "$E/show-profiles.txt"

expect_status 0 'show files in the order given' ktstr-verifier show "$BORROW" "$DEFAULT"
check 'summary columns follow the arguments' grep -q '^program  *borrow  *default$' "$out"

# A/B comparisons.
expect_status 0 'diff two single runs' ktstr-verifier diff "$DEFAULT" "$BORROW"
check 'diff matches expected' cmp -s "$out" "$E/diff-default-borrow.txt"
expect_status 0 'diff --json' ktstr-verifier diff --json "$DEFAULT" "$BORROW"
is "$(jq -c '.diff[0].programs[] | select(.program == "fixture_select_cpu") | [.a, .b, .delta]' "$out")" \
	'[43,81,38]' 'delta is B minus A'
is "$(jq -r '.diff[0] | "\(.a_profile) \(.b_profile) \(.a_total) \(.b_total)"' "$out")" 'default borrow 200 238' \
	'each side names its profile and total'
is "$(jq -r '.a_label' "$out")" "$DEFAULT" 'A label is the path'

expect_status 0 'diff programs that one side lacks' ktstr-verifier diff --json simple "$DEFAULT"
is "$(jq -c '.diff[0].programs[] | select(.program == "simple_enqueue") | [.a, .b, .delta]' "$out")" \
	'[42,null,null]' 'program only in A has no B count'
is "$(jq -c '.diff[0].programs[] | select(.program == "scx_lib_init_probe") | [.a, .b, .delta]' "$out")" \
	'[23,23,0]' 'shared program compared'

expect_status 0 'diff a directory with its document' ktstr-verifier diff --json profiles "$T/profiles.json"
is "$(jq -r '[.diff[].a_profile] | join(" ")' "$out")" 'default llc llc+steal borrow' 'profiles paired by name'
check 'identical results have no delta' jq_true "$out" '[.diff[].programs[].delta == 0] | all'

mkdir "$T/a" "$T/b"
cp "$DEFAULT" "$LLC" "$T/a/"
cp "$STEAL" "$BORROW" "$T/b/"
expect_status 2 'diff without a shared profile' ktstr-verifier diff "$T/a" "$T/b"
like "$(cat "$err")" "nothing to compare: '$T/a' and '$T/b' have no profile in common" 'no shared profile said'
one_line_error 'no shared profile error is one line'

# A rejected program: the saved log folds unless --raw.
expect_status 1 'show a rejected load' ktstr-verifier show loop
check 'saved log folded' grep -q '^--- 64x of the following 11 lines ---$' "$out"
check 'rejection statistics from the saved log' grep -q '^  fixture_init  error=-EINVAL  processed=597  states=11/11$' "$out"
expect_status 1 'show --raw a rejected load' ktstr-verifier show --raw loop
is "$(grep -c 'goto pc-9' "$out")" 64 'raw saved log has every round'

# A program near the verifier's limit, made from a real sidecar by raising one count.
mkdir "$T/near"
jq '(.bpf_programs[] | select(.name == "fixture_dispatch") | .verified_insns) = 812345 |
    (.verifier_stats[] | select(.name == "fixture_dispatch") | .verified_insns) = 812345' "$STEAL" \
	>"$T/near/near.ktstr.json"
expect_status 0 'near-limit program still exits 0' ktstr-verifier show "$T/near"
check 'near-limit program marked' grep -q '^  fixture_dispatch  *struct_ops  *812345  *81\.2% !$' "$out"
check 'near-limit warning listed' grep -q "^WARNING: programs at or above 75% of the verifier's 1000000-insn limit:$" "$out"
check 'warning names profile and program' grep -q '^  llc+steal: fixture_dispatch 812345 (81\.2%)$' "$out"
expect_status 0 'near-limit program in JSON' ktstr-verifier show --json "$T/near"
is "$(jq -c '.profiles[0].programs[] | select(.name == "fixture_dispatch") | [.near_limit, .limit_pct]' "$out")" \
	'[true,81.2345]' 'near_limit and limit_pct'
expect_status 0 'ktstr-stats reads the near-limit sidecar' ktstr-stats --dir "$T/near" --json
check 'ktstr-stats flags it too' jq_true "$out" '[.verifier.programs[] | select(.name == "fixture_dispatch") | .near_limit] == [true]'

# Bad input.
expect_status 2 'show a missing path' ktstr-verifier show "$T/nope.json"
like "$(cat "$err")" "cannot read '$T/nope.json': No such file or directory" 'missing path named'
one_line_error 'missing path error is one line'
echo '[1, 2]' >"$T/list.json"
expect_status 2 'show a JSON file that is not a result' ktstr-verifier show "$T/list.json"
like "$(cat "$err")" "cannot read '$T/list.json': " 'foreign JSON named'
one_line_error 'foreign JSON error is one line'
echo '{"profiles": [' >"$T/cut.json"
expect_status 2 'show a truncated document' ktstr-verifier show "$T/cut.json"
one_line_error 'truncated document error is one line'
jq '.schema_version = 99' "$DEFAULT" >"$T/future.ktstr.json"
expect_status 2 'show a sidecar from a newer ktstr' ktstr-verifier show "$T/future.ktstr.json"
mkdir "$T/empty"
expect_status 2 'show an empty directory' ktstr-verifier show "$T/empty"
like "$(cat "$err")" "no sidecar files \\(\\*\\.ktstr\\.json\\) in '$T/empty'" 'empty directory named'
jq '.profiles[0].outcome = "exploded"' "$T/profiles.json" >"$T/bad-outcome.json"
expect_status 2 'show a document with an unknown outcome' ktstr-verifier show "$T/bad-outcome.json"
like "$(cat "$err")" "profile 1 has outcome 'exploded'" 'unknown outcome named'
expect_status 2 'show needs a path' ktstr-verifier show
expect_status 2 'diff needs two paths' ktstr-verifier diff "$DEFAULT"
expect_status 2 'show an A/B document' sh -c "ktstr-verifier diff --json '$DEFAULT' '$BORROW' >'$T/ab.json'; ktstr-verifier show '$T/ab.json'"
like "$(cat "$err")" 'it is an A/B comparison' 'A/B document refused with the reason'
done_testing
