#include "test_runner.h"

#include "commands.h"
#include "crc32.h"
#include "diag.h"
#include "exec_search.h"
#include "fsutil.h"
#include "json.h"
#include "kernel_id.h"
#include "spawn.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
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

/* Take one --kernel value.  Blank values are dropped, so that a script can
 * pass an unset variable; all of them blank is an error after parsing. */
static void add_kernel(struct test_run *run, const char *value)
{
	run->kernel_given = true;
	if (!value[strspn(value, " \t\n")])
		return;
	run->kernel_ids = xrealloc(run->kernel_ids, (run->nr_kernel_ids + 1) * sizeof(*run->kernel_ids));
	run->kernel_ids[run->nr_kernel_ids++] = value;
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
			add_kernel(run, argv[++i]);
			continue;
		}
		if (!strncmp(arg, "--kernel=", strlen("--kernel="))) {
			add_kernel(run, arg + strlen("--kernel="));
			continue;
		}
		break;
	}
	run->args = argv + i;
	run->nr_args = argc - i;
	if (run->kernel_given && !run->nr_kernel_ids)
		die_run_usage(run, "option '--kernel' requires a value that is not blank");
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

	child.argv = (const char *const *)argv.items;
	child.stdin_fd = SPAWN_DEVNULL;
	child.stderr_fd = SPAWN_DEVNULL;
	int status = spawn_capture_child(&child, &text, &len);
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

/* The name of a cache key's kernel: the key up to its source part
 * (-tarball-, -git-, or -image- for a stored boot image), or
 * local_<6 hex digits> for a build of a local tree. */
static char *cache_key_label(const char *key)
{
	static const char *const sources[] = { "-tarball-", "-git-", "-image-" };

	if (!strncmp(key, "local-", 6)) {
		const char *hash = key + 6;
		size_t len = strspn(hash, "0123456789abcdef");
		return len >= 6 ? xasprintf("local_%.6s", hash) : xstrdup("local_unknown");
	}
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		const char *found = strstr(key, sources[i]);
		if (found && found != key)
			return xstrndup(key, (size_t)(found - key));
	}
	return xstrdup(key);
}

char *test_kernel_label(const char *id, const char *dir, bool dirty_tree)
{
	char hex[9];

	switch (kernel_id_classify(id)) {
	case KERNEL_ID_VERSION:
		return xstrdup(id);
	case KERNEL_ID_CACHE_KEY:
		return cache_key_label(id);
	default:
		break;
	}
	/* Low 24 bits of the CRC-32 of the canonical path tell apart two trees
	 * with the same directory name. */
	crc32_hex(crc32_buffer(dir, strlen(dir)), hex);
	return xasprintf("path_%s_%s%s", fs_basename(dir), hex + 2, dirty_tree ? "_dirty" : "");
}

char *test_kernel_label_sanitized(const char *label)
{
	char *out = xmalloc(strlen("kernel_") + strlen(label) + 1);
	char *p = out + sprintf(out, "kernel_");

	for (const char *c = label; *c; c++) {
		if (isalnum((unsigned char)*c))
			*p++ = (char)tolower((unsigned char)*c);
		else if (p[-1] != '_')
			*p++ = '_';
	}
	while (p[-1] == '_' && p - out > (ptrdiff_t)strlen("kernel_"))
		p--;
	*p = '\0';
	return out;
}

/* Stop when two different labels would reach the tests as one name. */
static void check_label_clash(const struct test_run *run, const char *label_a, const char *id_a,
			      const char *label_b, const char *id_b)
{
	if (!strcmp(label_a, label_b))
		return;
	char *sane_a = test_kernel_label_sanitized(label_a);
	char *sane_b = test_kernel_label_sanitized(label_b);
	if (!strcmp(sane_a, sane_b))
		die_status(KTSTR_EXIT_TOOL, "kernels '%s' and '%s' would both be named %s in the tests; "
			   "pass only one of them to %s %s", id_a, id_b, sane_a, dispatch_label, run->command);
	free(sane_a);
	free(sane_b);
}

/* The label of id before it is resolved: versions and cache keys give it
 * as they are, paths from their canonical path (a tree's _dirty is known
 * only after its build).  NULL for a path that does not exist. */
static char *early_label(const char *id, bool *is_path)
{
	enum kernel_id_kind kind = kernel_id_classify(id);

	*is_path = kind == KERNEL_ID_SOURCE_TREE || kind == KERNEL_ID_IMAGE;
	if (kind == KERNEL_ID_VERSION || kind == KERNEL_ID_CACHE_KEY)
		return test_kernel_label(id, NULL, false);
	if (!*is_path)
		return NULL;
	char *real = fs_realpath(id);
	char *label = real ? test_kernel_label(id, real, false) : NULL;
	free(real);
	return label;
}

/* Check the labels before anything is built or looked up, so that a clash
 * stops before a long build: labels that differ but reach the tests as one
 * name, and a path and a cache name with the same label. */
static void preflight_labels(const struct test_run *run)
{
	for (size_t i = 0; i < run->nr_kernel_ids; i++) {
		bool path_i;
		char *label_i = early_label(run->kernel_ids[i], &path_i);

		for (size_t j = i + 1; label_i && j < run->nr_kernel_ids; j++) {
			bool path_j;
			char *label_j = early_label(run->kernel_ids[j], &path_j);

			if (label_j)
				check_label_clash(run, label_i, run->kernel_ids[i], label_j, run->kernel_ids[j]);
			if (label_j && path_i != path_j && !strcmp(label_i, label_j))
				die_status(KTSTR_EXIT_TOOL, "kernels '%s' and '%s' are both labelled '%s'; "
					   "pass only one of them to %s %s", run->kernel_ids[i], run->kernel_ids[j],
					   label_i, dispatch_label, run->command);
			free(label_j);
		}
		free(label_i);
	}
}

static bool has_control(const char *text)
{
	for (; *text; text++) {
		if (iscntrl((unsigned char)*text))
			return true;
	}
	return false;
}

/* Resolve one identifier into kernel; exits 125 when it cannot. */
static void resolve_one(const char *id, struct test_kernel *kernel)
{
	struct kernel_ref ref = KERNEL_REF_INIT;
	bool dirty_tree = false;

	if (kernel_id_resolve(id, KERNEL_ID_ALLOW_IMAGE, &ref) != 0)
		exit(KTSTR_EXIT_TOOL);

	switch (kernel_id_classify(id)) {
	case KERNEL_ID_SOURCE_TREE:
		kernel->dir = fs_realpath(id);
		/* A tree that could not be cached (dirty, or not under git)
		 * boots the image inside it. */
		dirty_tree = kernel->dir && !strncmp(ref.image_path, kernel->dir, strlen(kernel->dir)) &&
			     ref.image_path[strlen(kernel->dir)] == '/';
		break;
	case KERNEL_ID_VERSION:
	case KERNEL_ID_CACHE_KEY:
		/* The image sits directly in its cache entry directory. */
		kernel->dir = fs_dirname(ref.image_path);
		break;
	default:
		kernel->dir = xstrdup(ref.image_path);
		break;
	}
	if (!kernel->dir)
		die_status(KTSTR_EXIT_TOOL, "cannot resolve the path of '%s': %s", id, strerror(errno));
	kernel->image = xstrdup(ref.image_path);
	kernel->label = test_kernel_label(id, kernel->dir, dirty_tree);
	kernel_ref_release(&ref);

	/* KTSTR_KERNEL_LIST separates kernels with ';' and labels with '=',
	 * and a control character would break the status lines. */
	if (strpbrk(kernel->label, ";=") || has_control(kernel->label))
		die_status(KTSTR_EXIT_TOOL, "cannot pass kernel '%s' to the tests: its label '%s' contains "
			   "';', '=' or a control character", id, kernel->label);
	if (strchr(kernel->dir, ';') || has_control(kernel->dir))
		die_status(KTSTR_EXIT_TOOL, "cannot pass kernel '%s' to the tests: its path '%s' contains "
			   "';' or a control character", id, kernel->dir);
}

void test_run_resolve_kernel(struct test_run *run)
{
	if (!run->nr_kernel_ids)
		return;

	/* A cache miss is reported by ktstr-cache, whose hint names the
	 * 'kernel build' command under this label. */
	setenv("KTSTR_LABEL", dispatch_label, 1);
	preflight_labels(run);

	run->kernels = xcalloc(run->nr_kernel_ids, sizeof(*run->kernels));
	for (size_t i = 0; i < run->nr_kernel_ids; i++) {
		struct test_kernel kernel;
		bool duplicate = false;

		resolve_one(run->kernel_ids[i], &kernel);
		for (size_t j = 0; j < run->nr_kernels; j++) {
			struct test_kernel *seen = &run->kernels[j];

			if (!strcmp(seen->dir, kernel.dir)) {
				if (strcmp(run->kernel_ids[j], run->kernel_ids[i]) != 0)
					info_msg("kernel '%s' is the same as \"%s\"; testing it once",
						 run->kernel_ids[i], seen->label);
				duplicate = true;
				break;
			}
			check_label_clash(run, seen->label, run->kernel_ids[j], kernel.label, run->kernel_ids[i]);
			if (!strcmp(seen->label, kernel.label))
				die_status(KTSTR_EXIT_TOOL, "kernels '%s' and '%s' are both labelled '%s'; "
					   "pass only one of them to %s %s", run->kernel_ids[j],
					   run->kernel_ids[i], kernel.label, dispatch_label, run->command);
		}
		if (duplicate) {
			free(kernel.label);
			free(kernel.dir);
			free(kernel.image);
			continue;
		}
		if (run->nr_kernel_ids > 1)
			info_msg("resolved kernel \"%s\"", kernel.label);
		run->kernels[run->nr_kernels++] = kernel;
	}
}

/* Join "label=path" pairs with ';', the image paths when images is set. */
static char *kernel_list(const struct test_run *run, bool images)
{
	char *joined = xstrdup("");

	for (size_t i = 0; i < run->nr_kernels; i++) {
		char *longer = xasprintf("%s%s%s=%s", joined, i ? ";" : "", run->kernels[i].label,
					 images ? run->kernels[i].image : run->kernels[i].dir);
		free(joined);
		joined = longer;
	}
	return joined;
}

void test_run_exec(const struct test_run *run, const char *const *runner, const char *activity)
{
	struct strvec argv = STRVEC_INIT;

	if (run->nr_kernels) {
		setenv("KTSTR_KERNEL", run->kernels[0].dir, 1);
		setenv("KTSTR_TEST_KERNEL", run->kernels[0].image, 1);
		unsetenv("KTSTR_KERNEL_LIST");
		unsetenv("KTSTR_TEST_KERNEL_LIST");
		for (size_t i = 0; i < run->nr_kernels; i++)
			info_msg("using kernel %s", run->kernels[i].dir);
	}
	if (run->nr_kernels > 1) {
		char *dirs = kernel_list(run, false);
		char *images = kernel_list(run, true);

		setenv("KTSTR_KERNEL_LIST", dirs, 1);
		setenv("KTSTR_TEST_KERNEL_LIST", images, 1);
		info_msg("running the tests against %zu kernels (KTSTR_KERNEL_LIST)", run->nr_kernels);
		free(dirs);
		free(images);
	}

	strvec_push(&argv, run->cargo);
	for (size_t i = 0; runner[i]; i++)
		strvec_push(&argv, runner[i]);
	for (int i = 0; i < run->nr_args; i++)
		strvec_push(&argv, run->args[i]);

	info_msg("running %s", activity);
	spawn_exec((const char *const *)argv.items);
}
