/* ktstr-build: build a configured kernel tree.
 *
 *   ktstr-fetch 6.14.2 | ktstr-kconfig | ktstr-build | ktstr-cache store
 *
 * Runs `make -jN KCFLAGS=-Wno-error` (make itself skips the work when the
 * tree is already built), then `make compile_commands.json` for editors,
 * and prints the descriptor with the boot image, vmlinux and build time.
 */
#include "crc32.h"
#include "diag.h"
#include "fsutil.h"
#include "kbuild.h"
#include "kdesc.h"
#include "numarg.h"
#include "progress.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_NAME ".ktstr-build.log"

static const char usage[] =
	"Usage: ktstr-build [OPTIONS] [TREE]\n"
	"\n"
	"Build a configured kernel tree with 'make -jN KCFLAGS=-Wno-error', then\n"
	"'make compile_commands.json'.  Reads the kernel descriptor from\n"
	"ktstr-kconfig on stdin, or works on TREE, and prints the descriptor\n"
	"with image_path, vmlinux_path and built_at set.\n"
	"\n"
	"Options:\n"
	"  -j, --jobs N              run N make jobs (default: the CPUs available)\n"
	"  -O, --build-dir DIR       build output directory, as kbuild's O=\n"
	"                            (default: the descriptor's build_dir, else the tree)\n"
	"      --no-compile-commands skip 'make compile_commands.json'\n"
	"      --field NAME          print only this field of the descriptor\n"
	"  -v, --verbose             copy make's output to stderr\n"
	"  -h, --help                print this help\n";

enum {
	OPT_NO_COMPILE_COMMANDS = 256,
	OPT_FIELD,
};

static const struct option long_options[] = {
	{ "jobs", required_argument, NULL, 'j' },
	{ "build-dir", required_argument, NULL, 'O' },
	{ "no-compile-commands", no_argument, NULL, OPT_NO_COMPILE_COMMANDS },
	{ "field", required_argument, NULL, OPT_FIELD },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct build_opts {
	const char *tree;
	const char *build_dir;
	const char *field;
	unsigned jobs;
	bool compile_commands;
};

static unsigned parse_jobs(const char *text)
{
	unsigned long long value;

	if (numarg_parse(text, 1, 4096, &value) != 0)
		die_usage("invalid --jobs '%s': expected a whole number from 1 to 4096", text);
	return (unsigned)value;
}

static void parse_args(int argc, char **argv, struct build_opts *opts)
{
	int opt;

	while ((opt = getopt_long(argc, argv, "j:O:vh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			opts->jobs = parse_jobs(optarg);
			break;
		case 'O':
			opts->build_dir = optarg;
			break;
		case OPT_NO_COMPILE_COMMANDS:
			opts->compile_commands = false;
			break;
		case OPT_FIELD:
			opts->field = optarg;
			break;
		case 'v':
			diag_verbose++;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(diag_close_stdout(KTSTR_EXIT_OK));
		default:
			die_usage("invalid option");
		}
	}
	if (optind < argc)
		opts->tree = argv[optind++];
	if (optind < argc)
		die_usage("unexpected argument '%s': give at most one TREE", argv[optind]);
}

static int load_descriptor(const struct build_opts *opts, struct kdesc *desc)
{
	kdesc_init(desc);
	if (!opts->tree) {
		if (isatty(STDIN_FILENO))
			die_usage("no kernel descriptor: pipe in the output of ktstr-kconfig, or name a TREE");
		return kdesc_read(stdin, "stdin", desc);
	}
	char *real = fs_realpath(opts->tree);
	if (!real)
		return err_errno("kernel source tree '%s' not found", opts->tree);
	desc->source_type = KDESC_SOURCE_LOCAL;
	desc->source_tree_path = xstrdup(real);
	desc->source_dir = real;
	desc->arch = xstrdup("x86_64");
	return 0;
}

/* The descriptor's build_dir, a field that lib/kdesc keeps but does not model. */
static char *descriptor_build_dir(const struct kdesc *desc)
{
	char *dir = NULL;

	if (!jv_is_valid(desc->object))
		return NULL;
	jv value = jv_object_get(jv_copy(desc->object), jv_string("build_dir"));
	if (jv_get_kind(value) == JV_KIND_STRING)
		dir = xstrdup(jv_string_value(value));
	jv_free(value);
	return dir;
}

/* The path, relative to the output directory, of an architecture's boot image. */
static const char *image_relpath(const char *arch)
{
	if (arch && !strcmp(arch, "aarch64"))
		return "arch/arm64/boot/Image";
	return "arch/x86/boot/bzImage";
}

int main(int argc, char **argv)
{
	struct build_opts opts = { .compile_commands = true };
	struct kdesc desc;
	struct kbuild build = { 0 };
	struct progress bar = PROGRESS_INIT;
	const char *const vars[] = { "KCFLAGS=-Wno-error", NULL };
	char *objdir = NULL, *build_dir = NULL, *config = NULL, *log = NULL, *image = NULL;
	char *vmlinux = NULL;
	char config_hash[9], built_at[21];
	uint32_t crc;
	int status = KTSTR_EXIT_ERROR;

	diag_init(argv[0]);
	parse_args(argc, argv, &opts);
	if (!opts.jobs)
		opts.jobs = kbuild_cpus();

	if (load_descriptor(&opts, &desc) != 0)
		goto release_desc;
	if (!desc.source_dir) {
		err_msg("the kernel descriptor has no source_dir: run ktstr-fetch without --resolve-only");
		goto release_desc;
	}
	if (!kbuild_is_kernel_tree(desc.source_dir)) {
		err_msg("not a kernel source tree '%s': it has no top-level Makefile and Kconfig",
			desc.source_dir);
		goto release_desc;
	}
	build_dir = opts.build_dir ? xstrdup(opts.build_dir) : descriptor_build_dir(&desc);
	objdir = build_dir ? fs_realpath(build_dir) : xstrdup(desc.source_dir);
	if (!objdir) {
		err_errno("build directory '%s' not found", build_dir);
		goto release_desc;
	}
	config = fs_path_join(objdir, ".config");
	if (!fs_is_file(config)) {
		err_msg("no .config in '%s': configure the tree first with ktstr-kconfig", objdir);
		goto release_desc;
	}
	log = fs_path_join(objdir, LOG_NAME);
	if (truncate(log, 0) != 0 && errno != ENOENT) {
		err_errno("cannot reset the log '%s'", log);
		goto release_desc;
	}

	build.source_dir = desc.source_dir;
	build.build_dir = build_dir ? objdir : NULL;
	build.log_path = log;
	build.jobs = opts.jobs;
	build.vars = vars;
	build.bar = &bar;
	progress_begin(&bar, "building:", 0);
	if (!bar.active)
		info_msg("building '%s' with make -j%u; log: '%s'", objdir, opts.jobs, log);
	int make_status = kbuild_make(&build, NULL);
	if (make_status != 0) {
		if (make_status > 0) {
			char *cause = kbuild_log_cause(log);
			err_msg("make failed in '%s' (exit %d): %s; see the log '%s'", objdir, make_status,
				cause ? cause : "no output", log);
			free(cause);
		}
		goto release_desc;
	}
	if (opts.compile_commands) {
		build.jobs = 0;
		if (kbuild_make(&build, "compile_commands.json") != 0)
			warn_msg("make compile_commands.json failed in '%s'; see the log '%s'", objdir, log);
	}
	progress_end(&bar);

	image = fs_path_join(objdir, image_relpath(desc.arch));
	if (!fs_is_file(image)) {
		err_msg("make succeeded but left no boot image '%s'", image);
		goto release_desc;
	}
	vmlinux = fs_path_join(objdir, "vmlinux");
	if (!fs_is_file(vmlinux)) {
		warn_msg("no vmlinux in '%s': the kernel's BTF and symbols will not be cached", objdir);
		free(vmlinux);
		vmlinux = NULL;
	}
	if (crc32_file(config, &crc) != 0) {
		err_errno("cannot read '%s'", config);
		goto release_desc;
	}

	free(desc.image_path);
	desc.image_path = image;
	image = NULL;
	free(desc.vmlinux_path);
	desc.vmlinux_path = vmlinux;
	vmlinux = NULL;
	free(desc.config_path);
	desc.config_path = xstrdup(config);
	free(desc.config_hash);
	desc.config_hash = xstrdup(crc32_hex(crc, config_hash));
	free(desc.built_at);
	desc.built_at = xstrdup(kdesc_time_now(built_at));
	info_msg("built '%s'", desc.image_path);
	status = kdesc_write(stdout, &desc, opts.field) == 0 ? KTSTR_EXIT_OK : KTSTR_EXIT_ERROR;

release_desc:
	progress_end(&bar);
	kdesc_release(&desc);
	free(vmlinux);
	free(image);
	free(log);
	free(config);
	free(objdir);
	free(build_dir);
	return diag_close_stdout(status);
}
