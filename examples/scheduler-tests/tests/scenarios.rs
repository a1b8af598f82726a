//! Scenario tests: each one boots the kernel that `cargo ktstr test
//! --kernel ID` exported, loads a scheduler and checks what happened.
//! Each boot takes a few seconds under KVM and 15 to 25 seconds under TCG.

use ktstr_scheduler_tests::{find_scheduler, kernels, Scenario};
use std::env;
use std::path::PathBuf;

/// The kernel's own scheduler keeps two CpuSpin workers per CPU running:
/// the baseline that a sched_ext scheduler is compared with.
#[test]
fn kernel_scheduler_baseline() {
    let run = Scenario::builtin("steady")
        .kernel_scheduler()
        .duration_secs(2)
        .run();

    run.assert_passed();
    assert_eq!(run.sidecar_str("scheduler"), Some("eevdf"));
}

/// With several `--kernel` options, the baseline runs on each kernel, and
/// each run's sidecar names the image it booted.
#[test]
fn baseline_on_each_kernel() {
    let kernels = kernels();
    if kernels.len() < 2 {
        eprintln!("skipped: cargo ktstr test got fewer than two --kernel options");
        return;
    }
    for kernel in &kernels {
        let run = Scenario::builtin("steady")
            .kernel(kernel)
            .kernel_scheduler()
            .topology("1,1,1,1")
            .duration_secs(1)
            .run();

        run.assert_passed();
        assert_eq!(
            run.sidecar_str("kernel_image").map(PathBuf::from),
            Some(kernel.image.clone()),
            "kernel {}",
            kernel.label
        );
    }
}

/// scx_simple, the kernel's example scheduler, keeps every worker running
/// with no starvation and a fair share of the CPU.  One vCPU, because under
/// TCG on a busy host the vCPU threads of a larger guest get unequal shares
/// of the host, and the workers' shares then differ for reasons outside the
/// guest.
#[test]
fn scx_simple_runs_steady_workload() {
    let Some(scx_simple) = find_scheduler("scx_simple") else {
        eprintln!(
            "skipped: scx_simple not found in KTSTR_SCHEDULER_DIR, KTSTR_ASSET_SCX_BIN or PATH"
        );
        return;
    };
    let run = Scenario::builtin("steady")
        .scheduler(&scx_simple)
        .topology("1,1,1,1")
        .duration_secs(2)
        .run();

    run.assert_passed();
    assert_eq!(run.sidecar_str("scheduler"), Some("simple"));
}

/// Fails on purpose: scx_fixture parks the scenario's workers on a queue it
/// never dispatches, so the sched_ext watchdog disables it.  It runs only
/// with the feature expect-fail, to show what a failing scheduler test
/// reports and that `cargo ktstr test` then exits non-zero.
#[test]
#[cfg_attr(
    not(feature = "expect-fail"),
    ignore = "fails on purpose; run it with --features expect-fail"
)]
fn stalling_scheduler_fails() {
    let fixture = env::var_os("KTSTR_ASSET_FIXTURE")
        .map(PathBuf::from)
        .or_else(|| find_scheduler("scx_fixture"))
        .expect("scx_fixture not found: set KTSTR_ASSET_FIXTURE or put it on PATH");
    let run = Scenario::default_workload()
        .scheduler(&fixture)
        .sched_args("--stall-comm ktstr-worker --timeout-ms 1000")
        .duration_secs(3)
        .run();

    run.assert_passed();
}
