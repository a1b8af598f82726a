/* Kernel sources that are not release tarballs: a shallow clone of a git
 * ref, or a tree the user already has. */
#include "fetch.h"

#include "diag.h"
#include "fsutil.h"
#include "json.h"
#include "kbuild.h"
#include "progress.h"
#include "spawn.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* git must fail rather than ask for a password on a terminal. */
static const char *const git_env[] = { "GIT_TERMINAL_PROMPT=0", NULL };

/* Run git with stdout captured into *out (optional) and stderr kept aside;
 * on failure *cause gets git's "fatal:" or last stderr line.  Returns git's
 * status or -1. */
static int run_git(const char *const *argv, char **out, char **cause, bool show_progress)
{
	struct spawn child = SPAWN_INIT;
	int err_fd = show_progress ? -1 : memfd_create("git-stderr", MFD_CLOEXEC);
	char *captured = NULL;
	int status;

	child.argv = argv;
	child.env = git_env;
	child.stdin_fd = SPAWN_DEVNULL;
	child.stderr_fd = err_fd;
	if (out) {
		status = spawn_capture_child(&child, &captured, NULL);
	} else {
		status = spawn_run(&child);
	}
	*cause = NULL;
	if (status != 0 && err_fd >= 0) {
		char text[4096];
		ssize_t n = pread(err_fd, text, sizeof(text) - 1, 0);
		text[n > 0 ? n : 0] = '\0';
		char *fatal = strstr(text, "fatal: ");
		char *line = fatal ? fatal + 7 : text;
		if (!fatal) {
			/* The last non-empty line. */
			size_t len = strlen(text);
			while (len && text[len - 1] == '\n')
				text[--len] = '\0';
			char *nl = strrchr(text, '\n');
			line = nl ? nl + 1 : text;
		}
		line[strcspn(line, "\n")] = '\0';
		if (*line)
			*cause = xstrdup(line);
	}
	if (status != 0 && !*cause)
		*cause = xasprintf("git exited with status %d", status);
	if (err_fd >= 0)
		close(err_fd);
	if (out)
		*out = captured;
	else
		free(captured);
	return status;
}

static bool is_hex(const char *text, size_t min, size_t max)
{
	size_t len = strlen(text);

	if (len < min || len > max)
		return false;
	for (const char *p = text; *p; p++) {
		if (!isxdigit((unsigned char)*p))
			return false;
	}
	return true;
}

/* The commit of ref in `git ls-remote` output: a peeled annotated tag
 * first, then the tag, a branch, and a full ref name. */
static char *pick_ref(const char *listing, const char *ref)
{
	char *candidates[4] = {
		xasprintf("refs/tags/%s^{}", ref),
		xasprintf("refs/tags/%s", ref),
		xasprintf("refs/heads/%s", ref),
		xstrdup(ref),
	};
	char *found = NULL;

	for (size_t c = 0; c < 4 && !found; c++) {
		for (const char *line = listing; *line && !found; ) {
			const char *end = strchr(line, '\n');
			size_t len = end ? (size_t)(end - line) : strlen(line);
			const char *tab = memchr(line, '\t', len);

			if (tab && (size_t)(tab - line) == 40 &&
			    strlen(candidates[c]) == len - 41 &&
			    !strncmp(tab + 1, candidates[c], len - 41))
				found = xstrndup(line, 40);
			line = end ? end + 1 : line + len;
		}
	}
	for (size_t c = 0; c < 4; c++)
		free(candidates[c]);
	return found;
}

char *git_resolve(const char *url, const char *ref)
{
	/* ls-remote matches patterns against whole trailing components, so
	 * the peeled commit of an annotated tag needs its own pattern. */
	char *peeled = xasprintf("%s^{}", ref);
	const char *argv[] = { "git", "ls-remote", "--", url, ref, peeled, NULL };
	char *listing = NULL, *cause = NULL, *hash;

	if (is_hex(ref, 40, 40)) {
		free(peeled);
		hash = xstrdup(ref);
		for (char *p = hash; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		return hash;
	}
	int status = run_git(argv, &listing, &cause, false);
	free(peeled);
	if (status != 0) {
		err_msg("cannot list the refs of '%s': %s", url, cause);
		free(cause);
		free(listing);
		return NULL;
	}
	hash = pick_ref(listing, ref);
	free(listing);
	if (!hash) {
		if (is_hex(ref, 4, 39))
			err_msg("ref '%s' not found in '%s': an abbreviated commit id cannot be fetched, "
				"give all 40 hex digits", ref, url);
		else
			err_msg("ref '%s' not found in '%s': name a branch, a tag or a full commit id",
				ref, url);
	}
	return hash;
}

/* "<repository name>-<ref>", with '/' in either replaced: linux-v6.14. */
static char *clone_name(const char *url, const char *ref)
{
	const char *slash = strrchr(url, '/');
	const char *base = slash && slash[1] ? slash + 1 : url;
	char *repo = xstrdup(base);
	size_t len = strlen(repo);
	char *name;

	if (len > 4 && !strcmp(repo + len - 4, ".git"))
		repo[len - 4] = '\0';
	name = xasprintf("%s-%s", repo, ref);
	for (char *p = name; *p; p++) {
		if (*p == '/' || *p == ':')
			*p = '_';
	}
	free(repo);
	return name;
}

static bool clone_reusable(const char *tree, const char *url, const char *hash)
{
	char *path = fs_path_join(tree, FETCH_MARKER);
	jv marker = json_read_file(path, NULL, NULL);
	const char *recorded_url = json_str(marker, "url");
	const char *recorded_hash = json_str(marker, "git_hash");
	bool same = recorded_url && recorded_hash && !strcmp(recorded_url, url) &&
		    !strcmp(recorded_hash, hash);

	jv_free(marker);
	free(path);
	return same;
}

static char *git_head(const char *tree)
{
	const char *argv[] = { "git", "-C", tree, "rev-parse", "--verify", "-q", "HEAD", NULL };
	char *out = NULL, *cause = NULL;

	if (run_git(argv, &out, &cause, false) != 0) {
		free(cause);
		free(out);
		return NULL;
	}
	out[strcspn(out, "\n")] = '\0';
	return out;
}

int git_fetch(const struct fetch_opts *opts, const char *url, const char *ref, struct kdesc *desc)
{
	char *hash = git_resolve(url, ref);
	char *name = NULL, *final = NULL, *tmp = NULL, *cause = NULL;
	bool terminal = progress_is_terminal();
	int ret = -1;

	if (!hash)
		return -1;
	name = clone_name(url, ref);
	final = fs_path_join(opts->dest, name);
	tmp = xasprintf("%s/.%s.tmp-%ld", opts->dest, name, (long)getpid());

	if (fs_exists(final)) {
		if (!clone_reusable(final, url, hash)) {
			err_msg("cannot clone into '%s': it already exists; remove it or choose another --dest",
				final);
			goto free_names;
		}
		info_msg("'%s' already holds %s at %.12s; reusing it", final, ref, hash);
		goto describe;
	}
	fetch_sweep_temporaries(opts->dest, name);
	info_msg("cloning %s (ref %s, depth 1)", url, ref);

	const char *init[] = { "git", "init", "-q", tmp, NULL };
	if (run_git(init, NULL, &cause, false) != 0) {
		err_msg("cannot create a repository in '%s': %s", tmp, cause);
		goto remove_tmp;
	}
	/* A full commit id is fetched as asked; a branch or tag by name, so
	 * the clone gets what the ref points to now. */
	const char *fetch[] = { "git", "-C", tmp, "fetch", "--depth", "1", "--no-tags",
				terminal ? "--progress" : "-q", "--", url,
				is_hex(ref, 40, 40) ? hash : ref, NULL };
	if (run_git(fetch, NULL, &cause, terminal) != 0) {
		err_msg("cannot fetch '%s' from '%s': %s", ref, url, cause);
		goto remove_tmp;
	}
	const char *checkout[] = { "git", "-C", tmp, "checkout", "-q", "--detach", "FETCH_HEAD", NULL };
	if (run_git(checkout, NULL, &cause, false) != 0) {
		err_msg("cannot check out '%s' in '%s': %s", ref, tmp, cause);
		goto remove_tmp;
	}
	free(hash);
	hash = git_head(tmp);
	if (!hash) {
		err_msg("cannot read the commit checked out in '%s'", tmp);
		goto remove_tmp;
	}

	char *marker_path = fs_path_join(tmp, FETCH_MARKER);
	jv marker = jv_object();
	marker = jv_object_set(marker, jv_string("url"), jv_string(url));
	marker = jv_object_set(marker, jv_string("ref"), jv_string(ref));
	marker = jv_object_set(marker, jv_string("git_hash"), jv_string(hash));
	int written = json_write_file(marker_path, marker);
	if (written != 0)
		err_errno("write '%s'", marker_path);
	free(marker_path);
	if (written != 0)
		goto remove_tmp;
	if (rename(tmp, final) != 0) {
		err_errno("cannot move '%s' to '%s'", tmp, final);
		goto remove_tmp;
	}

describe:
	free(desc->source_dir);
	desc->source_dir = fs_realpath(final);
	if (!desc->source_dir) {
		err_errno("cannot resolve '%s'", final);
		goto free_names;
	}
	free(desc->git_hash);
	desc->git_hash = hash;
	hash = NULL;
	free(desc->version);
	desc->version = kbuild_kernelversion(desc->source_dir);
	if (!desc->version)
		warn_msg("'make kernelversion' failed in '%s'; the descriptor has no version",
			 desc->source_dir);
	ret = 0;
	goto free_names;

remove_tmp:
	fs_rm_rf(tmp);
free_names:
	free(cause);
	free(tmp);
	free(final);
	free(name);
	free(hash);
	return ret;
}

int local_describe(const char *path, struct kdesc *desc)
{
	char *real = fs_realpath(path);
	char *status_out = NULL, *cause = NULL;

	if (!real)
		return err_errno("kernel source tree '%s' not found", path);
	if (!fs_is_dir(real) || !kbuild_is_kernel_tree(real)) {
		err_msg("not a kernel source tree '%s': it has no top-level Makefile and Kconfig", path);
		free(real);
		return -1;
	}
	free(desc->source_dir);
	desc->source_dir = xstrdup(real);
	free(desc->source_tree_path);
	desc->source_tree_path = real;

	free(desc->git_hash);
	desc->git_hash = git_head(real);
	if (desc->git_hash) {
		/* Tracked files only: untracked files (build output) do not make
		 * the tree differ from its commit. */
		const char *status[] = { "git", "-C", real, "status", "--porcelain",
					 "--untracked-files=no", "--ignore-submodules", "--", ".", NULL };
		if (run_git(status, &status_out, &cause, false) != 0) {
			err_msg("cannot read the git status of '%s': %s", real, cause);
			free(cause);
			free(status_out);
			return -1;
		}
		desc->dirty = status_out[strspn(status_out, " \n")] != '\0';
		free(status_out);
	} else {
		desc->dirty = true;
	}

	free(desc->version);
	desc->version = kbuild_kernelversion(real);
	if (!desc->version)
		warn_msg("'make kernelversion' failed in '%s'; the descriptor has no version", real);
	return 0;
}
