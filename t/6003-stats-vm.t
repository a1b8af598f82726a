#!/bin/sh
# ktstr-stats on sidecars that real ktstr-vm runs wrote: the kernel's
# scheduler, scx_simple with a cpuset step, and scx_fixture failing on
# purpose, all in one directory.  The report's numbers are checked against
# jq computations on the same files.
. "${0%/*}/lib/test-lib.sh"
. "$KTSTR_SRC/t/fixtures/sidecars/helpers.sh"
require_assets

# KTSTR_SIDECAR_DIR is $T/sidecars (t/lib/test-lib.sh): ktstr-vm writes
# there and ktstr-stats reads it without --dir.
vm() {
	run ktstr-vm --kernel "$KTSTR_ASSET_KERNEL" --allow-image --topology 1,1,2,1 "$@"
}

vm --scenario steady --duration 2
is "$status" 0 'eevdf steady run passes'
vm --scheduler "$KTSTR_ASSET_SCX_BIN/scx_simple" --scenario cpuset_change --duration 3
is "$status" 0 'scx_simple cpuset_change run passes'
vm --scheduler "$KTSTR_ASSET_FIXTURE" --sched-args=--error-exit --profile llc --scenario steady --duration 3
is "$status" 1 'scx_fixture --error-exit run fails'
set -- "$KTSTR_SIDECAR_DIR"/*.ktstr.json
is "$#" 3 'each run wrote one sidecar'

run ktstr-stats --json
is "$status" 0 'ktstr-stats exits 0 after a failed run'
is "$(wc -c <"$err" | tr -d ' ')" 0 'real sidecars read without warnings'
cp "$out" "$T/report.json"
report_matches_jq "$T/report.json" "$@"

# What these three runs must show, whatever the timings were.
is "$(jq -c '.gauntlet | [.runs, .passed, .failed, .outcomes["scheduler-failed"]]' "$T/report.json")" '[3,2,1,1]' \
	'one of three runs failed in its scheduler'
is "$(jq -r '.gauntlet.failed_runs[0] | .profile + " " + .scheduler' "$T/report.json")" 'llc fixture' \
	'failed run names its profile and scheduler'
like "$(jq -r '.gauntlet.failed_runs[0].message' "$T/report.json")" 'requested error exit' \
	'failed run carries the scheduler error'
is "$(jq -c '[.gauntlet.dimensions.scheduler[].name] | sort' "$T/report.json")" '["eevdf","fixture","simple"]' \
	'schedulers are grouped by their sched_ext names'
is "$(jq -c '[.gauntlet.stimulus_outcomes[] | select(.stimulus == "set-cpuset") | .runs]' "$T/report.json")" '[1]' \
	'the cpuset step is in the stimulus table'
is "$(jq '[.verifier.programs[] | select(.scheduler == "simple" and .name == "simple_enqueue")] | length' \
	"$T/report.json")" 1 'verifier lists scx_simple programs'
is "$(jq '[.callback_profile[] | select(.scheduler == "simple" and .cnt > 0)] | length > 0' "$T/report.json")" \
	true 'callback profile lists scx_simple programs'

is "$(jq -c '.kvm | [.vms, .tcg_runs]' "$T/report.json")" '[0,3]' 'TCG runs have no KVM statistics'

# The text report of the same runs.
run cargo-ktstr ktstr test-stats
is "$status" 0 'cargo ktstr test-stats exits 0'
is "$(grep '^===' "$out" | tr '\n' '|')" \
	'=== GAUNTLET ANALYSIS ===|=== BPF VERIFIER STATS ===|=== BPF CALLBACK PROFILE ===|=== KVM STATS ===|' \
	'real runs fill every section'
like "$(cat "$out")" 'none: 3 runs used TCG, which has no KVM statistics' 'TCG note is printed'
like "$(cat "$out")" 'scheduler-failed +[^ ]*steady-1n1l2c1t-llc-' 'failed run is listed'

done_testing
