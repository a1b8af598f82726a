//! Helpers for scheduler tests that boot a kernel in a VM with `ktstr-vm`.
//!
//! A test builds a [`Scenario`], runs it and asserts on the [`Run`]:
//!
//! ```no_run
//! use ktstr_scheduler_tests::Scenario;
//!
//! let run = Scenario::builtin("steady")
//!     .scheduler("/usr/local/bin/scx_simple")
//!     .topology("1,1,2,1")
//!     .duration_secs(2)
//!     .run();
//! run.assert_passed();
//! assert_eq!(run.sidecar_str("scheduler"), Some("simple"));
//! ```
//!
//! The kernel is not named here: `ktstr-vm` boots `KTSTR_TEST_KERNEL`,
//! which `cargo ktstr test --kernel ID` exports, and otherwise finds one
//! itself (`KTSTR_KERNEL`, then the newest cached kernel).

pub mod json;

pub use json::Json;

use std::env;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Returns the `ktstr-vm` program: `$KTSTR_VM` when set, else `ktstr-vm` on PATH.
pub fn ktstr_vm() -> OsString {
    env::var_os("KTSTR_VM").unwrap_or_else(|| OsString::from("ktstr-vm"))
}

/// Finds a scheduler binary by name: in `$KTSTR_SCHEDULER_DIR`, then in
/// `$KTSTR_ASSET_SCX_BIN` (the kernel's example schedulers that ktstr's own
/// test assets build), then on PATH.  `None` when it is in none of them.
pub fn find_scheduler(name: &str) -> Option<PathBuf> {
    let listed = ["KTSTR_SCHEDULER_DIR", "KTSTR_ASSET_SCX_BIN"]
        .iter()
        .filter_map(env::var_os);
    let path = env::var_os("PATH").unwrap_or_default();
    listed
        .map(PathBuf::from)
        .chain(env::split_paths(&path))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// One kernel that the tests run on, from `cargo ktstr test --kernel ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kernel {
    /// Its name in `KTSTR_KERNEL_LIST`, such as "6.14.2" or "path_linux_1a2b3c".
    pub label: String,
    /// The boot image.
    pub image: PathBuf,
}

/// Returns the kernels to run each test on when `cargo ktstr test` got more
/// than one `--kernel`: the entries of `KTSTR_TEST_KERNEL_LIST`
/// ("label=image;label=image").  Empty otherwise, and then `ktstr-vm`
/// boots `KTSTR_TEST_KERNEL` or finds a kernel itself.
pub fn kernels() -> Vec<Kernel> {
    let list = env::var("KTSTR_TEST_KERNEL_LIST").unwrap_or_default();
    parse_kernel_list(&list)
}

fn parse_kernel_list(list: &str) -> Vec<Kernel> {
    list.split(';')
        .filter_map(|entry| entry.split_once('='))
        .filter(|(label, image)| !label.is_empty() && !image.is_empty())
        .map(|(label, image)| Kernel {
            label: label.to_string(),
            image: PathBuf::from(image),
        })
        .collect()
}

/// One `ktstr-vm` scheduler or scenario run, configured with builder methods.
#[derive(Clone, Debug)]
pub struct Scenario {
    args: Vec<OsString>,
}

impl Scenario {
    /// Creates a run of a built-in scenario (`ktstr-vm --list-scenarios`
    /// prints them).
    pub fn builtin(name: &str) -> Scenario {
        Scenario {
            args: vec!["--scenario".into(), name.into()],
        }
    }

    /// Creates a run of one cgroup of CpuSpin workers, ktstr-vm's default
    /// scenario.
    pub fn default_workload() -> Scenario {
        Scenario { args: Vec::new() }
    }

    /// Loads the sched_ext scheduler at `path` in the guest.
    pub fn scheduler(self, path: impl AsRef<Path>) -> Scenario {
        self.arg("--scheduler").arg(path.as_ref())
    }

    /// Runs the kernel's own scheduler even where `KTSTR_SCHEDULER` names one.
    pub fn kernel_scheduler(self) -> Scenario {
        self.arg("--no-scheduler")
    }

    /// Passes arguments to the scheduler, split at blanks.
    pub fn sched_args(self, args: &str) -> Scenario {
        self.arg("--sched-args").arg(args)
    }

    /// Sets the guest topology as NUMA nodes, LLCs, cores per LLC and threads
    /// per core, such as "1,2,2,1".
    pub fn topology(self, topology: &str) -> Scenario {
        self.arg("--topology").arg(topology)
    }

    /// Sets how long the workers run.
    pub fn duration_secs(self, secs: u32) -> Scenario {
        self.arg("--duration").arg(secs.to_string())
    }

    /// Boots this kernel instead of the one `cargo ktstr test` exported.
    pub fn kernel(self, kernel: &Kernel) -> Scenario {
        self.arg("--kernel").arg(&kernel.image).arg("--allow-image")
    }

    /// Adds any other ktstr-vm option as it is.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Scenario {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Boots the VM, runs the scenario and reads the sidecar it wrote.
    ///
    /// Panics when `ktstr-vm` cannot be started, because then no test of
    /// this crate can run.
    pub fn run(&self) -> Run {
        let program = ktstr_vm();
        let output = Command::new(&program)
            .args(&self.args)
            .output()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot run {}: {err}; put ktstr's bin directory on PATH or set KTSTR_VM",
                    program.to_string_lossy()
                )
            });

        // A scenario run prints the sidecar's path on stdout.
        let stdout = String::from_utf8_lossy(&output.stdout);
        let sidecar_path = stdout
            .lines()
            .last()
            .filter(|line| !line.is_empty())
            .map(PathBuf::from);
        let sidecar = sidecar_path.as_deref().and_then(read_sidecar);
        Run {
            command: format!("{} {}", program.to_string_lossy(), quote_args(&self.args)),
            status: output.status.code(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            sidecar_path,
            sidecar,
        }
    }
}

fn read_sidecar(path: &Path) -> Option<Json> {
    let text = fs::read_to_string(path).ok()?;
    Json::parse(&text).ok()
}

fn quote_args(args: &[OsString]) -> String {
    let quoted: Vec<String> = args
        .iter()
        .map(|arg| {
            let arg = arg.to_string_lossy();
            if !arg.is_empty()
                && arg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./,=+:".contains(c))
            {
                arg.into_owned()
            } else {
                format!("'{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect();
    quoted.join(" ")
}

/// The result of one run: ktstr-vm's exit status, its messages, and the
/// sidecar JSON (ktstr-sidecar(5) lists the keys).
#[derive(Debug)]
pub struct Run {
    /// The ktstr-vm command line, for failure messages.
    pub command: String,
    /// ktstr-vm's exit code: 0 when every check passed, 1 when a check or
    /// the scheduler failed, 122 to 125 when the VM run itself failed.
    /// `None` when a signal ended ktstr-vm.
    pub status: Option<i32>,
    pub stderr: String,
    pub sidecar_path: Option<PathBuf>,
    pub sidecar: Option<Json>,
}

impl Run {
    /// True when ktstr-vm exited 0 and the sidecar records a pass.
    pub fn passed(&self) -> bool {
        self.status == Some(0) && self.sidecar_bool("passed") == Some(true)
    }

    /// Returns the sidecar's outcome: "pass", "fail", "scheduler-failed", "timeout",
    /// "panic" or "error".  `None` without a sidecar.
    pub fn outcome(&self) -> Option<&str> {
        self.sidecar_str("outcome")
    }

    /// Returns the messages of the failed checks, in the sidecar's order.
    pub fn failures(&self) -> Vec<&str> {
        let failures = self
            .sidecar
            .as_ref()
            .and_then(|s| s.get("failures"))
            .and_then(Json::as_array);
        failures
            .unwrap_or_default()
            .iter()
            .filter_map(|failure| failure.get("message").and_then(Json::as_str))
            .collect()
    }

    pub fn sidecar_str(&self, key: &str) -> Option<&str> {
        self.sidecar.as_ref()?.get(key)?.as_str()
    }

    pub fn sidecar_bool(&self, key: &str) -> Option<bool> {
        self.sidecar.as_ref()?.get(key)?.as_bool()
    }

    /// Panics unless the run passed, with the outcome, the failed checks and
    /// the end of ktstr-vm's messages.
    #[track_caller]
    pub fn assert_passed(&self) {
        if self.passed() {
            return;
        }
        let status = match self.status {
            Some(code) => format!("exit status {code}"),
            None => "killed by a signal".to_string(),
        };
        let outcome = self.outcome().unwrap_or("no sidecar");
        let mut report = format!(
            "scenario run failed ({status}, outcome {outcome}): {}\n",
            self.command
        );
        for failure in self.failures() {
            report.push_str(&format!("  failed check: {failure}\n"));
        }
        let lines: Vec<&str> = self.stderr.lines().collect();
        let tail = &lines[lines.len().saturating_sub(20)..];
        report.push_str("ktstr-vm's last messages:\n");
        for line in tail {
            report.push_str(&format!("  {line}\n"));
        }
        panic!("{report}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_list_parses() {
        let kernels = parse_kernel_list("6.14.2=/c/a/bzImage;path_linux_1a2b3c=/src/linux/bzImage");
        assert_eq!(kernels.len(), 2);
        assert_eq!(kernels[0].label, "6.14.2");
        assert_eq!(kernels[1].image, PathBuf::from("/src/linux/bzImage"));
    }

    #[test]
    fn kernel_list_skips_bad_entries() {
        assert!(parse_kernel_list("").is_empty());
        assert_eq!(parse_kernel_list("no-equals;=x;y=;a=b").len(), 1);
    }
}
