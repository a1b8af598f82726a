#include "cli_table.h"
#include "commands.h"

#include "diag.h"

#include <stddef.h>
#include <string.h>

#define HELP_FLAG { "help", 'h', CLI_NONE, NULL, "print the help and exit" }
#define END_FLAGS { NULL, 0, CLI_NONE, NULL, NULL }

const char *const cli_shells[] = { "bash", "zsh", "fish", "elvish", "powershell", NULL };

static const char *const accel_modes[] = { "auto", "kvm", "tcg", NULL };

/* test and coverage: the options come before the runner's own arguments. */
static const struct cli_flag test_flags[] = {
	{ "kernel", 0, CLI_FILE, NULL, "kernel source directory, version, cache key or image" },
	HELP_FLAG,
	END_FLAGS,
};

static const struct cli_flag kernel_flags[] = {
	HELP_FLAG,
	END_FLAGS,
};

static const struct cli_flag kernel_list_flags[] = {
	{ "json", 0, CLI_NONE, NULL, "print one JSON object with every metadata field" },
	HELP_FLAG,
	END_FLAGS,
};

static const struct cli_flag kernel_build_flags[] = {
	{ "source", 0, CLI_DIR, NULL, "build the kernel source tree at this path" },
	{ "git", 0, CLI_WORD, NULL, "clone this git repository (needs --ref)" },
	{ "ref", 0, CLI_WORD, NULL, "branch, tag or commit to clone with --git" },
	{ "force", 0, CLI_NONE, NULL, "rebuild even when the kernel is cached" },
	{ "clean", 0, CLI_NONE, NULL, "run make mrproper first (with --source)" },
	{ "jobs", 'j', CLI_WORD, NULL, "run this many make jobs" },
	HELP_FLAG,
	END_FLAGS,
};

static const struct cli_flag kernel_clean_flags[] = {
	{ "keep", 0, CLI_WORD, NULL, "keep the N newest valid entries" },
	{ "corrupt-only", 0, CLI_NONE, NULL, "remove only corrupt entries" },
	{ "force", 0, CLI_NONE, NULL, "do not ask for confirmation" },
	HELP_FLAG,
	END_FLAGS,
};

static const struct cli_node kernel_commands[] = {
	{ "list", "list cached kernel images, newest first", kernel_list_flags, NULL, CLI_NONE, NULL },
	{ "build", "download or take a source tree, configure, build and cache a kernel",
	  kernel_build_flags, NULL, CLI_WORD, NULL },
	{ "clean", "remove cached kernel images", kernel_clean_flags, NULL, CLI_NONE, NULL },
	{ NULL, NULL, NULL, NULL, CLI_NONE, NULL },
};

static const struct cli_flag verifier_flags[] = {
	{ "scheduler", 0, CLI_WORD, NULL, "scheduler package to build with cargo" },
	{ "scheduler-bin", 0, CLI_FILE, NULL, "prebuilt scheduler binary" },
	{ "compare-bin", 0, CLI_FILE, NULL, "second scheduler binary to compare with" },
	{ "sched-args", 0, CLI_WORD, NULL, "more scheduler arguments, before the profile's" },
	{ "kernel", 0, CLI_FILE, NULL, "kernel source directory, version, cache key or image" },
	{ "all-profiles", 0, CLI_NONE, NULL, "run every flag profile of the scheduler" },
	{ "profiles", 0, CLI_WORD, NULL, "comma-separated flag profiles to run" },
	{ "list-profiles", 0, CLI_NONE, NULL, "print the profiles that would run and exit" },
	{ "topology", 0, CLI_WORD, NULL, "NUMA nodes, LLCs, cores per LLC, threads per core" },
	{ "timeout", 0, CLI_WORD, NULL, "stop each VM after this many seconds" },
	{ "raw", 0, CLI_NONE, NULL, "print scheduler logs without cycle collapse" },
	{ "json", 0, CLI_NONE, NULL, "print the results as one JSON document" },
	{ "verbose", 'v', CLI_NONE, NULL, "show the VM runs' own output" },
	HELP_FLAG,
	{ "version", 'V', CLI_NONE, NULL, "print the version and exit" },
	END_FLAGS,
};

static const struct cli_flag verifier_show_flags[] = {
	{ "raw", 0, CLI_NONE, NULL, "print scheduler logs without cycle collapse" },
	{ "json", 0, CLI_NONE, NULL, "print the results as one JSON document" },
	HELP_FLAG,
	END_FLAGS,
};

static const struct cli_flag verifier_diff_flags[] = {
	{ "json", 0, CLI_NONE, NULL, "print the comparison as one JSON document" },
	HELP_FLAG,
	END_FLAGS,
};

static const struct cli_flag verifier_collapse_flags[] = {
	HELP_FLAG,
	END_FLAGS,
};

/* ktstr-verifier runs "run" when no subcommand is given, so the verifier
 * node itself carries the flags of run. */
static const struct cli_node verifier_commands[] = {
	{ "run", "load the scheduler once per flag profile and report", verifier_flags, NULL,
	  CLI_NONE, NULL },
	{ "show", "print the report of saved results", verifier_show_flags, NULL, CLI_FILE, NULL },
	{ "diff", "compare two saved results program by program", verifier_diff_flags, NULL,
	  CLI_FILE, NULL },
	{ "collapse", "fold the loop iterations of a verifier log", verifier_collapse_flags, NULL,
	  CLI_FILE, NULL },
	{ NULL, NULL, NULL, NULL, CLI_NONE, NULL },
};

/* shell passes everything to ktstr-vm, so these are ktstr-vm's flags. */
static const struct cli_flag shell_flags[] = {
	{ "kernel", 0, CLI_FILE, NULL, "kernel source tree, version, cache key or boot image" },
	{ "allow-image", 0, CLI_NONE, NULL, "accept a boot image file as --kernel" },
	{ "topology", 0, CLI_WORD, NULL, "NUMA nodes, LLCs, cores per LLC, threads per core" },
	{ "memory-mb", 0, CLI_WORD, NULL, "guest memory in MiB" },
	{ "include-files", 'i', CLI_FILE, NULL, "copy a file or directory into the guest" },
	{ "exec", 0, CLI_WORD, NULL, "run this command in the guest" },
	{ "dmesg", 0, CLI_NONE, NULL, "copy the kernel console to stderr" },
	{ "timeout", 0, CLI_WORD, NULL, "stop the VM after this many seconds" },
	{ "accel", 0, CLI_CHOICE, accel_modes, "auto, kvm or tcg" },
	{ "append", 0, CLI_WORD, NULL, "add to the kernel command line" },
	{ "console-log", 0, CLI_FILE, NULL, "write the kernel console to this file" },
	{ "json", 0, CLI_NONE, NULL, "print a JSON report of the run" },
	{ "verbose", 'v', CLI_NONE, NULL, "show QEMU's command line and output" },
	HELP_FLAG,
	{ "version", 'V', CLI_NONE, NULL, "print the version and exit" },
	{ "scheduler", 0, CLI_FILE, NULL, "load this sched_ext scheduler binary in the guest" },
	{ "no-scheduler", 0, CLI_NONE, NULL, "run the kernel's own scheduler" },
	{ "sched-args", 0, CLI_WORD, NULL, "arguments for the scheduler" },
	{ "sched-enable-timeout", 0, CLI_WORD, NULL, "seconds to wait for the scheduler" },
	{ "profile", 0, CLI_WORD, NULL, "flag profile of the scheduler, such as llc+steal" },
	{ "flags", 0, CLI_WORD, NULL, "scheduler flags separated by commas" },
	{ "scenario", 0, CLI_FILE, NULL, "built-in scenario name or scenario file" },
	{ "list-scenarios", 0, CLI_NONE, NULL, "print the built-in scenarios and exit" },
	{ "list-work-types", 0, CLI_NONE, NULL, "print the work types and exit" },
	{ "work-type", 0, CLI_WORD, NULL, "work type of every cgroup" },
	{ "workers", 0, CLI_WORD, NULL, "workers in every cgroup" },
	{ "cgroups", 0, CLI_WORD, NULL, "number of cgroups" },
	{ "cpuset", 0, CLI_WORD, NULL, "CPU list of the cgroups, or split" },
	{ "duration", 0, CLI_WORD, NULL, "seconds the workers run" },
	{ "max-gap-ms", 0, CLI_WORD, NULL, "starvation limit in ms" },
	{ "max-spread-pct", 0, CLI_WORD, NULL, "fairness limit in percent" },
	{ "sidecar-dir", 0, CLI_DIR, NULL, "write the sidecar JSON into this directory" },
	END_FLAGS,
};

static const struct cli_flag completions_flags[] = {
	{ "binary", 0, CLI_WORD, NULL, "command name to complete (default cargo or ktstr)" },
	{ "table", 0, CLI_NONE, NULL, "print the command and flag table instead" },
	HELP_FLAG,
	END_FLAGS,
};

static const struct cli_flag test_stats_flags[] = {
	{ "dir", 'd', CLI_DIR, NULL, "read the sidecars in this directory" },
	{ "json", 0, CLI_NONE, NULL, "print the analysis as one JSON object" },
	HELP_FLAG,
	{ "version", 'V', CLI_NONE, NULL, "print the version and exit" },
	END_FLAGS,
};

static const struct cli_node root_commands[] = {
	{ "test", "build or find a kernel, then run the tests with cargo nextest",
	  test_flags, NULL, CLI_NONE, NULL },
	{ "coverage", "like test, under cargo llvm-cov nextest", test_flags, NULL, CLI_NONE, NULL },
	{ "kernel", "manage cached kernel images: list, build, clean",
	  kernel_flags, kernel_commands, CLI_NONE, NULL },
	{ "verifier", "BPF verifier statistics of a scheduler, per flag profile",
	  verifier_flags, verifier_commands, CLI_NONE, NULL },
	{ "shell", "boot a kernel in a VM and open a shell or run a command",
	  shell_flags, NULL, CLI_NONE, NULL },
	{ "completions", "print a shell completion script", completions_flags, NULL,
	  CLI_CHOICE, cli_shells },
	{ "test-stats", "analyse the sidecar files of test runs", test_stats_flags, NULL,
	  CLI_NONE, NULL },
	{ NULL, NULL, NULL, NULL, CLI_NONE, NULL },
};

static const struct cli_flag root_flags[] = {
	HELP_FLAG,
	{ "version", 'V', CLI_NONE, NULL, "print the version and exit" },
	END_FLAGS,
};

const struct cli_node cli_root = {
	"ktstr", "test Linux schedulers in VMs", root_flags, root_commands, CLI_NONE, NULL,
};

static const struct cli_node *find_node(const struct cli_node *nodes, const char *name)
{
	for (; nodes && nodes->name; nodes++) {
		if (!strcmp(nodes->name, name))
			return nodes;
	}
	return NULL;
}

int cli_table_check(void)
{
	int ret = 0;

	for (const struct command *cmd = commands; cmd->name; cmd++) {
		if (!cmd->hidden && !find_node(root_commands, cmd->name))
			ret = err_msg("command '%s' has no entry in the flag table", cmd->name);
	}
	for (const struct cli_node *node = root_commands; node->name; node++) {
		bool found = false;

		for (const struct command *cmd = commands; cmd->name; cmd++)
			found |= !cmd->hidden && !strcmp(cmd->name, node->name);
		if (!found)
			ret = err_msg("the flag table names '%s', which is not a command", node->name);
	}
	return ret;
}
