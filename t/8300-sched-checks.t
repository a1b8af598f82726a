#!/bin/sh
# The checks fail when they should: one worker at the lowest cgroup weight
# and nice 19 pinned with three busy ones to CPU 0 starves under the
# kernel's scheduler, and a tight spread limit fails fairness; both failures
# carry their numbers.
. "${0%/*}/lib/test-lib.sh"
require_assets

FIX=$KTSTR_SRC/t/fixtures/scenarios

run ktstr-vm --kernel "$KTSTR_ASSET_KERNEL" --allow-image --accel tcg --topology 1,1,2,1 \
	--scenario "$FIX/starve.json" --max-gap-ms 1000 --max-spread-pct 0.01
sidecar=$(head -1 "$out")
cp "$err" "$T/starve.err"
if [ "$status" != 1 ]; then
	diag "status $status" "$(head -40 "$err")"
fi

field() {
	jq -r "$1" "$sidecar"
}

is "$status" 1 'starving setup fails the run'
check 'starving setup leaves a sidecar' test -f "$sidecar"
is "$(field .outcome)" fail 'outcome is fail'
is "$(field '.thresholds | [.max_gap_ms, .max_spread_pct, .tcg_scale] | join(" ")')" '1000 0.01 ' \
	'thresholds from options are used as given, unscaled'

victim=$(field '[.failures[] | select(.check == "starvation" and .cgroup == "victim")][0]')
is "$(printf '%s' "$victim" | jq -r .threshold)" 1000 'starvation failure carries its threshold'
check 'starvation value is over the threshold' \
	test "$(printf '%s' "$victim" | jq -r '.value | floor')" -gt 1000
is "$(printf '%s' "$victim" | jq -r .worker)" "$(field '.stats.cgroups[1].workers[0].pid')" \
	'starvation failure names the victim worker'
like "$(cat "$T/starve.err")" \
	"starvation check failed: worker [0-9]+ in cgroup 'victim' (went|made no progress: it went) [0-9]+ ms without running" \
	'stderr states the starvation with its numbers'

fair=$(field '[.failures[] | select(.check == "fairness" and .cgroup == "busy")][0]')
is "$(printf '%s' "$fair" | jq -r .threshold)" 0.01 'fairness failure carries its threshold'
like "$(printf '%s' "$fair" | jq -r .message)" \
	"off-CPU time of the 3 workers in cgroup 'busy' spreads [0-9.]+% \(from [0-9.]+% to [0-9.]+%\), over the limit of 0.01%" \
	'fairness message gives the spread and its range'
is "$(field '[.failures[] | select(.check == "cpuset")] | length')" 0 'pinned workers stayed in their cpuset'
is "$(field '[.stats.cgroups[].workers[].cpus[]] | unique | join(",")')" 0 'every worker ran on CPU 0 only'

done_testing
