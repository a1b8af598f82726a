#!/bin/sh
# Scenario runs that must pass under TCG on the Debian sched_ext kernel: the
# kernel's own scheduler, scx_simple and scx_qmap from the kernel source, and
# the fixture scheduler in its normal mode with a flag profile.  Each leaves
# a sidecar that parses and says what ran.
. "${0%/*}/lib/test-lib.sh"
require_assets

. "$KTSTR_SRC/t/lib/scenario-lib.sh"

# The kernel's own scheduler, two cgroups each confined to one CPU; the
# sidecar goes to --sidecar-dir, which wins over KTSTR_SIDECAR_DIR.
scenario baseline --scenario cpuset_split --duration 2 --sidecar-dir "$T/explicit"
is "$status" 0 'baseline run passes'
check 'baseline sidecar exists' test -f "$sidecar"
check 'baseline sidecar parses' parses "$sidecar"
like "$sidecar" "^$T/explicit/cpuset_split-1n1l2c1t-default-[0-9]{8}T[0-9]{6}Z-[0-9]+-[0-9]+\.ktstr\.json$" \
	'sidecar name carries scenario, topology, profile and run id'
is "$(field .schema_version)" 1 'sidecar has schema_version 1'
is "$(field .scheduler)" eevdf 'baseline scheduler is eevdf'
is "$(field .sched_ext)" null 'baseline has no sched_ext object'
is "$(field .outcome)" pass 'baseline outcome is pass'
is "$(field .accel)" tcg 'sidecar records the accelerator'
is "$(field .kvm_stats)" null 'no KVM statistics under TCG'
is "$(field .kernel_version)" "$KTSTR_ASSET_KVER" 'sidecar records the guest kernel release'
is "$(field .stats.total_workers)" 4 'two workers per CPU of each cpuset'
is "$(field '[.stats.cgroups[] | .cpuset] | join(" ")')" '0 1' 'split gives each cgroup one CPU'
is "$(field '[.stats.cgroups[0].workers[].cpus[]] | unique | join(",")')" 0 \
	'workers of the first cgroup ran only on CPU 0'
is "$(field '[.stats.cgroups[1].workers[].cpus[]] | unique | join(",")')" 1 \
	'workers of the second cgroup ran only on CPU 1'
is "$(field '[.stats.cgroups[].workers[] | select(.iterations > 0 and .cpu_time_ns > 0)] | length')" 4 \
	'every worker made progress and used CPU time'
is "$(field '.thresholds | [.max_gap_ms, .max_spread_pct, .tcg_scale] | join(" ")')" '5000 37.5 2.5' \
	'default thresholds are scaled under TCG'
like "$(cat "$T/baseline.err")" "scenario 'cpuset_split' with eevdf on 1n1l2c1t \(tcg\): pass, 4 workers" \
	'baseline summary on stderr'

# scx_simple from the kernel's tools/sched_ext.
scenario simple --scheduler "$KTSTR_ASSET_SCX_BIN/scx_simple" --scenario steady --duration 2
is "$status" 0 'scx_simple run passes'
check 'scx_simple sidecar parses' parses "$sidecar"
is "$(field .scheduler)" simple 'scheduler is named by its ops name'
is "$(field .scheduler_path)" "$KTSTR_ASSET_SCX_BIN/scx_simple" 'sidecar records the scheduler path'
is "$(field '.sched_ext | [.state_before, .state_after] | join(" ")')" 'disabled enabled' \
	'scx_simple was enabled from start to end'
is "$(field .sched_ext.exit_kind)" null 'a passing scheduler has no exit kind'
is "$(field .sched_ext.stop_reason)" 'unregistered from user space' 'the normal stop is recorded apart'
is "$(field '[.verifier_stats[].name] | sort | join(" ")')" \
	'simple_dispatch simple_enable simple_enqueue simple_exit simple_init simple_running simple_select_cpu simple_stopping' \
	'verifier_stats lists the struct_ops programs by full name'
is "$(field '[.bpf_programs[] | select(.name == "simple_enqueue" and .type == "struct_ops" and .verified_insns > 0 and .run_cnt > 0 and .run_time_ns > 0)] | length')" 1 \
	'bpf_programs has run counts and times (kernel.bpf_stats_enabled)'
is "$(field '[.monitor.prog_stats_deltas[] | select(.name == "simple_running" and .cnt > 0)] | length')" 1 \
	'prog_stats_deltas profiles the callbacks over the run'
is "$(field '.sysctls | join(" ")')" 'sysctl.kernel.bpf_stats_enabled=1' 'sidecar records the sysctl'
like "$(field .scheduler_log)" 'local=[0-9]+ global=[0-9]+' 'the scheduler output is kept'

# scx_qmap from the kernel's tools/sched_ext.
scenario qmap --scheduler "$KTSTR_ASSET_SCX_BIN/scx_qmap" --scenario steady --duration 2
is "$status" 0 'scx_qmap run passes'
is "$(field .sched_ext.ops)" qmap 'scx_qmap enabled as qmap'
check 'scx_qmap sidecar parses' parses "$sidecar"
is "$(field .scheduler_path)" "$KTSTR_ASSET_SCX_BIN/scx_qmap" 'scx_qmap sidecar names it'
is "$(field '[.stats.cgroups[].workers[].policy] | unique | join(" ")')" normal 'qmap: workers keep SCHED_NORMAL'

# scx_qmap in partial mode (-p) schedules only tasks with the SCHED_EXT
# policy, which the workers then take.
scenario qmap-partial --scheduler "$KTSTR_ASSET_SCX_BIN/scx_qmap" --sched-args -p --scenario steady --duration 2
is "$status" 0 'partial scx_qmap run passes'
is "$(field '[.sched_ext.ops, .sched_ext.partial] | map(tostring) | join(" ")')" 'qmap true' \
	'partial mode is recorded'
is "$(field '[.stats.cgroups[].workers[].policy] | unique | join(" ")')" ext 'partial: workers run as SCHED_EXT'
is "$(field '[.stats.cgroups[].workers[] | select(.iterations > 0)] | length')" 4 'partial: every worker made progress'

# The fixture scheduler, healthy, with its llc flag and a mix of work types;
# --json prints the sidecar itself on stdout.
scenario fixture --scheduler "$KTSTR_ASSET_FIXTURE" --flags llc --scenario mixed_workloads --duration 2 --json
is "$status" 0 'fixture scheduler in normal mode passes'
cp "$out" "$T/fixture.json"
sidecar=$(ls "$KTSTR_SIDECAR_DIR"/mixed_workloads-1n1l2c1t-llc-*.ktstr.json)
is "$(jq -S -c . "$T/fixture.json")" "$(jq -S -c . "$sidecar")" '--json prints the sidecar document'
is "$(field .scheduler)" fixture 'fixture sidecar names its ops'
is "$(field .profile)" llc 'profile is recorded'
is "$(field '.active_flags | join(" ")')" llc 'active flags are recorded'
is "$(field '.scheduler_args | join(" ")')" --llc 'the profile added its argument'
like "$(field .scheduler_log)" 'scx_fixture: scheduler enabled \(llc' 'the fixture ran with --llc'
is "$(field '[.stats.cgroups[] | .work_type] | join(" ")')" 'CpuSpin Bursty IoSync YieldHeavy' \
	'the cgroups ran their work types'
is "$(field '.work_type')" CpuSpin 'work_type is that of the first cgroup'

done_testing
