/* ktstr-vm: boot a kernel in a QEMU VM with a chosen CPU topology and run a
 * command, an interactive shell or a scheduler scenario in it.
 *
 * main() reads the options, resolves the kernel, picks the accelerator,
 * builds the initramfs, runs the VM (run.c) and turns the way it ended into
 * the exit status (result.c).
 */
#include "scenario.h"
#include "vmrun.h"

#include "diag.h"
#include "exec_search.h"
#include "fsutil.h"
#include "kernel_id.h"
#include "numarg.h"
#include "paths.h"
#include "xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdnoreturn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIN_MEMORY_MB 128
#define BASE_MEMORY_MB 256
#define TIMEOUT_TCG_SEC 120
#define TIMEOUT_KVM_SEC 30
#define BUSYBOX_PATH "/bin/busybox"

enum {
	OPT_ALLOW_IMAGE = 0x100,
	OPT_TOPOLOGY,
	OPT_MEMORY,
	OPT_EXEC,
	OPT_DMESG,
	OPT_TIMEOUT,
	OPT_ACCEL,
	OPT_APPEND,
	OPT_CONSOLE_LOG,
	OPT_JSON,
	OPT_KERNEL,
};

static const struct option own_options[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "allow-image", no_argument, NULL, OPT_ALLOW_IMAGE },
	{ "topology", required_argument, NULL, OPT_TOPOLOGY },
	{ "memory-mb", required_argument, NULL, OPT_MEMORY },
	{ "include-files", required_argument, NULL, 'i' },
	{ "exec", required_argument, NULL, OPT_EXEC },
	{ "dmesg", no_argument, NULL, OPT_DMESG },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "accel", required_argument, NULL, OPT_ACCEL },
	{ "append", required_argument, NULL, OPT_APPEND },
	{ "console-log", required_argument, NULL, OPT_CONSOLE_LOG },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
};

#define QEMU_MAX_CPUS 255u
/* Run directories are "ktstr-vm.<owner pid>.XXXXXX" in TMPDIR. */
#define RUN_DIR_PREFIX "ktstr-vm."

static const char usage_text[] =
	"Boot a kernel in a QEMU VM with a chosen CPU topology and run a command in\n"
	"it, or an interactive shell when there is no --exec.\n"
	"\n"
	"Options:\n"
	"      --kernel ID         kernel to boot: a source tree, a version (6.14.2, 6.12),\n"
	"                          a cache key, or a boot image with --allow-image\n"
	"      --allow-image       accept a boot image file (bzImage) as --kernel\n"
	"      --topology N,L,C,T  NUMA nodes, LLCs, cores per LLC, threads per core\n"
	"                          (default 1,1,1,1)\n"
	"      --memory-mb MB      guest memory in MiB, at least 128 (default: estimated\n"
	"                          from the initramfs)\n"
	"  -i, --include-files PATH  copy a file or directory to /include-files in the\n"
	"                          guest, with the shared libraries it needs; repeatable\n"
	"      --exec CMD          run CMD with /bin/sh -c in the guest and exit with its\n"
	"                          status\n"
	"      --dmesg             copy the kernel console to stderr live (loglevel=7)\n"
	"      --timeout SEC       stop the VM after SEC seconds (default 120 under TCG,\n"
	"                          30 under KVM)\n"
	"      --accel MODE        auto, kvm or tcg (default auto, or $KTSTR_ACCEL)\n"
	"      --append ARGS       add ARGS to the kernel command line\n"
	"      --console-log FILE  write the whole kernel console to FILE\n"
	"      --json              print a JSON report of the run on stdout; the guest's\n"
	"                          stdout goes into it\n"
	"  -v, --verbose           show QEMU's output and the initramfs build time\n"
	"  -h, --help              print this help and exit\n"
	"  -V, --version           print the version and exit\n";

static const char exit_text[] =
	"\n"
	"Exit status: the guest command's status (128+N when a signal N ended it);\n"
	"122 the guest stopped without a status (init failed), 123 the guest kernel\n"
	"panicked, 124 the run timed out, 125 ktstr-vm or QEMU failed, 130/143/129\n"
	"ktstr-vm was interrupted by SIGINT/SIGTERM/SIGHUP.  The interactive shell\n"
	"quits with Ctrl-A x.\n";

struct vm_options {
	const char *kernel;
	bool allow_image;
	struct topology topology;
	unsigned memory_mb;
	unsigned timeout_sec;
	const char *exec;
	bool dmesg;
	const char *accel;
	const char *append;
	const char *console_log;
	bool json;
	struct strvec includes;
	struct scenario_opts *scenario;
};

static char *sock_dir;

static void remove_sock_dir(void)
{
	if (sock_dir) {
		fs_rm_rf(sock_dir);
		free(sock_dir);
		sock_dir = NULL;
	}
}

static void print_usage(void)
{
	/* Under the dispatcher (ktstr shell, cargo ktstr shell) the usage line
	 * names the command that the user typed. */
	const char *label = getenv("KTSTR_LABEL");

	if (label && *label)
		printf("Usage: %s shell [OPTIONS] [--exec CMD]\n\n", label);
	else
		fputs("Usage: ktstr-vm [OPTIONS] [--exec CMD]\n\n", stdout);
	fputs(usage_text, stdout);
	if (*scenario_usage) {
		fputs("\nScheduler and scenario runs:\n", stdout);
		fputs(scenario_usage, stdout);
	}
	fputs(exit_text, stdout);
	exit(diag_close_stdout(KTSTR_EXIT_OK));
}

/* A usage error: the message, a pointer to --help, and status 125, so that
 * ktstr-vm's own failures stay apart from the statuses a guest command uses.
 * An invalid option value gets one line from die_status() instead. */
static noreturn void __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", diag_progname, text,
		diag_progname);
	exit(VM_EXIT_FAILED);
}

static unsigned parse_unsigned(const char *option, const char *arg, unsigned max)
{
	unsigned long long value;

	if (numarg_parse(arg, 0, max, &value) != 0)
		die_status(VM_EXIT_FAILED, "invalid %s '%s': expected a whole number up to %u", option, arg, max);
	return (unsigned)value;
}

/* Check an accelerator name from --accel or KTSTR_ACCEL (source). */
static void check_accel(const char *source, const char *value)
{
	if (strcmp(value, "auto") != 0 && strcmp(value, "kvm") != 0 && strcmp(value, "tcg") != 0)
		die_status(VM_EXIT_FAILED, "invalid %s '%s': expected auto, kvm or tcg", source, value);
}

/* Merge our options with the scenario code's into one getopt_long table. */
static struct option *merged_options(void)
{
	size_t own = sizeof(own_options) / sizeof(own_options[0]);
	size_t extra = 0;
	struct option *table;

	while (scenario_options[extra].name)
		extra++;
	table = xcalloc(own + extra + 1, sizeof(*table));
	memcpy(table, own_options, sizeof(own_options));
	memcpy(table + own, scenario_options, extra * sizeof(*table));
	return table;
}

static void parse_options(int argc, char **argv, struct vm_options *opts)
{
	struct option *table = merged_options();
	const char *why;
	int c;

	while ((c = getopt_long(argc, argv, "i:vhV", table, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL:
			opts->kernel = optarg;
			break;
		case OPT_ALLOW_IMAGE:
			opts->allow_image = true;
			break;
		case OPT_TOPOLOGY:
			if (topology_parse(optarg, &opts->topology, &why) != 0)
				die_status(VM_EXIT_FAILED, "invalid --topology '%s': %s", optarg, why);
			/* QEMU's default x86 machine (pc) takes at most 255 CPUs. */
			if (topology_cpus(&opts->topology) > QEMU_MAX_CPUS)
				die_status(VM_EXIT_FAILED, "invalid --topology '%s': %u CPUs, but QEMU's pc machine takes at most %u",
					   optarg, topology_cpus(&opts->topology), QEMU_MAX_CPUS);
			break;
		case OPT_MEMORY:
			opts->memory_mb = parse_unsigned("--memory-mb", optarg, 1u << 24);
			if (opts->memory_mb < MIN_MEMORY_MB)
				die_status(VM_EXIT_FAILED, "invalid --memory-mb '%s': the minimum is %u", optarg,
					    MIN_MEMORY_MB);
			break;
		case 'i':
			strvec_push(&opts->includes, optarg);
			break;
		case OPT_EXEC:
			opts->exec = optarg;
			break;
		case OPT_DMESG:
			opts->dmesg = true;
			break;
		case OPT_TIMEOUT:
			opts->timeout_sec = parse_unsigned("--timeout", optarg, 7 * 24 * 3600);
			if (!opts->timeout_sec)
				die_status(VM_EXIT_FAILED, "invalid --timeout '0': expected at least 1 second");
			break;
		case OPT_ACCEL:
			check_accel("--accel", optarg);
			opts->accel = optarg;
			break;
		case OPT_APPEND:
			opts->append = optarg;
			break;
		case OPT_CONSOLE_LOG:
			opts->console_log = optarg;
			break;
		case OPT_JSON:
			opts->json = true;
			break;
		case 'v':
			diag_verbose++;
			break;
		case 'h':
			print_usage();
			break;
		case 'V':
			printf("ktstr-vm %s\n", KTSTR_VERSION);
			exit(diag_close_stdout(KTSTR_EXIT_OK));
		default:
			if (c >= SCENARIO_OPTION_BASE) {
				if (scenario_parse_option(opts->scenario, c, optarg) != 0)
					exit(VM_EXIT_FAILED);
				break;
			}
			/* getopt_long already printed what was wrong. */
			fprintf(stderr, "Try '%s --help' for more information.\n", diag_progname);
			exit(VM_EXIT_FAILED);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s' (quote the command given to --exec)", argv[optind]);
	free(table);
}

/* Find the kernel to boot; exits after a message when there is none. */
static void resolve_kernel(const struct vm_options *opts, struct kernel_ref *ref)
{
	unsigned flags = 0;

	if (opts->allow_image)
		flags |= KERNEL_ID_ALLOW_IMAGE;
	if (scenario_requested(opts->scenario))
		flags |= KERNEL_ID_REQUIRE_SCHED_EXT;
	int ret = opts->kernel ? kernel_id_resolve(opts->kernel, flags, ref)
			       : kernel_id_discover(flags, ref);
	if (ret != 0)
		exit(VM_EXIT_FAILED);
	if (!opts->kernel)
		info_msg("booting %s from %s", ref->image_path, ref->origin);
}

static double monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void vm_config_put(FILE *out, const char *key, const char *value)
{
	fprintf(out, "%s=", key);
	for (const char *p = value; *p; p++) {
		if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\\')
			fputs("\\\\", out);
		else
			fputc(*p, out);
	}
	fputc('\n', out);
}

static char *config_text(const struct vm_options *opts, enum vm_mode mode,
			 const struct guest_inputs *inputs, const struct guest_image *image,
			 const struct kernel_ref *kernel, unsigned memory_mb, const char *end_marker)
{
	char *text = NULL, label[32];
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct strvec path = STRVEC_INIT;

	if (!out)
		die("out of memory");
	if (mode == VM_MODE_EXEC)
		vm_config_put(out, "mode", "exec");
	else if (mode == VM_MODE_SHELL)
		vm_config_put(out, "mode", "shell");
	else
		vm_config_put(out, "mode", "scenario");
	if (opts->exec)
		vm_config_put(out, "exec", opts->exec);
	snprintf(label, sizeof(label), "%u,%u,%u,%u", opts->topology.numa_nodes, opts->topology.llcs,
		 opts->topology.cores_per_llc, opts->topology.threads_per_core);
	vm_config_put(out, "topology", label);
	vm_config_put(out, "end_marker", end_marker);

	/* PATH: the included directories that hold programs, then busybox's. */
	char *joined = xstrdup("");
	for (size_t i = 0; i < inputs->exec_dirs.len; i++) {
		char *next = xasprintf("%s%s:", joined, inputs->exec_dirs.items[i]);
		free(joined);
		joined = next;
	}
	char *guest_path = xasprintf("%s/bin:/sbin:/usr/bin:/usr/sbin", joined);
	vm_config_put(out, "path", guest_path);
	free(guest_path);
	free(joined);
	strvec_release(&path);

	for (size_t i = 0; i < image->env.len; i++)
		vm_config_put(out, "env", image->env.items[i]);
	if (mode == VM_MODE_SHELL) {
		const char *term = getenv("TERM");
		unsigned rows, cols;

		term_size(STDIN_FILENO, &rows, &cols);
		if (term && *term)
			vm_config_put(out, "term", term);
		if (rows && cols)
			fprintf(out, "rows=%u\ncols=%u\n", rows, cols);
		char *banner = xasprintf("ktstr-vm: kernel %s, %u CPUs (%s), %u MiB%s; Ctrl-A x quits",
					 kernel->release ? kernel->release : "(unknown version)",
					 topology_cpus(&opts->topology),
					 topology_label(&opts->topology, label, sizeof(label)), memory_mb,
					 opts->includes.len ? ", files in /include-files" : "");
		vm_config_put(out, "banner", banner);
		free(banner);
	}
	if (mode == VM_MODE_SCENARIO)
		scenario_write_config(opts->scenario, out);
	if (fclose(out) != 0)
		die("out of memory");
	return text;
}

/* Check that busybox is a static x86-64 ELF executable: the guest has no
 * dynamic loader for it, and a wrong file would only fail inside the VM. */
static void check_busybox(const char *busybox)
{
	const char *set = getenv("KTSTR_BUSYBOX");
	const char *fix = set && *set ? "fix or unset KTSTR_BUSYBOX"
				     : "install Debian's busybox-static or set KTSTR_BUSYBOX";
	Elf64_Ehdr header;
	int fd;

	if (!fs_is_file(busybox))
		die_status(VM_EXIT_FAILED, "busybox '%s' is missing; %s", busybox, fix);
	if (access(busybox, X_OK) != 0)
		die_status(VM_EXIT_FAILED, "busybox '%s' is not executable; %s", busybox, fix);
	fd = open(busybox, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_status(VM_EXIT_FAILED, "cannot open busybox '%s': %s", busybox, strerror(errno));
	if (pread(fd, &header, sizeof(header), 0) != (ssize_t)sizeof(header) ||
	    memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64 ||
	    header.e_machine != EM_X86_64 || (header.e_type != ET_EXEC && header.e_type != ET_DYN) ||
	    header.e_phentsize != sizeof(Elf64_Phdr))
		die_status(VM_EXIT_FAILED, "busybox '%s' is not an x86-64 ELF executable; %s", busybox,
			   fix);
	for (unsigned i = 0; i < header.e_phnum; i++) {
		Elf64_Phdr phdr;
		off_t offset = (off_t)(header.e_phoff + (Elf64_Off)i * sizeof(phdr));

		if (pread(fd, &phdr, sizeof(phdr), offset) != (ssize_t)sizeof(phdr))
			die_status(VM_EXIT_FAILED, "busybox '%s' is not an x86-64 ELF executable; %s",
				   busybox, fix);
		if (phdr.p_type == PT_INTERP)
			die_status(VM_EXIT_FAILED,
				   "busybox '%s' is dynamically linked, but the guest needs a static one; %s",
				   busybox, fix);
	}
	close(fd);
}

static void collect_inputs(const struct vm_options *opts, struct guest_inputs *inputs)
{
	char *agent = paths_libexec_file("ktstr-guest");
	const char *busybox = getenv("KTSTR_BUSYBOX");

	if (!busybox || !*busybox)
		busybox = BUSYBOX_PATH;
	if (!fs_is_file(agent))
		die_status(VM_EXIT_FAILED, "the guest agent '%s' is missing; run 'make' first", agent);
	check_busybox(busybox);
	guest_inputs_add(inputs, agent, "/init");
	guest_inputs_add(inputs, busybox, "/bin/busybox");
	free(agent);

	for (size_t i = 0; i < opts->includes.len; i++) {
		if (guest_inputs_add_include(inputs, opts->includes.items[i]) != 0)
			exit(VM_EXIT_FAILED);
	}
	const char *const *files = scenario_guest_files(opts->scenario);
	for (size_t i = 0; files && files[i] && files[i + 1]; i += 2)
		guest_inputs_add(inputs, files[i], files[i + 1]);
}

/* The QEMU program: $KTSTR_QEMU or qemu-system-x86_64 on PATH.  Exits after
 * a message when it cannot be run, before any initramfs is built. */
static const char *find_qemu(void)
{
	const char *qemu = getenv("KTSTR_QEMU");
	struct stat st;

	if (!qemu || !*qemu)
		qemu = "qemu-system-x86_64";
	char *path = exec_search(qemu);
	if (path) {
		free(path);
		return qemu;
	}
	if (!strchr(qemu, '/'))
		die_status(VM_EXIT_FAILED,
			   "cannot run QEMU '%s': not found on PATH; install Debian's qemu-system-x86 or set KTSTR_QEMU",
			   qemu);
	if (stat(qemu, &st) != 0)
		die_status(VM_EXIT_FAILED, "cannot run QEMU '%s': %s", qemu, strerror(errno));
	if (!S_ISREG(st.st_mode))
		die_status(VM_EXIT_FAILED, "cannot run QEMU '%s': not a regular file", qemu);
	die_status(VM_EXIT_FAILED, "cannot run QEMU '%s': %s", qemu, strerror(EACCES));
}

/* The directory that contains the run directories.  Socket paths must fit in
 * sun_path (108 bytes), so a TMPDIR longer than 64 bytes is skipped. */
static const char *run_dir_parent(void)
{
	const char *tmp = getenv("TMPDIR");

	if (!tmp || !*tmp || strlen(tmp) > 64)
		tmp = "/tmp";
	return tmp;
}

/* Remove the run directories of ktstr-vm processes that have exited: one
 * killed by SIGKILL cannot remove its own.  Only this user's directories
 * named RUN_DIR_PREFIX "<pid>.XXXXXX" whose pid no longer exists go.
 * NOTE: a ktstr-vm in another PID namespace that shares this TMPDIR has a
 * pid that kill() cannot see, so its live directory would be removed. */
static void sweep_run_dirs(const char *parent)
{
	DIR *dir = opendir(parent);
	struct dirent *entry;

	if (!dir)
		return;
	while ((entry = readdir(dir))) {
		const char *digits = entry->d_name + strlen(RUN_DIR_PREFIX);
		struct stat st;
		char *end;

		if (strncmp(entry->d_name, RUN_DIR_PREFIX, strlen(RUN_DIR_PREFIX)) != 0 ||
		    !isdigit((unsigned char)*digits))
			continue;
		errno = 0;
		long pid = strtol(digits, &end, 10);
		if (errno || pid <= 0 || pid > INT_MAX || *end != '.' || strlen(end + 1) != 6)
			continue;
		char *path = fs_path_join(parent, entry->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid() &&
		    kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
			debug_msg("removing '%s': its ktstr-vm (pid %ld) has exited", path, pid);
			if (fs_rm_rf(path) != 0)
				warn_errno("cannot remove the stale run directory '%s'", path);
		}
		free(path);
	}
	closedir(dir);
}

static char *kernel_cmdline(const struct vm_options *opts)
{
	/* panic=-1 reboots at once on a panic, and -no-reboot turns that into
	 * QEMU exiting; mitigations=off shortens boot under TCG. */
	return xasprintf("console=ttyS0 rdinit=/init panic=-1 mitigations=off loglevel=%d%s%s",
			 opts->dmesg ? 7 : 4, opts->append ? " " : "", opts->append ? opts->append : "");
}

int main(int argc, char **argv)
{
	struct vm_options opts = { .topology = TOPOLOGY_DEFAULT };
	struct guest_inputs inputs = { STRVEC_INIT, STRVEC_INIT, STRVEC_INIT };
	struct guest_image image = { .env = STRVEC_INIT };
	struct vm_result result = { .guest_status = -1, .kvm_stats = jv_null() };
	struct vm_run_extra extra = { 0 };
	struct vm_launch launch = { 0 };
	enum vm_mode mode;
	const char *accel_why;
	int status;

	diag_init(argv[0]);
	opts.scenario = scenario_opts_new();
	parse_options(argc, argv, &opts);
	scenario_set_json(opts.scenario, opts.json);

	if (opts.exec && scenario_requested(opts.scenario))
		usage_error("--exec cannot be combined with a scheduler or scenario run");
	if (opts.exec)
		mode = VM_MODE_EXEC;
	else if (scenario_requested(opts.scenario))
		mode = VM_MODE_SCENARIO;
	else
		mode = VM_MODE_SHELL;
	if (mode == VM_MODE_SHELL && !isatty(STDIN_FILENO))
		die_status(VM_EXIT_FAILED,
			   "stdin must be a terminal for the interactive shell; use --exec CMD to run a command");
	if (mode == VM_MODE_SHELL && opts.json)
		usage_error("--json needs --exec or a scenario run, not the interactive shell");
	if (!opts.accel) {
		opts.accel = getenv("KTSTR_ACCEL");
		if (!opts.accel || !*opts.accel)
			opts.accel = "auto";
		else
			check_accel("KTSTR_ACCEL", opts.accel);
	}
	if (scenario_validate(opts.scenario, &opts.topology) != 0)
		exit(VM_EXIT_FAILED);
	const char *run_parent = run_dir_parent();
	sweep_run_dirs(run_parent);
	launch.qemu = find_qemu();

	/* Cheap checks first: a bad -i fails before a source tree is built. */
	collect_inputs(&opts, &inputs);
	struct kernel_ref kernel = KERNEL_REF_INIT;
	resolve_kernel(&opts, &kernel);
	launch.accel = vm_choose_accel(opts.accel, &accel_why);
	if (!launch.accel)
		exit(VM_EXIT_FAILED);
	if (accel_why)
		info_msg("using %s: %s", !strcmp(launch.accel, "kvm") ? "KVM" : "TCG", accel_why);

	/* SIGINT, SIGTERM and SIGHUP from here on only stop the run, so that
	 * main() returns and remove_sock_dir() runs. */
	vm_signals_install();
	sock_dir = xasprintf("%s/" RUN_DIR_PREFIX "%d.XXXXXX", run_parent, (int)getpid());
	if (!mkdtemp(sock_dir))
		die_status(VM_EXIT_FAILED, "cannot create the run directory in '%s'%s: %s", run_parent,
			   strcmp(run_parent, "/tmp") ? " (TMPDIR)" : "",
			   strerror(errno));
	atexit(remove_sock_dir);

	/* The config names the library directories that the base archive's
	 * libraries need, so the base comes first. */
	double prepare_start = monotonic_seconds();
	if (guest_image_prepare(&inputs, &image) != 0)
		exit(VM_EXIT_FAILED);
	debug_msg("initramfs: %s in %.3f s (%llu bytes of files)",
		  image.cache_hit ? "cached" : "built", monotonic_seconds() - prepare_start,
		  image.uncompressed_bytes);
	launch.memory_mb = opts.memory_mb;
	if (!launch.memory_mb) {
		/* Room for the unpacked initramfs (it lives in RAM, and the
		 * archive is there too while it unpacks) on top of a base. */
		unsigned long long initramfs_mb = (image.uncompressed_bytes + (1u << 20) - 1) >> 20;
		launch.memory_mb = BASE_MEMORY_MB + 2 * (unsigned)initramfs_mb;
	}
	char *kernel_config = kernel_ref_config(&kernel);
	image.kernel_config = kernel_config;
	image.kernel_release = kernel.release;
	char *end_marker = vm_end_marker_new();
	char *config = config_text(&opts, mode, &inputs, &image, &kernel, launch.memory_mb, end_marker);
	if (guest_image_write(&image, config, sock_dir) != 0)
		exit(VM_EXIT_FAILED);
	free(config);

	launch.kernel_image = kernel.image_path;
	launch.initrd = image.initrd;
	launch.sock_dir = sock_dir;
	launch.topology = opts.topology;
	launch.timeout_sec = opts.timeout_sec;
	if (!launch.timeout_sec) {
		launch.timeout_sec = !strcmp(launch.accel, "kvm") ? TIMEOUT_KVM_SEC : TIMEOUT_TCG_SEC;
		if (mode == VM_MODE_SCENARIO)
			launch.timeout_sec += scenario_run_seconds(opts.scenario);
	}
	char *cmdline = kernel_cmdline(&opts);
	launch.cmdline = cmdline;
	launch.mode = mode;
	launch.dmesg = opts.dmesg;
	launch.capture_stdout = opts.json;
	launch.console_log = opts.console_log;
	launch.end_marker = end_marker;

	result.accel = launch.accel;
	result.qemu = launch.qemu;
	result.kernel_image = kernel.image_path;
	result.kernel_version = kernel.release;
	result.kernel_append = opts.append;
	result.topology = opts.topology;
	result.memory_mb = launch.memory_mb;

	if (mode == VM_MODE_SHELL && term_raw(STDIN_FILENO) != 0)
		exit(VM_EXIT_FAILED);
	if (vm_run(&launch, &result, &extra) != 0) {
		term_restore();
		exit(VM_EXIT_FAILED);
	}
	term_restore();

	if (mode == VM_MODE_SHELL)
		fprintf(stderr, "\r\n");
	/* Why the run failed comes first; a scenario's sidecar line ends the
	 * messages. */
	if (!extra.stop_signal && !extra.escaped)
		vm_result_explain(&result, launch.timeout_sec, extra.panic_line);
	if (mode == VM_MODE_SCENARIO)
		status = scenario_report(opts.scenario, &result);
	else
		status = vm_result_status(&result);
	if (extra.stop_signal) {
		info_msg("stopped by %s; the VM was killed", strsignal(extra.stop_signal));
		status = 128 + extra.stop_signal;
	} else if (extra.escaped) {
		info_msg("connection to the VM closed (Ctrl-A x)");
		status = 0;
	}
	/* A scenario run's report is its sidecar, printed by scenario_report(). */
	if (opts.json && mode != VM_MODE_SCENARIO &&
	    vm_result_print_json(&result, status, extra.guest_stdout, extra.guest_stdout_len) != 0)
		status = VM_EXIT_FAILED;

	free(extra.guest_stdout);
	free(extra.panic_line);
	free(cmdline);
	free(end_marker);
	kernel_ref_release(&kernel);
	vm_result_release(&result);
	guest_image_release(&image);
	guest_inputs_release(&inputs);
	strvec_release(&opts.includes);
	scenario_opts_free(opts.scenario);
	return diag_close_stdout(status);
}
