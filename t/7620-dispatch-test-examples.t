#!/bin/sh
# cargo ktstr test in examples/, the workspace of the example crate
# scheduler-tests: its tests boot the Debian sched_ext kernel under ktstr-vm
# (5 boots in all), through the real cargo test fallback, and the run fails
# when a scenario fails.
#
# test-lib.sh points HOME at the scratch directory; rustup's proxies need
# the real toolchain directory, so keep it.
: "${RUSTUP_HOME:=${HOME:-/root}/.rustup}"
export RUSTUP_HOME
. "${0%/*}/lib/test-lib.sh"
require_assets

export CARGO_TARGET_DIR=$T/target
export KTSTR_SCHEDULER_DIR=$KTSTR_ASSET_SCX_BIN
export KTSTR_ASSET_FIXTURE
cp -r "$KTSTR_SRC/examples" "$T/examples"
cd "$T/examples" || exit 1
unset CARGO

image=$(readlink -f "$KTSTR_ASSET_KERNEL")

# sidecar_of SCENARIO: the sidecar files of a scenario in KTSTR_SIDECAR_DIR.
sidecar_of() {
	ls "$KTSTR_SIDECAR_DIR"/"$1"-*.ktstr.json 2>/dev/null
}

expect_status 0 'example tests pass on the asset kernel' \
	cargo-ktstr ktstr test --kernel "$KTSTR_ASSET_KERNEL"
like "$(cat "$err")" 'cargo ktstr: running tests' 'example run prints the status line'
like "$(cat "$out")" 'test kernel_scheduler_baseline \.\.\. ok' 'baseline scenario passed'
like "$(cat "$out")" 'test scx_simple_runs_steady_workload \.\.\. ok' 'scx_simple scenario passed'
like "$(cat "$out")" 'test stalling_scheduler_fails \.\.\. ignored' 'failing example is ignored by default'
like "$(cat "$out")" 'test json::tests::parses_a_sidecar_shape \.\.\. ok' 'sidecar reader unit tests ran'

is "$(jq -r '.scheduler + " " + (.passed | tostring)' $(sidecar_of steady) 2>&1 | sort | tr '\n' ' ')" \
	'eevdf true simple true ' 'sidecars record both passes'
is "$(jq -r .kernel_image $(sidecar_of steady) 2>&1 | sort -u)" "$image" 'tests booted the --kernel image'

like "$(cat "$out")" 'test baseline_on_each_kernel \.\.\. ok' 'one kernel: the per-kernel test passes'

# The failing example, on the same kernel from the cache.
run ktstr-cache store --image "$KTSTR_ASSET_KERNEL" --config "$KTSTR_ASSET_KCONFIG" --field key
key=$(cat "$out")

# Two kernels: the image file and its cache entry; the per-kernel test
# boots each one.
rm -rf "$KTSTR_SIDECAR_DIR"
expect_status 0 'two kernels: the per-kernel test passes' \
	cargo-ktstr ktstr test --kernel "$KTSTR_ASSET_KERNEL" --kernel "$key" -- --test scenarios each_kernel
like "$(cat "$out")" 'test baseline_on_each_kernel \.\.\. ok' 'two kernels: the test ran'
is "$(jq -r .kernel_image $(sidecar_of steady) 2>&1 | sort | tr '\n' ' ')" "$image $KTSTR_CACHE_DIR/$key/bzImage " \
	'two kernels: each one was booted'
rm -rf "$KTSTR_SIDECAR_DIR"
expect_status 101 'failing scenario makes cargo ktstr test exit non-zero' \
	cargo-ktstr ktstr test --kernel "$key" -- --features expect-fail --test scenarios stalling
like "$(cat "$out")" 'test stalling_scheduler_fails \.\.\. FAILED' 'failing example is reported'
like "$(cat "$out" "$err")" 'outcome scheduler-failed' 'failure names the outcome'
like "$(cat "$out" "$err")" 'failed check: .*runnable task stall' 'failure quotes the stall'
stall=$(sidecar_of custom)
is "$(jq -r .outcome "$stall" 2>&1)" scheduler-failed 'stall sidecar records the failure'
is "$(jq -r .kernel_image "$stall" 2>&1)" "$KTSTR_CACHE_DIR/$key/bzImage" 'tests booted the cached kernel'
done_testing
