#!/bin/sh
# KVM statistics through QMP, on the machine's real KVM.  Under TCG there
# are none and kvm_stats is null (t/4100 and t/8100 check that).  Where
# /dev/kvm is PVM, which cannot boot a stock kernel, the kernel stops at its
# first instructions with a KVM internal error: the run must end at once
# with status 125 and QMP's run state, and the sidecar must still carry
# the vCPUs' KVM counters.  On PVM the runs go through a wrapper that starts
# the real QEMU with -cpu qemu64, because PVM rejects the host model's MSRs.
. "${0%/*}/lib/test-lib.sh"
require_assets

if ! (: <>/dev/kvm) 2>/dev/null; then
	skip_all '/dev/kvm cannot be opened'
fi

pvm=false
if [ -e /sys/module/kvm_pvm ]; then
	pvm=true
	cat >"$T/qemu-pvm" <<'EOF'
#!/bin/sh
# The real QEMU, with the CPU model host replaced by qemu64.
for arg do
	shift
	[ "$arg" = host ] && arg=qemu64
	set -- "$@" "$arg"
done
exec qemu-system-x86_64 "$@"
EOF
	chmod +x "$T/qemu-pvm"
	export KTSTR_QEMU="$T/qemu-pvm"
fi

kvm_run() {
	run ktstr-vm --kernel "$KTSTR_ASSET_KERNEL" --allow-image --accel kvm --topology 1,1,2,1 \
		--timeout 60 "$@"
}

# A scenario run: a sidecar with a counter object per vCPU.
kvm_run --scenario steady --duration 1 --sidecar-dir "$T/sidecars"
sidecar=$(head -1 "$out")
check 'the sidecar exists' test -f "$sidecar"
is "$(jq -r .accel "$sidecar")" kvm 'the sidecar says kvm'
is "$(jq -r '.kvm_stats.per_vcpu | length' "$sidecar")" 2 'one statistics object per vCPU'
is "$(jq -r '.kvm_stats.per_vcpu[0].exits > 0' "$sidecar")" true 'vCPU 0 left the guest at least once'
is "$(jq -r '[.kvm_stats.per_vcpu[][] | type] | unique | join(" ")' "$sidecar")" number \
	'every statistic is a number'
is "$(jq -r '.kvm_stats.per_vcpu[0] | has("halt_wait_ns") and (has("halt_wait_hist") | not)' "$sidecar")" \
	true 'totals are kept, histograms left out'
if $pvm; then
	is "$status" 125 'pvm: the run fails with status 125, not a timeout'
	like "$(cat "$err")" 'warning: --accel kvm: /dev/kvm is PVM, which cannot run a stock kernel; only a kernel built as a PVM guest boots' \
		'pvm: --accel kvm warns and goes on'
	like "$(cat "$err")" 'QEMU stopped the guest \(run state internal-error\); its output and the last console lines:' \
		'pvm: the message names the run state'
	like "$(cat "$err")" '\| KVM internal error' "pvm: QEMU's own report is quoted"
	is "$(jq -r '[.outcome, .error] | join(": ")' "$sidecar")" \
		'error: QEMU stopped the guest (run state internal-error)' 'pvm: the sidecar says why'
else
	is "$status" 0 'kvm: the scenario passes'
	is "$(jq -r .outcome "$sidecar")" pass 'kvm: the sidecar says pass'
fi

# ktstr-stats averages the counters across VMs whose guest reported; the
# stopped PVM guest never did, so its counters stay out of the averages.
run ktstr-stats --dir "$T/sidecars" --json
if $pvm; then
	is "$(jq -r '[(.kvm.vms // 0), .gauntlet.unmeasured] | map(tostring) | join(" ")' "$out")" '0 1' \
		'pvm: ktstr-stats leaves the unmeasured run out of the KVM averages'
else
	is "$(jq -r '.kvm | [.vms, .tcg_runs, (.exits_per_vcpu > 0)] | map(tostring) | join(" ")' "$out")" '1 0 true' \
		'kvm: ktstr-stats counts the KVM run and its exits'
	run ktstr-stats --dir "$T/sidecars"
	like "$(cat "$out")" '=== KVM STATS \(avg across 1 VM\) ===' 'kvm: ktstr-stats prints the KVM section'
fi

# --exec --json carries the same object.
kvm_run --json --exec true
is "$(jq -r '.kvm_stats.per_vcpu | length' "$out")" 2 'exec --json: kvm_stats per vCPU'
if $pvm; then
	is "$(jq -r '[.outcome, .status] | map(tostring) | join(" ")' "$out")" 'qemu_failed 125' \
		'exec --json: pvm outcome and status'
fi

done_testing
