#!/bin/sh
# ktstr-stats numbers on the fixture gauntlet, checked against the same
# numbers computed with jq from the man page's rules.
. "${0%/*}/lib/test-lib.sh"
. "$KTSTR_SRC/t/fixtures/sidecars/helpers.sh"

fixtures=$KTSTR_SRC/t/fixtures/sidecars/gauntlet
set -- "$fixtures"/*.ktstr.json

run ktstr-stats --dir "$fixtures" --json
is "$status" 0 '--json exits 0'
is "$(wc -c <"$err" | tr -d ' ')" 0 'fixtures read without warnings'
cp "$out" "$T/report.json"

report_matches_jq "$T/report.json" "$@"

# Facts planted in the fixtures (see t/fixtures/sidecars/README).
is "$(jq -c '.gauntlet.dimensions.profile[-1].name' "$T/report.json")" '"borrow"' \
	'group whose runs were all skipped comes last'
is "$(jq -c '[.gauntlet.failed_runs[] | select(.outcome == "fail") | .check] | unique' "$T/report.json")" \
	'["starvation"]' 'failed check names are reported'
is "$(jq -c '.gauntlet.outliers.found | map(.metric + " " + (.path | split("/") | last))' "$T/report.json")" \
	'["gap_ms steady-1n2l2c1t-llc+steal-20261204T210500Z-4242-5.ktstr.json"]' \
	'the planted gap_ms run is the outlier'
is "$(jq -c '.verifier.programs | map(select(.near_limit) | .scheduler + " " + .name)' "$T/report.json")" \
	'["fixture fixture_dispatch","scx_fixture fixture_dispatch"]' 'programs near the limit are flagged'
is "$(jq -c '.kvm | [.vms, .tcg_runs]' "$T/report.json")" '[2,10]' 'KVM and TCG runs are counted'

# The text report: sections, tables and flags.
run ktstr-stats --dir "$fixtures"
is "$status" 0 'text report exits 0'
cp "$out" "$T/report.txt"
is "$(grep '^===' "$T/report.txt" | tr '\n' '|')" \
	'=== GAUNTLET ANALYSIS ===|=== BPF VERIFIER STATS ===|=== BPF CALLBACK PROFILE ===|=== KVM STATS (avg across 2 VMs) ===|' \
	'sections come in order'
check 'text has no escape sequences off a terminal' sh -c "! grep -q \"$(printf '\033')\" '$T/report.txt'"
like "$(cat "$T/report.txt")" 'failed +4 +\(36\.4% of the runs that were neither skipped nor interrupted: fail 2, scheduler-failed 1, timeout 1\)' \
	'totals line gives the failure rate and outcomes'
like "$(cat "$T/report.txt")" 'fixture +fixture_dispatch +812000 +81\.2% +!' 'near-limit program is flagged'
like "$(cat "$T/report.txt")" 'fixture +fixture_enqueue +4420 +0\.4%$' 'program under the limit is not flagged'
like "$(cat "$T/report.txt")" 'WARNING: programs at or above 75% of the verifier' 'near-limit warning is printed'
like "$(cat "$T/report.txt")" 'note: 10 more runs used TCG, which has no KVM statistics' 'TCG runs are noted'
like "$(cat "$T/report.txt")" 'steady +gap_ms +2400 +120 +\+[0-9.]+ +.*llc\+steal' 'outlier line names the run'
like "$(cat "$T/report.txt")" 'cpuset_change +2 +1 +1 ' 'stimulus row counts outcomes'
unlike "$(cat "$T/report.txt")" ' +$' 'no line ends in spaces'

# Without a flagged program the flag column is empty, and so are line ends.
mkdir -p "$T/small"
jq '.verifier_stats |= map(.verified_insns = 100)' "$fixtures"/steady-1n1l2c1t-default-*-1.ktstr.json \
	>"$T/small/small.ktstr.json"
run ktstr-stats --dir "$T/small"
like "$(cat "$out")" 'BPF VERIFIER STATS' 'small program report has a verifier section'
unlike "$(cat "$out")" ' +$' 'no line ends in spaces without flags'

# Every table row is as wide as its header, so the columns line up.
for title in 'By scenario:' 'By flag profile:' 'By topology:' 'By scheduler:' 'By work type:'; do
	widths=$(awk -v title="$title" '$0 == title { on = 1; next } on && /^$/ { exit }
		on { print length($0) }' "$T/report.txt" | sort -u | wc -l)
	is "$widths" 1 "'$title' rows align"
done

# Only KVM-less TCG runs: a one-line note instead of averages.
mkdir -p "$T/tcg"
cp "$fixtures"/cpuset_shrink-*.ktstr.json "$T/tcg/"
run ktstr-stats --dir "$T/tcg"
is "$(sed -n '/=== KVM STATS ===/,$p' "$out")" '=== KVM STATS ===
  none: 3 runs used TCG, which has no KVM statistics' 'TCG-only runs get the note'
run ktstr-stats --dir "$T/tcg" --json
is "$(jq -c '.kvm | [.vms, .tcg_runs, .exits_per_vcpu]' "$out")" '[0,3,null]' 'TCG-only JSON has no averages'

# Colour on a terminal, and never with NO_COLOR.
TERM=xterm script -qec "ktstr-stats --dir '$fixtures'" /dev/null >"$T/tty.txt" 2>&1 </dev/null
check 'terminal output has colour' grep -q "$(printf '\033')\[" "$T/tty.txt"
TERM=xterm NO_COLOR=1 script -qec "ktstr-stats --dir '$fixtures'" /dev/null >"$T/tty-plain.txt" 2>&1 </dev/null
check 'NO_COLOR terminal output has no colour' sh -c "! grep -q \"$(printf '\033')\" '$T/tty-plain.txt'"
like "$(cat "$T/tty-plain.txt")" 'GAUNTLET ANALYSIS' 'NO_COLOR terminal output has the report'

# Long lists are cut in the text but complete in JSON.
mkdir -p "$T/many"
for i in $(seq 1 25); do
	cp "$fixtures"/steady-1n2l2c1t-llc+steal-*.ktstr.json "$T/many/failed-$i.ktstr.json"
done
run ktstr-stats --dir "$T/many"
is "$(grep -c '^  fail ' "$out")" 20 'text lists 20 failed runs'
like "$(cat "$out")" '\.\.\. and 5 more \(--json lists every failed run\)' 'text counts the failed runs left out'
run ktstr-stats --dir "$T/many" --json
is "$(jq '.gauntlet.failed_runs | length' "$out")" 25 'JSON lists every failed run'

# One CPU means no worker threads, and the same report.
run taskset -c 0 ktstr-stats --dir "$fixtures" --json
is "$(jq -S -c . "$out")" "$(jq -S -c . "$T/report.json")" 'report on one CPU matches the threaded one'

# Merging shards gives the numbers of one directory.
mkdir -p "$T/shard-1" "$T/shard-2"
cp "$fixtures"/steady-*.ktstr.json "$T/shard-1/"
cp "$fixtures"/cpuset_shrink-*.ktstr.json "$fixtures"/sync_io-*.ktstr.json "$T/shard-2/"
run ktstr-stats --dir "$T/shard-1" --dir "$T/shard-2" --json
is "$(jq -S -c 'del(.dirs) | del(.gauntlet.failed_runs, .gauntlet.outliers.found)' "$out")" \
	"$(jq -S -c 'del(.dirs) | del(.gauntlet.failed_runs, .gauntlet.outliers.found)' "$T/report.json")" \
	'merged shards match one directory'
is "$(jq -c '.dirs | length' "$out")" 2 'merged report lists both directories'
run ktstr-stats --dir "$T/shard-1" --dir "$T/shard-1/" --json
is "$(jq -r '.files.read' "$out")" "$(ls "$T/shard-1" | wc -l)" 'directory given twice is read once'
like "$(cat "$err")" "warning: directory '$T/shard-1/' given twice" 'directory given twice warns'

# An interrupted run and a run with invalid metric values (see
# t/fixtures/sidecars/README): neither counts as failed or enters a median.
interrupted=$KTSTR_SRC/t/fixtures/sidecars/interrupted
run ktstr-stats --dir "$interrupted" --json
is "$status" 0 'interrupted fixtures exit 0'
cp "$out" "$T/interrupted.json"
report_matches_jq "$T/interrupted.json" "$interrupted"/*.ktstr.json
is "$(jq -c '.gauntlet | [.runs, .passed, .failed, .interrupted]' "$T/interrupted.json")" '[3,2,0,1]' \
	'interrupted run is counted apart'
is "$(jq -c '.gauntlet.failed_runs' "$T/interrupted.json")" '[]' 'interrupted run is not a failure'
is "$(jq -c '.gauntlet.dimensions.scheduler | map([.name, .interrupted])' "$T/interrupted.json")" \
	'[["fixture",1]]' 'interrupted run counts in its group'
is "$(jq -c '.gauntlet.dimensions.scenario[0].medians | [.iterations, .gap_ms]' "$T/interrupted.json")" \
	'[80000,120]' 'medians leave out interrupted and invalid values'
is "$(grep -c . "$err")" 1 'one warning for the file with invalid values'
is "$(cat "$err")" \
	"ktstr-stats: warning: ignoring 2 invalid metric values in '$interrupted/steady-1n1l2c1t-default-20261204T220300Z-5151-3.ktstr.json': stats.worst_gap_ms is -5 (expected a finite number from 0 to 2^53)" \
	'the warning names the file and the first value'

run ktstr-stats --dir "$interrupted"
is "$status" 0 'interrupted text report exits 0'
like "$(cat "$out")" 'interrupted +1 ' 'text report counts interrupted runs'
like "$(cat "$out")" 'failed +0' 'text report counts no failure'

# Runs whose guest never reported (see t/fixtures/sidecars/README): they
# count as runs and failures, but their zeros enter no median, outlier
# screening, KVM average or the stimulus table's (none) row.
never=$KTSTR_SRC/t/fixtures/sidecars/never-reported
run ktstr-stats --dir "$never" --json
is "$status" 0 'never-reported fixtures exit 0'
is "$(wc -c <"$err" | tr -d ' ')" 0 'never-reported fixtures read without warnings'
cp "$out" "$T/never.json"
report_matches_jq "$T/never.json" "$never"/*.ktstr.json
is "$(jq -c '.gauntlet | [.runs, .passed, .failed, .unmeasured]' "$T/never.json")" '[8,5,3,3]' \
	'runs without figures count as failed runs'
is "$(jq -c '.gauntlet.outcomes | [.error, .timeout, .panic]' "$T/never.json")" '[1,1,1]' \
	'outcomes of runs without figures are counted'
is "$(jq -c '.gauntlet.dimensions.scenario[0].medians | [.iterations, .gap_ms, .imbalance, .dsq_depth, .fallback]' \
	"$T/never.json")" '[233173,61,null,null,null]' 'medians leave out runs without figures'
is "$(jq -c '.gauntlet.outliers.found' "$T/never.json")" '[]' 'zero iterations are no outlier'
is "$(jq -c '.gauntlet.stimulus_outcomes | map(select(.stimulus == null) | [.runs, .outcomes.pass, .outcomes.error])' \
	"$T/never.json")" '[[4,4,0]]' 'runs without figures are not in the (none) row'
is "$(jq -c '.kvm | [.vms, .exits_per_vcpu, .halt_exits_per_vcpu, .hypercalls_per_vcpu, .halt_wait_ms]' \
	"$T/never.json")" '[2,2500,55,3,5]' 'KVM averages skip values that are not numbers'
is "$(jq -c '.kvm | [.poll_success_pct, .preemptions_total]' "$T/never.json")" '[60,0]' \
	'KVM sums leave out the run without figures'

# The case from a user's report: one passing run and one that never ran.
mkdir -p "$T/pair"
cp "$never"/*-6262-1.ktstr.json "$never"/*-6262-6.ktstr.json "$T/pair/"
run ktstr-stats --dir "$T/pair" --json
is "$(jq -c '.gauntlet.dimensions.scenario[0].medians | [.iterations, .gap_ms]' "$out")" '[233173,61]' \
	'medians of a passing run and an error run'

# Only the two measured KVM runs: a vCPU value that is not a number, or a
# statistic missing from every vCPU of a VM, is not averaged as 0.
mkdir -p "$T/kvm"
cp "$never"/*-6262-1.ktstr.json "$never"/*-6262-2.ktstr.json "$T/kvm/"
run ktstr-stats --dir "$T/kvm" --json
is "$(jq -c '.kvm | [.vms, .exits_per_vcpu, .halt_exits_per_vcpu, .hypercalls_per_vcpu]' "$out")" '[2,2500,55,3]' \
	'per-vCPU values that are not numbers are skipped'

run ktstr-stats --dir "$never"
is "$status" 0 'never-reported text report exits 0'
like "$(cat "$out")" 'unmeasured +3 +\(the guest never reported figures' 'text report counts unmeasured runs'
like "$(cat "$out")" 'steady +8 +5 +3 +0 +37\.5% +4\.0 +61 +400\.0 +233173$' \
	'text medians leave out runs without figures'
like "$(cat "$out")" 'hypercalls/vcpu +3$' 'text KVM average skips a VM without the statistic'
like "$(cat "$out")" '^ +run: the VM ran past its --timeout$' 'failed-run list gives why the VM failed'
run ktstr-stats --dir "$never" --json
is "$(jq -r '[.gauntlet.failed_runs[] | .message] | sort | join("|")' "$out" 2>&1)" \
	'QEMU exited with status 1|the VM ran past its --timeout|the guest kernel panicked' \
	'--json failed runs carry the error'

done_testing
