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

# ours FILTER: a jq filter over the report, compact and with sorted keys.
ours() {
	jq -S -c "$1" "$T/report.json"
}
# theirs FILTER: a jq filter over the sidecars, compact and with sorted keys.
theirs() {
	local filter=$1
	shift
	sidecar_jq "$filter" "$@" | jq -S -c .
}

# Totals.
is "$(ours '.gauntlet | {runs, passed, failed, skipped, failure_rate}')" \
	"$(theirs '{runs: length, passed: map(select(outcome == "pass")) | length,
		failed: map(select(failed)) | length, skipped: map(select(outcome == "skipped")) | length,
		failure_rate: failure_rate}' "$@")" \
	'totals match jq'
is "$(ours '.gauntlet.outcomes | with_entries(select(.value > 0))')" \
	"$(theirs 'group_by(outcome) | map({key: (.[0] | outcome), value: length}) | from_entries' "$@")" \
	'outcome counts match jq'
is "$(ours '.files | [.read, .upstream]')" \
	"$(theirs '[length, map(select(has("schema_version") | not)) | length]' "$@")" \
	'upstream file is counted as upstream'

# Every group of every dimension: counts, failure rate and all medians.
for dim in scenario profile topology scheduler work_type; do
	is "$(ours ".gauntlet.dimensions.$dim | map({name, runs, passed, failed, skipped, failure_rate, medians})
		| sort_by(.name)")" \
		"$(theirs "groups(\"$dim\") | sort_by(.name)" "$@")" \
		"$dim groups match jq"
done
is "$(ours '.gauntlet.dimensions.scenario[0].name')" \
	"$(theirs 'groups("scenario") | max_by(.failure_rate) | .name' "$@")" \
	'scenario with the highest failure rate comes first'
is "$(ours '.gauntlet.dimensions.profile[-1].name')" '"borrow"' \
	'group whose runs were all skipped comes last'

# Failed runs.
is "$(ours '[.gauntlet.failed_runs[] | {path, outcome}] | sort_by(.path)')" \
	"$(theirs 'map(select(failed) | {path: .__file, outcome: outcome}) | sort_by(.path)' "$@")" \
	'failed runs match jq'
is "$(ours '[.gauntlet.failed_runs[] | select(.outcome == "scheduler-failed") | .check, .message]')" \
	"$(theirs '[.[] | select(outcome == "scheduler-failed") | "scheduler", .sched_ext.exit_reason]' "$@")" \
	'scheduler failure carries the exit reason'
is "$(ours '[.gauntlet.failed_runs[] | select(.outcome == "fail") | .check] | unique')" '["starvation"]' \
	'failed check names are reported'

# Outliers: modified z-score with median and MAD, per scenario.
outliers_jq='group_by(.test_name) | map(. as $runs | metric_paths | keys[] as $m
	| [$runs[] | {path: .__file, v: metric($m)} | select(.v != null)] as $values
	| select(($values | length) >= 5)
	| ($values | map(.v) | median) as $median
	| ($values | map(.v - $median | abs)) as $deviations
	| ($deviations | median) as $mad
	| ($deviations | add / length) as $mean_deviation
	| (if $mad > 0 then $mad / 0.6745 elif $mean_deviation > 0 then $mean_deviation * 1.253314
	   else null end) as $scale
	| select($scale != null)
	| $values[] | ((.v - $median) / $scale) as $z
	| select(if $m == "iterations" then $z < -3.5 else $z > 3.5 end)
	| {path, metric: $m, value: .v, median: $median, score: ($z * 1000 | round / 1000)})
	| sort_by(.path, .metric)'
is "$(ours '[.gauntlet.outliers.found[] | {path, metric, value, median, score: (.score * 1000 | round / 1000)}]
	| sort_by(.path, .metric)')" \
	"$(theirs "$outliers_jq" "$@")" \
	'outliers match jq'
is "$(ours '.gauntlet.outliers.found | map(.metric + " " + (.path | split("/") | last))')" \
	'["gap_ms steady-1n2l2c1t-llc+steal-20261204T210500Z-4242-5.ktstr.json"]' \
	'the planted gap_ms run is the outlier'
is "$(ours '.gauntlet.outliers | [.method, .threshold, .min_runs]')" '["modified_z_score",3.5,5]' \
	'outlier method is stated'

# Stimulus against outcome.
stimuli_jq='[.[] | outcome as $o
	| ([.stimulus_events[]? | (.op_kind // .label) | select(. != null and . != "")] | unique) as $kinds
	| if ($kinds | length) == 0 then {stimulus: null, outcome: $o}
	  else $kinds[] | {stimulus: ., outcome: $o} end]
	| group_by(.stimulus) | map({stimulus: .[0].stimulus, runs: length,
		outcomes: (group_by(.outcome) | map({key: .[0].outcome, value: length}) | from_entries)})'
is "$(ours '.gauntlet.stimulus_outcomes | map(.outcomes |= with_entries(select(.value > 0)))
	| sort_by(.stimulus)')" \
	"$(theirs "$stimuli_jq" "$@")" \
	'stimulus cross-tab matches jq'

# BPF verifier statistics.
verifier_jq='[.[] | (.scheduler // "unknown") as $s
	| (if ((.verifier_stats // []) | length) > 0 then .verifier_stats else (.bpf_programs // []) end)[]
	| select((.verified_insns // 0) > 0) | {scheduler: $s, name, insns: .verified_insns}]
	| group_by([.scheduler, .name]) | map({scheduler: .[0].scheduler, name: .[0].name,
		verified_insns: (map(.insns) | max), near_limit: ((map(.insns) | max) >= 750000)})'
is "$(ours '.verifier.programs | map({scheduler, name, verified_insns, near_limit})
	| sort_by(.scheduler, .name)')" \
	"$(theirs "$verifier_jq" "$@")" \
	'verifier counts match jq'
is "$(ours '.verifier.total_verified_insns')" \
	"$(theirs "$verifier_jq | map(.verified_insns) | add" "$@")" \
	'verifier total matches jq'

# BPF callback profile.
profile_jq='[.[] | (.scheduler // "unknown") as $s
	| if ((.monitor.prog_stats_deltas // []) | length) > 0
	  then .monitor.prog_stats_deltas[] | {name, cnt, nsecs}
	  else (.bpf_programs // [])[] | {name, cnt: .run_cnt, nsecs: .run_time_ns} end
	| select((.cnt // 0) > 0) | . + {scheduler: $s}]
	| group_by([.scheduler, .name]) | map({scheduler: .[0].scheduler, name: .[0].name, runs: length,
		cnt: (map(.cnt) | add), nsecs: (map(.nsecs // 0) | add)})
	| map(. + {avg_ns: (.nsecs / .cnt * 1000 | round / 1000)})'
is "$(ours '.callback_profile | map({scheduler, name, runs, cnt, nsecs, avg_ns: (.avg_ns * 1000 | round / 1000)})
	| sort_by(.scheduler, .name)')" \
	"$(theirs "$profile_jq" "$@")" \
	'callback profile matches jq'

# KVM statistics: per-VM averages over vCPUs, averaged over VMs.
kvm_jq='[.[] | .kvm_stats.per_vcpu // [] | select(length > 0)] as $vms
	| def per_vm($key): $vms | map(map(.[$key] // 0) | add / length) | add / length;
	def r: . * 1000 | round / 1000;
	{vms: ($vms | length),
	 tcg_runs: (map(select(((.kvm_stats.per_vcpu // []) | length) == 0 and .accel == "tcg")) | length),
	 exits: (per_vm("exits") | r), halt: (per_vm("halt_exits") | r),
	 halt_wait_ms: (per_vm("halt_wait_ns") / 1e6 | r),
	 poll: (([$vms[][] | .halt_successful_poll // 0] | add) as $ok
		| ([$vms[][] | .halt_attempted_poll // 0] | add) as $tries | ($ok / $tries * 100 | r)),
	 preempted: (per_vm("preemption_reported") | r), signal: (per_vm("signal_exits") | r),
	 hypercalls: (per_vm("hypercalls") | r),
	 preemptions_total: ([$vms[][] | .preemption_reported // 0] | add)}'
is "$(ours 'def r: . * 1000 | round / 1000; .kvm | {vms, tcg_runs, exits: (.exits_per_vcpu | r),
	halt: (.halt_exits_per_vcpu | r), halt_wait_ms: (.halt_wait_ms | r), poll: (.poll_success_pct | r),
	preempted: (.preemptions_per_vcpu | r), signal: (.signal_exits_per_vcpu | r),
	hypercalls: (.hypercalls_per_vcpu | r), preemptions_total}')" \
	"$(theirs "$kvm_jq" "$@")" \
	'KVM averages match jq'

# The text report: sections, tables and flags.
run ktstr-stats --dir "$fixtures"
is "$status" 0 'text report exits 0'
cp "$out" "$T/report.txt"
is "$(grep '^===' "$T/report.txt" | tr '\n' '|')" \
	'=== GAUNTLET ANALYSIS ===|=== BPF VERIFIER STATS ===|=== BPF CALLBACK PROFILE ===|=== KVM STATS (avg across 2 VMs) ===|' \
	'sections come in order'
check 'text has no escape sequences off a terminal' sh -c "! grep -q \"$(printf '\033')\" '$T/report.txt'"
like "$(cat "$T/report.txt")" 'failed +4 +\(36\.4% of the runs that were not skipped: fail 2, scheduler-failed 1, timeout 1\)' \
	'totals line gives the failure rate and outcomes'
like "$(cat "$T/report.txt")" 'fixture +fixture_dispatch +812000 +81\.2% +!' 'near-limit program is flagged'
like "$(cat "$T/report.txt")" 'fixture +fixture_enqueue +4420 +0\.4%
' 'program under the limit is not flagged'
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
is "$(jq -S -c . "$out")" "$(ours .)" 'report on one CPU matches the threaded one'

# Merging shards gives the numbers of one directory.
mkdir -p "$T/shard-1" "$T/shard-2"
cp "$fixtures"/steady-*.ktstr.json "$T/shard-1/"
cp "$fixtures"/cpuset_shrink-*.ktstr.json "$fixtures"/sync_io-*.ktstr.json "$T/shard-2/"
run ktstr-stats --dir "$T/shard-1" --dir "$T/shard-2" --json
is "$(jq -S -c 'del(.dirs) | del(.gauntlet.failed_runs, .gauntlet.outliers.found)' "$out")" \
	"$(ours 'del(.dirs) | del(.gauntlet.failed_runs, .gauntlet.outliers.found)')" \
	'merged shards match one directory'
is "$(jq -c '.dirs | length' "$out")" 2 'merged report lists both directories'
run ktstr-stats --dir "$T/shard-1" --dir "$T/shard-1/" --json
is "$(jq -r '.files.read' "$out")" "$(ls "$T/shard-1" | wc -l)" 'directory given twice is read once'
like "$(cat "$err")" "warning: directory '$T/shard-1/' given twice" 'directory given twice warns'

done_testing
