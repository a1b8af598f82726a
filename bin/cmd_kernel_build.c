/* kernel build: get, configure, build and cache a kernel with the chain
 *
 *   ktstr-fetch | ktstr-kconfig | ktstr-build | ktstr-cache store
 *
 * First ktstr-fetch --resolve-only names the kernel without downloading it,
 * ktstr-cache key turns that into a cache key, and a cached entry ends the
 * command there.  Otherwise one process per key builds while the others
 * wait on <cache root>/.locks/build-<key>.lock and then reuse its entry.
 * Releases and git refs are unpacked or cloned under
 * <cache root>/.build/<key>/, which is removed once the kernel is cached.
 */
#include "commands.h"

#include "cache.h"
#include "diag.h"
#include "fsutil.h"
#include "json.h"
#include "lock.h"
#include "paths.h"
#include "spawn.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdnoreturn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char usage[] =
	"Usage: %1$s kernel build [OPTIONS] [VERSION]\n"
	"       %1$s kernel build [OPTIONS] --source PATH\n"
	"       %1$s kernel build [OPTIONS] --git URL --ref REF\n"
	"\n"
	"Download, configure, build and cache a kernel, and print its descriptor\n"
	"(JSON, with image_path) on stdout.  VERSION is a release (6.14.2), a\n"
	"release candidate (6.15-rc3) or a series (6.12, its newest release);\n"
	"without VERSION, --source or --git, the latest stable release.\n"
	"\n"
	"Options:\n"
	"      --source PATH  build the kernel tree at PATH in place; a tree with\n"
	"                     uncommitted changes to tracked files is built but not\n"
	"                     cached\n"
	"      --git URL      clone URL with depth 1 instead of downloading a release\n"
	"      --ref REF      the branch, tag or full commit id to clone (with --git)\n"
	"      --force        build again even when the kernel is cached\n"
	"      --clean        run 'make mrproper' before configuring (with --source)\n"
	"  -j, --jobs N       run N make jobs (default: the CPUs available)\n"
	"  -h, --help         print this help\n";

struct build_request {
	const char *version;
	const char *source;
	const char *git_url;
	const char *git_ref;
	const char *jobs;
	bool force;
	bool clean;
};

/* Print a usage error with the pointer to this command's help, exit 2. */
static noreturn void usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static noreturn void usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: %s: ", dispatch_label, command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s %s --help' for more information.\n", dispatch_label, command);
	exit(KTSTR_EXIT_ERROR);
}

static void parse_args(int argc, char **argv, struct build_request *req)
{
	enum { OPT_SOURCE = 256, OPT_GIT, OPT_REF, OPT_FORCE, OPT_CLEAN };
	static const struct option options[] = {
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "git", required_argument, NULL, OPT_GIT },
		{ "ref", required_argument, NULL, OPT_REF },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "clean", no_argument, NULL, OPT_CLEAN },
		{ "jobs", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "j:h", options, NULL)) != -1) {
		switch (opt) {
		case OPT_SOURCE:
			req->source = optarg;
			break;
		case OPT_GIT:
			req->git_url = optarg;
			break;
		case OPT_REF:
			req->git_ref = optarg;
			break;
		case OPT_FORCE:
			req->force = true;
			break;
		case OPT_CLEAN:
			req->clean = true;
			break;
		case 'j':
			req->jobs = optarg;
			break;
		case 'h':
			printf(usage, dispatch_label);
			exit(diag_close_stdout(KTSTR_EXIT_OK));
		default:
			usage_error("kernel build", "invalid option");
		}
	}
	if (optind < argc)
		req->version = argv[optind++];
	if (optind < argc)
		usage_error("kernel build", "unexpected argument '%s': give at most one VERSION", argv[optind]);

	if (req->version && req->source)
		usage_error("kernel build", "VERSION '%s' conflicts with --source", req->version);
	if (req->version && req->git_url)
		usage_error("kernel build", "VERSION '%s' conflicts with --git", req->version);
	if (req->source && req->git_url)
		usage_error("kernel build", "--source conflicts with --git");
	if (req->git_url && !req->git_ref)
		usage_error("kernel build", "--git needs --ref: name the branch, tag or commit to clone");
	if (req->git_ref && !req->git_url)
		usage_error("kernel build", "--ref is only valid with --git");
	if (req->clean && !req->source)
		usage_error("kernel build", "--clean only applies to --source: a downloaded or cloned "
			  "tree starts clean");
	if (req->jobs) {
		char *end;
		long jobs = strtol(req->jobs, &end, 10);
		if (end == req->jobs || *end || jobs < 1 || jobs > 4096)
			usage_error("kernel build", "invalid --jobs '%s': expected a whole number from 1 to 4096",
				  req->jobs);
	}
}

/* A memory file holding text, positioned at its start, for a child's stdin. */
static int text_fd(const char *text)
{
	int fd = fs_memfd_with("ktstr-descriptor", text, strlen(text));

	if (fd < 0)
		return err_errno("cannot create a memory file");
	return fd;
}

/* Run argv with input on stdin (NULL: inherited) and stdout captured.
 * Returns the status, or -1 when the child could not run. */
static int run_capture(const char *const *argv, const char *input, char **output)
{
	struct spawn child = SPAWN_INIT;
	int in = -1;

	*output = NULL;
	if (input && (in = text_fd(input)) < 0)
		return -1;
	child.argv = argv;
	child.stdin_fd = in;
	int status = spawn_capture_child(&child, output, NULL);
	if (in >= 0)
		close(in);
	return status;
}

/* Run argv with input on stdin and stdout inherited. */
static int run_with_input(const char *const *argv, const char *input)
{
	struct spawn child = SPAWN_INIT;
	int in = text_fd(input);

	if (in < 0)
		return -1;
	child.argv = argv;
	child.stdin_fd = in;
	int status = spawn_run(&child);
	close(in);
	return status;
}

/* Run the stages of the chain with their final stdout in *output. */
static int run_chain(const char *const *const *stages, size_t count, char **output,
		     size_t *failed)
{
	int capture = memfd_create("ktstr-chain", MFD_CLOEXEC);
	int saved = -1, status;

	*output = NULL;
	if (capture < 0)
		return err_errno("cannot create a memory file");
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved < 0 || dup2(capture, STDOUT_FILENO) < 0) {
		err_errno("cannot redirect the chain's output");
		status = -1;
		goto close_capture;
	}
	/* Stages after a failed one read an empty input; KTSTR_CHAIN keeps
	 * them from adding a second, misleading error (see lib/kdesc.c). */
	setenv("KTSTR_CHAIN", "1", 1);
	status = spawn_pipeline(stages, count, failed);
	unsetenv("KTSTR_CHAIN");
	dup2(saved, STDOUT_FILENO);

	off_t size = lseek(capture, 0, SEEK_END);
	if (size >= 0) {
		char *text = xmalloc((size_t)size + 1);
		ssize_t got = pread(capture, text, (size_t)size, 0);
		text[got > 0 ? got : 0] = '\0';
		*output = text;
	}
close_capture:
	if (saved >= 0)
		close(saved);
	close(capture);
	return status;
}

static jv parse_descriptor(const char *text, const char *from)
{
	char *why = NULL;
	jv desc = json_parse(text ? text : "", text ? strlen(text) : 0, NULL, &why);

	if (!jv_is_valid(desc))
		err_msg("kernel build: %s printed no kernel descriptor: %s", from, why ? why : "empty");
	free(why);
	return desc;
}

/* The descriptor of a cached entry: the resolved one plus what the cache
 * stores (lookup --json prints the entry's metadata and paths). */
static jv cached_descriptor(jv resolved, const char *entry_text)
{
	jv entry = parse_descriptor(entry_text, "ktstr-cache lookup");
	static const char *const copied[][2] = {
		{ "key", "key" },
		{ "path", "cache_path" },
		{ "image_path", "image_path" },
		{ "vmlinux_path", "vmlinux_path" },
		{ "config_path", "config_path" },
		{ "config_hash", "config_hash" },
		{ "ktstr_kconfig_hash", "kconfig_hash" },
		{ "built_at", "built_at" },
	};
	jv desc = jv_copy(resolved);

	if (!jv_is_valid(entry)) {
		jv_free(desc);
		return entry;
	}
	for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
		jv value = jv_object_get(jv_copy(entry), jv_string(copied[i][0]));
		if (jv_is_valid(value))
			desc = jv_object_set(desc, jv_string(copied[i][1]), value);
		else
			jv_free(value);
	}
	desc = jv_object_set(desc, jv_string("cached"), jv_true());
	jv_free(entry);
	return desc;
}

/* Look key up in the cache: 0 found (the entry's JSON in *entry_text),
 * 1 absent, another value after an error. */
static int lookup(const char *cache_tool, const char *key, char **entry_text)
{
	const char *argv[] = { cache_tool, "lookup", "--json", key, NULL };
	struct spawn child = SPAWN_INIT;
	int errors = memfd_create("ktstr-lookup-stderr", MFD_CLOEXEC);

	/* A miss is the usual case here: keep its message, show real errors. */
	child.argv = argv;
	child.stderr_fd = errors;
	int status = spawn_capture_child(&child, entry_text, NULL);
	if (status != 0 && status != KTSTR_EXIT_NO && errors >= 0) {
		char text[4096];
		ssize_t n = pread(errors, text, sizeof(text) - 1, 0);
		if (n > 0)
			fwrite(text, 1, (size_t)n, stderr);
	}
	if (errors >= 0)
		close(errors);
	if (status != 0) {
		free(*entry_text);
		*entry_text = NULL;
	}
	return status;
}

static int print_cached(jv resolved, const char *key, const char *entry_text)
{
	jv desc = cached_descriptor(resolved, entry_text);

	if (!jv_is_valid(desc)) {
		jv_free(desc);
		return KTSTR_EXIT_ERROR;
	}
	info_msg("cached kernel found: %s (use --force to rebuild)", key);
	if (json_print(stdout, desc, true) != 0)
		return diag_close_stdout(KTSTR_EXIT_ERROR);
	return diag_close_stdout(KTSTR_EXIT_OK);
}

/* The reason a local tree is built without caching, or NULL when it is cacheable. */
static const char *uncacheable_reason(jv desc)
{
	jv source = jv_object_get(jv_copy(desc), jv_string("source"));
	const char *type = json_str(source, "type");
	bool local = type && !strcmp(type, "local");
	bool in_git = json_str(source, "git_hash") != NULL;
	bool dirty = false;

	jv_free(source);
	json_bool(desc, "dirty", &dirty);
	if (!local || !dirty)
		return NULL;
	return in_git ? "it has uncommitted changes to tracked files" : "it is not in a git repository";
}

/* Mark the built descriptor dirty when the local tree is no longer the
 * commit that was looked up, because a tree edited during the build must
 * not be cached under that commit. */
static jv recheck_local(const char *fetch_tool, const char *source, jv resolved, jv built)
{
	const char *argv[] = { fetch_tool, "--resolve-only", "--source", source, NULL };
	char *text = NULL;
	bool dirty = false;
	int status = run_capture(argv, NULL, &text);
	jv now = status == 0 ? parse_descriptor(text, "ktstr-fetch") : jv_invalid();
	jv before_source = jv_object_get(jv_copy(resolved), jv_string("source"));
	jv now_source = jv_is_valid(now) ? jv_object_get(jv_copy(now), jv_string("source")) : jv_null();
	const char *before_hash = json_str(before_source, "git_hash");
	const char *now_hash = json_str(now_source, "git_hash");

	json_bool(now, "dirty", &dirty);
	if (!jv_is_valid(now) || dirty || !now_hash || !before_hash || strcmp(now_hash, before_hash)) {
		info_msg("'%s' changed while it was built; the kernel is not cached", source);
		built = jv_object_set(built, jv_string("dirty"), jv_true());
	}
	jv_free(now_source);
	jv_free(before_source);
	jv_free(now);
	free(text);
	return built;
}

struct chain {
	struct strvec fetch;
	struct strvec kconfig;
	struct strvec build;
};

static void chain_release(struct chain *chain)
{
	strvec_release(&chain->fetch);
	strvec_release(&chain->kconfig);
	strvec_release(&chain->build);
}

static void chain_prepare(struct chain *chain, const struct build_request *req, const char *work)
{
	strvec_push(&chain->fetch, paths_tool("ktstr-fetch"));
	if (req->source) {
		strvec_push(&chain->fetch, "--source");
		strvec_push(&chain->fetch, req->source);
	} else {
		strvec_push(&chain->fetch, "--dest");
		strvec_push(&chain->fetch, work);
		if (req->git_url) {
			strvec_push(&chain->fetch, "--git");
			strvec_push(&chain->fetch, req->git_url);
			strvec_push(&chain->fetch, "--ref");
			strvec_push(&chain->fetch, req->git_ref);
		}
	}

	strvec_push(&chain->kconfig, paths_tool("ktstr-kconfig"));
	if (req->clean)
		strvec_push(&chain->kconfig, "--clean");

	strvec_push(&chain->build, paths_tool("ktstr-build"));
	if (req->jobs) {
		strvec_push(&chain->build, "--jobs");
		strvec_push(&chain->build, req->jobs);
	}
	/* A downloaded or cloned tree is removed after caching, so a
	 * compilation database in it would be of no use. */
	if (!req->source)
		strvec_push(&chain->build, "--no-compile-commands");
}

/* The exact release that --resolve-only found, for the download step, so
 * that it fetches what was looked up even if a newer release came out. */
static void pin_version(struct chain *chain, jv resolved)
{
	const char *version = json_str(resolved, "version");

	if (version)
		strvec_push(&chain->fetch, version);
}

static int resolve(const struct build_request *req, char **text)
{
	struct strvec argv = STRVEC_INIT;

	strvec_push(&argv, paths_tool("ktstr-fetch"));
	strvec_push(&argv, "--resolve-only");
	if (req->source) {
		strvec_push(&argv, "--source");
		strvec_push(&argv, req->source);
	} else if (req->git_url) {
		strvec_push(&argv, "--git");
		strvec_push(&argv, req->git_url);
		strvec_push(&argv, "--ref");
		strvec_push(&argv, req->git_ref);
	} else if (req->version) {
		strvec_push(&argv, req->version);
	}
	int status = run_capture((const char *const *)argv.items, NULL, text);
	strvec_release(&argv);
	return status;
}

/* Build with the chain and store the result; the final descriptor goes to
 * stdout.  Returns the exit status. */
static int build_and_store(const struct build_request *req, jv resolved, const char *work,
			   bool cacheable)
{
	static const char *const step_names[] = { "ktstr-fetch", "ktstr-kconfig", "ktstr-build" };
	struct chain chain = { STRVEC_INIT, STRVEC_INIT, STRVEC_INIT };
	char *built_text = NULL, *store_input = NULL;
	char *cache_tool = paths_tool("ktstr-cache");
	size_t failed = 0;
	int status;

	chain_prepare(&chain, req, work);
	if (!req->source && !req->git_url)
		pin_version(&chain, resolved);
	const char *const *stages[] = {
		(const char *const *)chain.fetch.items,
		(const char *const *)chain.kconfig.items,
		(const char *const *)chain.build.items,
	};

	status = run_chain(stages, 3, &built_text, &failed);
	if (status != 0) {
		if (status > 0)
			err_msg("kernel build: %s failed (exit %d); nothing was cached", step_names[failed],
				status);
		/* rmdir only succeeds when the fetch left nothing behind. */
		if (work && rmdir(work) != 0)
			info_msg("the source tree stays in '%s' for the next attempt; remove it to start over",
				 work);
		goto release;
	}

	jv built = parse_descriptor(built_text, "ktstr-build");
	if (!jv_is_valid(built)) {
		jv_free(built);
		status = KTSTR_EXIT_ERROR;
		goto release;
	}
	if (req->source && cacheable)
		built = recheck_local(chain.fetch.items[0], req->source, resolved, built);
	bool dirty = false;
	json_bool(built, "dirty", &dirty);
	if (dirty) {
		/* The reason was printed above; ktstr-cache store would repeat it. */
		built = jv_object_set(built, jv_string("cached"), jv_false());
		status = json_print(stdout, built, true) == 0 ? KTSTR_EXIT_OK : KTSTR_EXIT_ERROR;
		status = diag_close_stdout(status);
		goto release;
	}
	store_input = json_to_string(built);
	jv_free(built);

	const char *store[] = { cache_tool, "store", req->force ? "--force" : NULL, NULL };
	status = run_with_input(store, store_input);
	if (status != 0) {
		if (work)
			info_msg("the built tree stays in '%s'; remove it when done", work);
		goto release;
	}
	if (work && fs_rm_rf(work) != 0)
		warn_errno("cannot remove the build directory '%s'", work);

release:
	free(store_input);
	free(built_text);
	free(cache_tool);
	chain_release(&chain);
	return status < 0 ? KTSTR_EXIT_TOOL : status;
}

/* Set the fragment hash that ktstr-kconfig will record, which the cache
 * key ends with, in the resolved descriptor. */
static int add_kconfig_hash(jv *desc)
{
	char *kconfig_tool = paths_tool("ktstr-kconfig");
	const char *argv[] = { kconfig_tool, "--hash", NULL };
	char *hash = NULL;
	int status = run_capture(argv, NULL, &hash);

	if (status == 0) {
		hash[strcspn(hash, "\n")] = '\0';
		*desc = jv_object_set(*desc, jv_string("kconfig_hash"), jv_string(hash));
	}
	free(hash);
	free(kconfig_tool);
	return status;
}

/* Take the build lock of key, waiting for another build when there is one.
 * Returns the fd, or -1 after a message.  *waited is true when it had to wait. */
static int take_build_lock(const char *root, const char *key, bool *waited)
{
	char *dir = fs_path_join(root, CACHE_LOCK_DIR);
	char *name = xasprintf(CACHE_BUILD_LOCK_PREFIX "%s.lock", key);
	char *path = fs_path_join(dir, name);
	int fd = -1;

	*waited = false;
	if (fs_mkdir_p(dir, 0755) != 0) {
		err_errno("kernel build: cannot create the lock directory '%s'", dir);
		goto free_paths;
	}
	fd = lock_acquire(path, LOCK_MODE_EXCLUSIVE, 0);
	if (fd < 0 && errno == EWOULDBLOCK) {
		info_msg("another process is building %s; waiting for it", key);
		*waited = true;
		fd = lock_acquire(path, LOCK_MODE_EXCLUSIVE, -1);
	}
	if (fd < 0)
		err_errno("kernel build: cannot lock '%s'", path);
free_paths:
	free(path);
	free(name);
	free(dir);
	return fd;
}

int cmd_kernel_build(int argc, char **argv)
{
	struct build_request req = { 0 };
	char *resolved_text = NULL, *key = NULL, *entry_text = NULL, *root = NULL, *work = NULL;
	char *cache_tool = paths_tool("ktstr-cache");
	jv resolved = jv_invalid();
	int status, lock = -1;

	parse_args(argc, argv, &req);
	/* ktstr-cache prefixes its status lines with the command the user typed. */
	setenv("KTSTR_LABEL", dispatch_label, 1);

	status = resolve(&req, &resolved_text);
	if (status != 0)
		goto release;
	resolved = parse_descriptor(resolved_text, "ktstr-fetch --resolve-only");
	status = KTSTR_EXIT_ERROR;
	if (!jv_is_valid(resolved))
		goto release;

	const char *reason = uncacheable_reason(resolved);
	if (reason) {
		info_msg("'%s' is built but not cached: %s", req.source, reason);
		status = build_and_store(&req, resolved, NULL, false);
		goto release;
	}

	root = paths_cache_root();
	if (!root)
		goto release;
	status = add_kconfig_hash(&resolved);
	if (status != 0)
		goto release;
	char *keyed_text = json_to_string(jv_copy(resolved));
	const char *key_argv[] = { cache_tool, "key", NULL };
	status = run_capture(key_argv, keyed_text, &key);
	free(keyed_text);
	if (status != 0)
		goto release;
	key[strcspn(key, "\n")] = '\0';

	if (!req.force && lookup(cache_tool, key, &entry_text) == 0) {
		status = print_cached(resolved, key, entry_text);
		goto release;
	}

	bool waited;
	lock = take_build_lock(root, key, &waited);
	status = KTSTR_EXIT_ERROR;
	if (lock < 0)
		goto release;
	/* A process that held the lock has just built and cached this key,
	 * which is also the fresh build that --force requests. */
	if ((!req.force || waited) && lookup(cache_tool, key, &entry_text) == 0) {
		status = print_cached(resolved, key, entry_text);
		goto release;
	}

	if (!req.source) {
		work = xasprintf("%s/" CACHE_BUILD_DIR "/%s", root, key);
		if (fs_mkdir_p(work, 0755) != 0) {
			err_errno("kernel build: cannot create the build directory '%s'", work);
			goto release;
		}
	}
	info_msg("building %s", key);
	status = build_and_store(&req, resolved, work, true);

release:
	lock_release(lock);
	jv_free(resolved);
	/* -1: a tool could not be run at all, after a message. */
	if (status < 0)
		status = KTSTR_EXIT_TOOL;
	free(work);
	free(root);
	free(entry_text);
	free(key);
	free(resolved_text);
	free(cache_tool);
	return status;
}

/* build-kernel --kernel PATH [--clean]: the old spelling of
 * kernel build --source PATH. */
int cmd_build_kernel(int argc, char **argv)
{
	static const struct option options[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "clean", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	bool clean = false;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'k':
			path = optarg;
			break;
		case 'c':
			clean = true;
			break;
		case 'h':
			printf("Usage: %s build-kernel --kernel PATH [--clean]\n\n"
			       "Deprecated: the same as '%s kernel build --source PATH'.\n",
			       dispatch_label, dispatch_label);
			return diag_close_stdout(KTSTR_EXIT_OK);
		default:
			usage_error("build-kernel", "invalid option");
		}
	}
	if (optind < argc)
		usage_error("build-kernel", "unexpected argument '%s'", argv[optind]);
	if (!path)
		usage_error("build-kernel", "--kernel PATH is required; better, run '%s kernel build --source PATH'",
			  dispatch_label);

	warn_msg("'build-kernel' is deprecated; use '%s kernel build --source %s'", dispatch_label, path);
	char *args[] = { "build", "--source", (char *)path, clean ? "--clean" : NULL, NULL };
	return cmd_kernel_build(clean ? 4 : 3, args);
}
