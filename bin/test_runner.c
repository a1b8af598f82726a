#include "test_runner.h"

#include "commands.h"
#include "diag.h"
#include "exec_search.h"
#include "fsutil.h"
#include "json.h"
#include "kernel_id.h"
#include "spawn.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A usage error of test or coverage: like die_usage, but with 125, because
 * the runner's own statuses (1, 2, 4, 100, 101) must keep their meaning. */
static noreturn void die_run_usage(const struct test_run *run, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", diag_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s %s --help' for more information.\n", dispatch_label,
		run->command);
	exit(KTSTR_EXIT_TOOL);
}

static void set_kernel(struct test_run *run, const char *value)
{
	if (run->kernel)
		die_run_usage(run, "option '--kernel' given twice; one run tests one kernel");
	if (!*value)
		die_run_usage(run, "option '--kernel' requires a non-empty value");
	run->kernel = value;
}

/* Read our options up to "--" or the first argument that is not one of them.
 * That argument starts the pass-through, so `test -E 'test(x)'` works
 * without "--". */
void test_run_parse(struct test_run *run, int argc, char **argv, void (*print_usage)(FILE *))
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "--")) {
			i++;
			break;
		}
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			print_usage(stdout);
			exit(diag_close_stdout(KTSTR_EXIT_OK));
		}
		if (!strcmp(arg, "--kernel")) {
			if (i + 1 >= argc)
				die_run_usage(run, "option '--kernel' requires a value");
			set_kernel(run, argv[++i]);
			continue;
		}
		if (!strncmp(arg, "--kernel=", strlen("--kernel="))) {
			set_kernel(run, arg + strlen("--kernel="));
			continue;
		}
		break;
	}
	run->args = argv + i;
	run->nr_args = argc - i;
}

void test_run_find_cargo(struct test_run *run)
{
	const char *from_env = getenv("CARGO");

	if (from_env && *from_env) {
		run->cargo = xstrdup(from_env);
		return;
	}
	run->cargo = exec_search("cargo");
	if (!run->cargo)
		die_status(KTSTR_EXIT_NOTFOUND, "cargo not found on PATH: install Rust with rustup "
			   "(https://rustup.rs) or add the directory of cargo to PATH");
}

bool test_run_have_subcommand(const char *name)
{
	const char *cargo_home = getenv("CARGO_HOME");
	const char *home = getenv("HOME");
	const char *path = getenv("PATH");
	char *program = xasprintf("cargo-%s", name);
	char *bin_dir = NULL;

	if (cargo_home && *cargo_home)
		bin_dir = xasprintf("%s/bin", cargo_home);
	else if (home && *home)
		bin_dir = xasprintf("%s/.cargo/bin", home);

	/* cargo looks in its own bin directory before PATH. */
	char *dirs = xasprintf("%s%s%s", bin_dir ? bin_dir : "", bin_dir && path ? ":" : "",
			       path ? path : "");
	char *found = exec_search_dirs(program, dirs);
	bool have = found != NULL;

	free(found);
	free(dirs);
	free(bin_dir);
	free(program);
	return have;
}

/* Scan the pass-through arguments that cargo reads (those before a "--"). */
static const char *find_manifest_arg(const struct test_run *run)
{
	for (int i = 0; i < run->nr_args; i++) {
		const char *arg = run->args[i];

		if (!strcmp(arg, "--"))
			break;
		if (!strcmp(arg, "--manifest-path") && i + 1 < run->nr_args)
			return run->args[i + 1];
		if (!strncmp(arg, "--manifest-path=", strlen("--manifest-path=")))
			return arg + strlen("--manifest-path=");
	}
	return NULL;
}

/* True when the arguments pick targets themselves (--examples builds
 * examples as tests even where test = false), so the runner decides. */
static bool selects_targets(const struct test_run *run)
{
	static const char *const selectors[] = {
		"--lib", "--bin", "--bins", "--example", "--examples", "--test", "--tests",
		"--bench", "--benches", "--all-targets", "--doc", NULL,
	};

	for (int i = 0; i < run->nr_args; i++) {
		const char *arg = run->args[i];

		if (!strcmp(arg, "--"))
			break;
		for (size_t j = 0; selectors[j]; j++) {
			size_t len = strlen(selectors[j]);

			if (!strncmp(arg, selectors[j], len) && (arg[len] == '\0' || arg[len] == '='))
				return true;
		}
	}
	return false;
}

/* Find the nearest Cargo.toml at or above dir, as cargo does; NULL if none. */
static char *find_manifest_upward(const char *dir)
{
	char *current = xstrdup(dir);

	for (;;) {
		char *manifest = fs_path_join(current, "Cargo.toml");

		if (fs_is_file(manifest)) {
			free(current);
			return manifest;
		}
		free(manifest);
		if (!strcmp(current, "/")) {
			free(current);
			return NULL;
		}
		char *parent = fs_dirname(current);
		free(current);
		current = parent;
	}
}

/* Count the workspace targets that build tests, from `cargo metadata`.
 * Returns -1 when cargo metadata fails: the runner then reports the cause. */
static int count_test_targets(const struct test_run *run, const char *manifest, char **root)
{
	struct strvec argv = STRVEC_INIT;
	struct spawn child = SPAWN_INIT;
	char *text = NULL;
	size_t len = 0;
	int count = -1;

	strvec_push(&argv, run->cargo);
	strvec_push(&argv, "metadata");
	strvec_push(&argv, "--no-deps");
	strvec_push(&argv, "--offline");
	strvec_push(&argv, "--format-version=1");
	if (manifest) {
		strvec_push(&argv, "--manifest-path");
		strvec_push(&argv, manifest);
	}

	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	child.argv = (const char *const *)argv.items;
	child.stdin_fd = devnull;
	child.stderr_fd = devnull;
	int status = spawn_capture_child(&child, &text, &len);
	if (devnull >= 0)
		close(devnull);
	if (status != 0)
		goto free_argv;

	jv metadata = json_parse(text, len, NULL, NULL);
	if (jv_get_kind(metadata) != JV_KIND_OBJECT) {
		jv_free(metadata);
		goto free_argv;
	}
	jv packages = jv_object_get(jv_copy(metadata), jv_string("packages"));
	if (jv_get_kind(packages) != JV_KIND_ARRAY)
		goto free_metadata;
	count = 0;
	jv_array_foreach(packages, i, package) {
		jv targets = jv_object_get(package, jv_string("targets"));

		if (jv_get_kind(targets) == JV_KIND_ARRAY) {
			jv_array_foreach(targets, j, target) {
				bool test = false, doctest = false;

				json_bool(target, "test", &test);
				json_bool(target, "doctest", &doctest);
				count += test || doctest;
				jv_free(target);
			}
		}
		jv_free(targets);
	}
	const char *workspace_root = json_str(metadata, "workspace_root");
	*root = xstrdup(workspace_root ? workspace_root : ".");

free_metadata:
	jv_free(packages);
	jv_free(metadata);
free_argv:
	free(text);
	strvec_release(&argv);
	return count;
}

void test_run_check_project(const struct test_run *run)
{
	const char *manifest = find_manifest_arg(run);
	char *root = NULL;

	if (!manifest) {
		char *cwd = getcwd(NULL, 0);

		if (!cwd)
			die_errno("cannot read the working directory");
		char *found = find_manifest_upward(cwd);
		if (!found)
			die_status(KTSTR_EXIT_TOOL, "no cargo project at '%s': Cargo.toml not found "
				   "there or in any parent directory; run %s %s inside a cargo project",
				   cwd, dispatch_label, run->command);
		free(found);
		free(cwd);
	}
	if (selects_targets(run))
		return;

	/* NOTE: this catches workspaces whose targets all set test = false and
	 * doctest = false.  A target that builds tests but contains no #[test]
	 * is caught only by cargo nextest (status 4); cargo test runs 0 tests
	 * and exits 0. */
	int count = count_test_targets(run, manifest, &root);
	if (count == 0)
		die_status(TEST_RUNNER_EXIT_NO_TESTS, "no tests to run in '%s': no target of the "
			   "workspace builds tests; add tests/*.rs or drop 'test = false'", root);
	free(root);
}

void test_run_resolve_kernel(struct test_run *run)
{
	struct kernel_ref ref = KERNEL_REF_INIT;

	if (!run->kernel)
		return;

	/* A cache miss is reported by ktstr-cache, whose hint names the
	 * 'kernel build' command under this label. */
	setenv("KTSTR_LABEL", dispatch_label, 1);
	if (kernel_id_resolve(run->kernel, KERNEL_ID_ALLOW_IMAGE, &ref) != 0)
		exit(KTSTR_EXIT_TOOL);

	switch (kernel_id_classify(run->kernel)) {
	case KERNEL_ID_SOURCE_TREE:
		run->kernel_dir = fs_realpath(run->kernel);
		break;
	case KERNEL_ID_VERSION:
	case KERNEL_ID_CACHE_KEY:
		/* The image sits directly in its cache entry directory. */
		run->kernel_dir = fs_dirname(ref.image_path);
		break;
	default:
		run->kernel_dir = xstrdup(ref.image_path);
		break;
	}
	if (!run->kernel_dir)
		die_status(KTSTR_EXIT_TOOL, "cannot resolve the path of '%s': %s", run->kernel,
			   strerror(errno));
	run->kernel_image = xstrdup(ref.image_path);
	kernel_ref_release(&ref);
}

void test_run_exec(const struct test_run *run, const char *const *runner, const char *activity)
{
	struct strvec argv = STRVEC_INIT;

	if (run->kernel_dir) {
		setenv("KTSTR_KERNEL", run->kernel_dir, 1);
		setenv("KTSTR_TEST_KERNEL", run->kernel_image, 1);
		info_msg("using kernel %s", run->kernel_dir);
	}

	strvec_push(&argv, run->cargo);
	for (size_t i = 0; runner[i]; i++)
		strvec_push(&argv, runner[i]);
	for (int i = 0; i < run->nr_args; i++)
		strvec_push(&argv, run->args[i]);

	info_msg("running %s", activity);
	spawn_exec((const char *const *)argv.items);
}
