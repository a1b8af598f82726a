#!/bin/sh
# ktstr-verifier against the real verifier: the Debian 7.3 sched_ext kernel
# under QEMU, the kernel's example schedulers and the fixture scheduler.
# Ten boots in all (about 10 s each under TCG; one stops after 2 s).
. "${0%/*}/lib/test-lib.sh"
require_assets

KERNEL=$KTSTR_ASSET_KERNEL
FIXTURE=$KTSTR_ASSET_FIXTURE
SCX=$KTSTR_ASSET_SCX_BIN

# jq_true FILE FILTER: FILTER is true on FILE (jq 1.6 -e passes an empty file).
jq_true() {
	[ -s "$1" ] && jq -e "$2" "$1" >/dev/null
}

# struct_ops programs of a --json report, one "name insns" per line.
struct_ops() {
	jq -r '.profiles[0].programs[] | select(.type == "struct_ops") | "\(.name) \(.verified_insns)"' "$1"
}

# all_plausible FILE: every struct_ops program verified a plausible number of insns.
all_plausible() {
	[ -n "$(struct_ops "$1")" ] &&
		jq_true "$1" '[.profiles[0].programs[] | select(.type == "struct_ops") | .verified_insns > 0 and .verified_insns < 100000] | all'
}

# scx_simple: every struct_ops program loads with a count.
expect_status 0 'scx_simple loads' ktstr-verifier --scheduler-bin "$SCX/scx_simple" --kernel "$KERNEL" --json
cp "$out" "$T/simple.json"
is "$(jq -r '.profiles[0].outcome' "$T/simple.json")" loaded 'scx_simple outcome is loaded'
is "$(struct_ops "$T/simple.json" | cut -d' ' -f1 | sort | tr '\n' ' ')" \
	'simple_dispatch simple_enable simple_enqueue simple_exit simple_init simple_running simple_select_cpu simple_stopping ' \
	'scx_simple has its eight struct_ops programs'
check 'scx_simple counts are plausible' all_plausible "$T/simple.json"
like "$(jq -r '.profiles[0].sidecar' "$T/simple.json")" "^$KTSTR_SIDECAR_DIR/verifier-1n1l1c1t-default-.*\\.ktstr\\.json\$" \
	'scx_simple run left a sidecar'

# scx_qmap: built with clang-22 by scripts/test-assets, every program loads.
expect_status 0 'scx_qmap loads' ktstr-verifier --scheduler-bin "$SCX/scx_qmap" --kernel "$KERNEL" --json
cp "$out" "$T/qmap.json"
is "$(jq -r '.profiles[0].outcome' "$T/qmap.json")" loaded 'scx_qmap outcome is loaded'
check 'scx_qmap counts are plausible' all_plausible "$T/qmap.json"

# scx_central resolves CONFIG_* externs from the kernel config that
# ktstr-vm packs as /boot/config-<release>.
expect_status 0 'scx_central loads' ktstr-verifier --scheduler-bin "$SCX/scx_central" --kernel "$KERNEL" --json
cp "$out" "$T/central.json"
is "$(jq -r '.profiles[0].outcome' "$T/central.json")" loaded 'scx_central outcome is loaded'
check 'scx_central counts are plausible' all_plausible "$T/central.json"

# The fixture's flag profiles: the code each flag switches on changes the counts.
expect_status 0 'fixture profiles load' ktstr-verifier --scheduler-bin "$FIXTURE" --kernel "$KERNEL" \
	--profiles default,llc,llc+steal,borrow
cp "$out" "$T/profiles.txt"
like "$(cat "$err")" '\[4/4\] profile: borrow' 'progress names each profile on stderr'
check 'summary table printed' grep -q '^--- profile summary ---$' "$T/profiles.txt"
row() {
	sed -n '/^--- profile summary ---$/,$p' "$T/profiles.txt" | awk -v name="$1" '$1 == name { $1 = ""; print substr($0, 2) }'
}
is "$(row program)" 'default llc llc+steal borrow' 'summary has one column per profile'
set -- $(row fixture_dispatch)
check 'llc changes fixture_dispatch' test "$1" != "$2"
check 'steal changes fixture_dispatch' test "$2" != "$3"
check 'borrow leaves fixture_dispatch' test "$1" = "$4"
set -- $(row fixture_select_cpu)
check 'borrow changes fixture_select_cpu' test "$1" != "$4"
check 'llc leaves fixture_select_cpu' test "$1" = "$2"
set -- $(row fixture_tick)
check 'no flag changes fixture_tick' test "$1" = "$2" -a "$2" = "$3" -a "$3" = "$4"
set -- $(row total)
check 'totals grow with llc and steal' test "$1" -lt "$2" -a "$2" -lt "$3"

# The four runs left sidecars that ktstr-stats reads.
is "$(ls "$KTSTR_SIDECAR_DIR"/verifier-*-ll*.ktstr.json | wc -l | tr -d ' ')" 2 'llc profiles left sidecars'
check 'sidecar records the profile flags' \
	jq_true "$(ls "$KTSTR_SIDECAR_DIR"/verifier-1n1l1c1t-llc+steal-*.ktstr.json)" \
	'.profile == "llc+steal" and .active_flags == ["llc","steal"] and (.verifier_stats | length) > 0'
expect_status 0 'ktstr-stats reads the verifier sidecars' ktstr-stats --dir "$KTSTR_SIDECAR_DIR" --json
check 'ktstr-stats lists the fixture programs' \
	jq_true "$out" '[.verifier.programs[] | select(.name == "fixture_dispatch" and .verified_insns > 0)] | length == 1'

# --fail-verify: the verifier's rejection, its statistics and the log.
expect_status 1 'rejected program exits 1' ktstr-verifier --scheduler-bin "$FIXTURE" --kernel "$KERNEL" \
	--sched-args --fail-verify
cp "$out" "$T/fail.txt"
check 'rejection names the program' grep -q "^default: the verifier rejected program 'fixture_enqueue' (-EACCES)\$" "$T/fail.txt"
check 'verifier statistics shown' grep -q '^  fixture_enqueue  error=-EACCES  processed=13  states=1/1$' "$T/fail.txt"
check 'verifier error in the log' grep -q 'invalid access to map value, value_size=8 off=40 size=8' "$T/fail.txt"
check 'log has no repetition to fold' sh -c "! grep -q '^--- .*x of the following' '$T/fail.txt'"

# --verify-loop: the log is folded; the sidecar keeps it whole for --raw.
expect_status 1 'verifier loop exits 1' ktstr-verifier --scheduler-bin "$FIXTURE" --kernel "$KERNEL" \
	--sched-args --verify-loop --profiles llc
cp "$out" "$T/loop.txt"
check 'loop folded in the report' grep -q '^--- 64x of the following 11 lines ---$' "$T/loop.txt"
is "$(grep -c 'goto pc-9' "$T/loop.txt")" 2 'folded log keeps the first and last round'
check 'loop statistics shown' grep -q '^  fixture_init  error=-EINVAL  processed=[0-9]*  states=' "$T/loop.txt"
sidecar=$(ls "$KTSTR_SIDECAR_DIR"/verifier-1n1l1c1t-llc-*.ktstr.json | tail -n1)
expect_status 1 'show --raw of the sidecar' ktstr-verifier show --raw "$sidecar"
is "$(grep -c 'goto pc-9' "$out")" 64 'raw log has every round'
check 'raw log is not folded' sh -c "! grep -q 'identical iterations omitted' '$out'"
expect_status 1 'show of the sidecar' ktstr-verifier show "$sidecar"
check 'show folds like the live report' cmp -s "$out" "$T/loop.txt"

# A VM that times out says nothing about the scheduler: exit 2.
expect_status 2 'timed-out run exits 2' ktstr-verifier --scheduler-bin "$FIXTURE" --kernel "$KERNEL" --timeout 2 --json
is "$(jq -r '.profiles[0].outcome' "$out")" error 'timed-out run outcome is error'
like "$(jq -r '.profiles[0].message' "$out")" "outcome 'timeout'" 'timed-out run message says timeout'
like "$(cat "$err")" 'timed out after 2 s' "ktstr-vm's messages shown for a failed run"

# A scheduler that crashes before loading anything.
printf '#include <signal.h>\nint main(void)\n{\n\traise(SIGSEGV);\n\treturn 0;\n}\n' >"$T/crash.c"
cc -o "$T/crash-sched" "$T/crash.c"
expect_status 1 'crashing scheduler exits 1' ktstr-verifier --scheduler-bin "$T/crash-sched" --kernel "$KERNEL" --json
is "$(jq -r '.profiles[0].outcome' "$out")" scheduler-failed 'crash outcome is scheduler-failed'
like "$(jq -r '.profiles[0].message' "$out")" 'stopped before its programs loaded: .*killed by signal 11' \
	'crash message names the signal'
is "$(jq -r '.profiles[0].programs | length' "$out")" 0 'crash loaded no programs'
done_testing
