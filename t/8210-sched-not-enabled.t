#!/bin/sh
# Schedulers that never get enabled: one that waits without registering
# (the enable timeout), and one whose BPF programs fail verification.  Both
# fail the run with the scheduler's own output, and no worker starts.
. "${0%/*}/lib/test-lib.sh"
require_assets

FIX=$KTSTR_SRC/t/fixtures/scenarios
scenario_expect=1
. "$KTSTR_SRC/t/lib/scenario-lib.sh"

scenario never --scheduler "$FIX/never-enables.sh" --sched-enable-timeout 2 --scenario steady --duration 1
is "$status" 1 'a scheduler that never enables fails the run'
check 'never-enables sidecar parses' parses "$sidecar"
is "$(field .outcome)" scheduler-failed 'outcome is scheduler-failed'
is "$(field .sched_ext.exit_kind)" not-enabled 'exit kind is not-enabled'
is "$(field .sched_ext.exit_reason)" 'the kernel did not enable the scheduler within 2000 ms' \
	'the reason gives the timeout'
like "$(cat "$T/never.err")" "scheduler 'never-enables.sh' was not enabled: the kernel did not enable the scheduler within 2000 ms" \
	'the message names the scheduler and the timeout'
like "$(cat "$T/never.err")" '  \| never-enables: waiting without loading anything' \
	"stderr shows the scheduler's own output"
is "$(field .stats.total_workers)" 0 'no worker started'
is "$(field .scheduler)" never-enables.sh 'an unloaded scheduler is named by its binary'

scenario verify --scheduler "$KTSTR_ASSET_FIXTURE" --sched-args --fail-verify --scenario steady --duration 1
is "$status" 1 'a scheduler that fails verification fails the run'
check 'fail-verify sidecar parses' parses "$sidecar"
is "$(field .sched_ext.exit_kind)" not-enabled 'exit kind is not-enabled'
is "$(field .sched_ext.exit_status)" 1 "the scheduler's exit status is recorded"
like "$(field .sched_ext.exit_reason)" 'exited before the kernel enabled it \(exit status 1\)' \
	'the reason says it exited before enabling'
like "$(field .scheduler_log)" 'invalid access to map value' 'the verifier log is in the sidecar'
like "$(field .scheduler_log)" '-- BEGIN PROG LOAD LOG --' 'the whole libbpf log is kept'
is "$(field .scheduler_log_truncated)" false 'a short log is not cut'

# A run that never reports still leaves a sidecar: a timeout shorter than
# the boot.  Without KTSTR_SIDECAR_DIR it goes to target/ktstr/ of the git
# repository around the working directory.
mkdir "$T/project"
git -C "$T/project" init -q -b feature/x
git -C "$T/project" -c user.name=t -c user.email=t@example.com commit -q --allow-empty -m start
commit=$(git -C "$T/project" rev-parse --short=7 HEAD)
(
	cd "$T/project" || exit 1
	unset KTSTR_SIDECAR_DIR CARGO_TARGET_DIR
	run ktstr-vm --kernel "$KTSTR_ASSET_KERNEL" --allow-image --accel tcg --timeout 2 \
		--scenario steady --duration 1 --append ' ktstr_karg=1  nokaslr'
	echo "$status" >"$T/timeout.status"
)
is "$(cat "$T/timeout.status")" 124 'a timed-out scenario run exits 124'
sidecar=$(head -1 "$out")
like "$sidecar" "^$T/project/target/ktstr/feature-x-$commit/steady-1n1l1c1t-default-.*\.ktstr\.json$" \
	'the default sidecar directory is target/ktstr/<branch>-<commit>'
check 'a timed-out run leaves a sidecar' parses "$sidecar"
is "$(field '[.project_branch, .project_commit] | join(" ")')" "feature/x $commit" \
	'the sidecar records the project branch and commit'
is "$(field '[.outcome, .passed, .exit_status] | join(" ")')" 'timeout false 124' \
	'the sidecar records the timeout'
is "$(field .error)" 'the VM ran past its --timeout' 'the sidecar says why the run ended'
is "$(field '.kargs | join(",")')" 'ktstr_karg=1,nokaslr' 'the sidecar lists the --append arguments'
is "$(field .stats.total_workers)" 0 'the timed-out sidecar has empty stats'

done_testing
