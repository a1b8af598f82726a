#include "sidecar.h"

#include "diag.h"
#include "fsutil.h"
#include "json.h"
#include "spawn.h"
#include "xalloc.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COMMIT_DIGITS 7

/* Run git with stdout captured and stderr discarded, so that "not a git
 * repository" stays quiet.  Returns the first output line, malloc'd, or NULL
 * when git fails, prints nothing, or cannot run. */
static char *git_line(const char *dir, const char *const *argv)
{
	struct spawn child = SPAWN_INIT;
	char *out = NULL;

	child.argv = argv;
	child.cwd = dir;
	child.stderr_fd = SPAWN_DEVNULL;
	int status = spawn_capture_child(&child, &out, NULL);
	if (status != 0 || !out) {
		free(out);
		return NULL;
	}

	out[strcspn(out, "\n")] = '\0';
	if (!out[0]) {
		free(out);
		return NULL;
	}
	return out;
}

int sidecar_project_probe(const char *dir, struct sidecar_project *project)
{
	static const char *const toplevel_argv[] = { "git", "rev-parse", "--show-toplevel", NULL };
	static const char *const branch_argv[] = { "git", "symbolic-ref", "-q", "HEAD", NULL };
	static const char *const commit_argv[] = { "git", "rev-parse", "-q", "--verify", "HEAD^{commit}", NULL };
	static const char heads[] = "refs/heads/";

	*project = (struct sidecar_project)SIDECAR_PROJECT_INIT;
	project->top = git_line(dir, toplevel_argv);
	if (!project->top)
		return -1;

	char *ref = git_line(dir, branch_argv);
	if (ref) {
		bool local = !strncmp(ref, heads, sizeof(heads) - 1);
		project->branch = xstrdup(local ? ref + sizeof(heads) - 1 : ref);
		free(ref);
	}

	char *commit = git_line(dir, commit_argv);
	if (commit) {
		/* Cut the full hash because git's --short grows with the repository,
		 * and the directory name must not change with it. */
		project->commit = xstrndup(commit, COMMIT_DIGITS);
		free(commit);
	}
	return 0;
}

void sidecar_project_release(struct sidecar_project *project)
{
	free(project->top);
	free(project->branch);
	free(project->commit);
	*project = (struct sidecar_project)SIDECAR_PROJECT_INIT;
}

/* Replace every '/' with '-' in place. */
static char *flatten_slashes(char *text)
{
	for (char *p = text; *p; p++) {
		if (*p == '/')
			*p = '-';
	}
	return text;
}

char *sidecar_run_name(const struct sidecar_project *project)
{
	const char *branch = "unknown";
	const char *commit = "unknown";

	if (project) {
		branch = project->branch ? project->branch : "detached";
		commit = project->commit ? project->commit : "unknown";
	}
	return flatten_slashes(xasprintf("%s-%s", branch, commit));
}

char *sidecar_dir(void)
{
	static bool warned;
	struct sidecar_project project;
	const char *env = getenv("KTSTR_SIDECAR_DIR");

	if (env && *env)
		return xstrdup(env);

	bool in_repo = sidecar_project_probe(NULL, &project) == 0;
	char *run_name = sidecar_run_name(in_repo ? &project : NULL);
	char *base = in_repo ? xstrdup(project.top) : getcwd(NULL, 0);
	if (!base)
		base = xstrdup(".");

	const char *target = getenv("CARGO_TARGET_DIR");
	char *target_dir = target && *target ? xstrdup(target) : fs_path_join(base, "target");
	char *dir = xasprintf("%s/ktstr/%s", target_dir, run_name);

	if (!in_repo && !warned) {
		warned = true;
		warn_msg("'%s' is not inside a git repository: sidecars go to '%s'", base, dir);
	}
	free(target_dir);
	free(base);
	free(run_name);
	if (in_repo)
		sidecar_project_release(&project);
	return dir;
}

char *sidecar_file_name(const char *test_name, const char *topology, const char *profile,
			const char *run_id)
{
	char *name = xasprintf("%s-%s-%s-%s", test_name, topology, profile, run_id);
	char *file = xasprintf("%s%s", flatten_slashes(name), SIDECAR_SUFFIX);

	free(name);
	return file;
}

bool sidecar_is_file_name(const char *name)
{
	size_t len = strlen(name);
	size_t suffix_len = sizeof(SIDECAR_SUFFIX) - 1;

	if (name[0] == '.' || len <= suffix_len)
		return false;
	return !strcmp(name + len - suffix_len, SIDECAR_SUFFIX);
}

enum sidecar_kind sidecar_classify(jv doc, const char **cause)
{
	const char *found_cause = NULL;
	enum sidecar_kind kind = SIDECAR_KTSTR;
	bool passed;
	double version;

	if (jv_get_kind(doc) != JV_KIND_OBJECT) {
		found_cause = "not a JSON object";
		kind = SIDECAR_FOREIGN;
	} else if (!json_str(doc, "test_name") || !json_str(doc, "topology") ||
		   !json_bool(doc, "passed", &passed)) {
		found_cause = "no test_name, topology or passed key";
		kind = SIDECAR_FOREIGN;
	} else if (!json_has(doc, "schema_version")) {
		kind = SIDECAR_UPSTREAM;
	} else if (!json_num(doc, "schema_version", &version) || version < 1 ||
		   version != (double)(long long)version) {
		found_cause = "schema_version is not a positive integer";
		kind = SIDECAR_FOREIGN;
	} else if (version > SIDECAR_SCHEMA_VERSION) {
		found_cause = "schema_version is newer than this ktstr reads";
		kind = SIDECAR_FUTURE;
	}
	if (cause)
		*cause = found_cause;
	return kind;
}
