#!/bin/sh
# A scheduler that dies during the run fails it, naming the cause: killed
# from the guest mid-scenario, kicked out by the sched_ext watchdog, or ended
# by an error on its BPF side.
. "${0%/*}/lib/test-lib.sh"
require_assets

FIX=$KTSTR_SRC/t/fixtures/scenarios
scenario_expect=1
. "$KTSTR_SRC/t/lib/scenario-lib.sh"

# scx_simple, killed with SIGKILL by a scenario step after 1 s of 3.
scenario kill --scheduler "$KTSTR_ASSET_SCX_BIN/scx_simple" --scenario "$FIX/kill-scheduler.json"
is "$status" 1 'killed scheduler fails the run'
check 'killed scheduler sidecar parses' parses "$sidecar"
is "$(field .outcome)" scheduler-failed 'outcome is scheduler-failed'
is "$(field .passed)" false 'the run did not pass'
is "$(field .sched_ext.exit_kind)" exited 'exit kind is exited'
is "$(field .sched_ext.exit_status)" 137 'the scheduler died of SIGKILL'
is "$(field .sched_ext.exit_reason)" 'unregistered from user space' "the kernel's reason is recorded"
like "$(cat "$T/kill.err")" \
	"scheduler check failed: scheduler 'simple' exited during the run \(killed by signal 9\); the kernel disabled it: unregistered from user space" \
	'the message names the kill and the kernel reason'
is "$(field '[.stimulus_events[] | .op_kind] | join(" ")')" 'start kill-scheduler exited end' \
	'stimulus events record the step and the failure'
is "$(field '.failures | map(.check) | join(" ")')" scheduler 'the failure is the scheduler check'
check 'the run stopped early' test "$(field .stats.total_iterations)" -gt 0

# The fixture stalls every worker (comm ktstr-worker) until the watchdog
# (3000 ms) disables it.
scenario stall --scheduler "$KTSTR_ASSET_FIXTURE" --sched-args '--stall --stall-comm ktstr-worker' \
	--scenario steady --duration 3
is "$status" 1 'a stalling scheduler fails the run'
check 'stall sidecar parses' parses "$sidecar"
is "$(field .sched_ext.exit_kind)" stall 'exit kind is stall'
is "$(field .sched_ext.exit_reason)" 'runnable task stall' "the watchdog's reason is recorded"
like "$(field .sched_ext.exit_message)" '^ktstr-worker\[[0-9]+\] failed to run for [0-9.]+s$' \
	"the kernel's message names the stalled worker"
like "$(cat "$T/stall.err")" "the sched_ext watchdog disabled scheduler 'fixture': runnable task stall \(ktstr-worker" \
	'the stall message names the watchdog'
like "$(cat "$T/stall.err")" '  \| EXIT: runnable task stall' "stderr quotes the scheduler's own exit line"
like "$(field .sched_ext.log_tail)" 'scx_fixture: scheduler disabled' 'log_tail ends with the output'

# The fixture calls scx_bpf_error() after 500 ms.
scenario error --scheduler "$KTSTR_ASSET_FIXTURE" --sched-args '--error-exit --error-after-ms 500' \
	--scenario steady --duration 3
is "$status" 1 'an error exit fails the run'
check 'error-exit sidecar parses' parses "$sidecar"
is "$(field .sched_ext.exit_kind)" error 'exit kind is error'
is "$(field .sched_ext.exit_reason)" scx_bpf_error "the kernel's reason is scx_bpf_error"
like "$(field .sched_ext.exit_message)" 'fixture: requested error exit' "the BPF side's message is recorded"
like "$(cat "$T/error.err")" "scheduler 'fixture' failed with an error: scx_bpf_error \(.*fixture: requested error exit\)" \
	'the message gives the reason and the BPF message'
like "$(cat "$T/error.err")" '  \| EXIT: scx_bpf_error' "stderr quotes the scheduler's exit message"

# A "scheduler" that crashes the guest kernel: the sidecar says so, with
# the kernel's panic message.
printf '#!/bin/sh\necho c >/proc/sysrq-trigger\n' >"$T/scx_crash"
chmod +x "$T/scx_crash"
scenario_expect=123 scenario crash --scheduler "$T/scx_crash" --scenario steady --duration 2
is "$status" 123 'a guest panic ends the run with 123'
is "$(field '[.outcome, .error] | join(": ")')" \
	'panic: the guest kernel panicked: Kernel panic - not syncing: sysrq triggered crash' \
	'the sidecar gives the panic message'
like "$(cat "$T/crash.err")" 'the guest kernel panicked \(Kernel panic - not syncing: sysrq triggered crash\); last console lines:' \
	'stderr names the panic'
like "$(tail -n 1 "$T/crash.err")" '^ktstr-vm: sidecar: ' 'the sidecar line comes last'

# SIGINT once the guest's init runs, before scx_simple is enabled: the
# sidecar records an interrupted run with no figures, named as a loaded
# scx_simple would be.  --dmesg shows the console line to wait for.
ktstr-vm --kernel "$KTSTR_ASSET_KERNEL" --allow-image --accel tcg --topology 1,1,2,1 --dmesg \
	--scheduler "$KTSTR_ASSET_SCX_BIN/scx_simple" --scenario steady --duration 20 \
	--sidecar-dir "$T/interrupted" >"$T/int.out" 2>"$T/int.err" </dev/null &
vm_pid=$!
waited=0
while ! grep -q 'Run /init' "$T/int.err" 2>/dev/null && [ "$waited" -lt 1200 ]; do
	sleep 0.1
	waited=$((waited + 1))
done
kill -INT "$vm_pid"
wait "$vm_pid"
status=$?
is "$status" 130 'SIGINT ends the run with status 130'
sidecar=$(head -1 "$T/int.out")
check 'interrupted sidecar parses' parses "$sidecar"
is "$(field .outcome)" interrupted 'outcome is interrupted'
is "$(field .exit_status)" 130 'the sidecar records the exit status 130'
is "$(field .passed)" false 'an interrupted run did not pass'
is "$(field .stats)" null 'an interrupted run has no stats'
is "$(field .monitor)" null 'an interrupted run has no monitor figures'
is "$(field .error)" 'ktstr-vm was stopped by SIGINT before the scenario ended' 'the error names the signal'
is "$(field .scheduler)" simple 'a scheduler that never enabled is named without scx_'

done_testing
