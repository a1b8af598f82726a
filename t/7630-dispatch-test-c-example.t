#!/bin/sh
# The shell example for C schedulers, examples/c-scheduler/run-scenarios.sh:
# the kernel's scx_simple passes and the stalling scx_fixture fails, each in
# one VM boot of the Debian sched_ext kernel.  The guests get one vCPU: under
# TCG on a busy host, the vCPU threads of a larger guest get unequal shares
# of the host, which can fail the fairness check for reasons outside the
# guest.
. "${0%/*}/lib/test-lib.sh"
require_assets

script=$KTSTR_SRC/examples/c-scheduler/run-scenarios.sh

expect_status 0 'example -h exits 0' "$script" -h
like "$(cat "$out")" '^Usage: run-scenarios\.sh' 'example help starts with the synopsis'
expect_status 2 'example without a scheduler exits 2' "$script"
one_line_error 'example usage error is one line'
expect_status 2 'example with a missing scheduler exits 2' "$script" "$T/no-such-scheduler"
like "$(cat "$err")" "scheduler '$T/no-such-scheduler' is not an executable file" \
	'missing scheduler is named'

expect_status 0 'scx_simple passes the example scenario' \
	"$script" -k "$KTSTR_ASSET_KERNEL" -t 1,1,1,1 "$KTSTR_ASSET_SCX_BIN/scx_simple" steady
is "$(head -n 1 "$out")" 'PASS steady' 'example prints the scenario result'
runs=$(tail -n 1 "$out")
is "$(dirname "$runs")" "$KTSTR_SIDECAR_DIR" 'example puts its runs under KTSTR_SIDECAR_DIR'
is "$(jq -r '.scheduler + " " + .outcome' "$runs"/steady-*.ktstr.json 2>&1)" 'simple pass' \
	'example sidecar records the pass'
like "$(cat "$err")" '=== GAUNTLET ANALYSIS ===' 'example prints the test-stats analysis'

expect_status 1 'stalling scheduler fails the example' \
	"$script" -k "$KTSTR_ASSET_KERNEL" -d 3 -a '--stall-comm ktstr-worker --timeout-ms 1000' \
	"$KTSTR_ASSET_FIXTURE" steady
is "$(head -n 1 "$out")" 'FAIL steady' 'example reports the failed scenario'
runs=$(tail -n 1 "$out")
is "$(jq -r .outcome "$runs"/steady-*.ktstr.json 2>&1)" scheduler-failed 'example sidecar records the stall'
done_testing
