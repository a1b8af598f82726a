/* lib/sidecar: directory resolution against real git repositories, file
 * names and document classification. */
#include "sidecar.h"
#include "fsutil.h"
#include "json.h"
#include "spawn.h"
#include "tap.h"
#include "xalloc.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

static char scratch[] = "/tmp/ktstr-sidecar-XXXXXX";

/* Run git in dir with a fixed identity.  A failure bails out of the test. */
#define git(dir, ...) run_git(dir, (const char *[]){ __VA_ARGS__, NULL })
static void run_git(const char *dir, const char **args)
{
	struct strvec argv = STRVEC_INIT;
	struct spawn child = SPAWN_INIT;
	int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	strvec_push(&argv, "git");
	strvec_push(&argv, "-c");
	strvec_push(&argv, "user.name=ktstr test");
	strvec_push(&argv, "-c");
	strvec_push(&argv, "user.email=test@ktstr.invalid");
	strvec_push(&argv, "-c");
	strvec_push(&argv, "init.defaultBranch=main");
	for (size_t i = 0; args[i]; i++)
		strvec_push(&argv, args[i]);
	child.argv = (const char *const *)argv.items;
	child.cwd = dir;
	child.stdout_fd = null_fd;
	child.stderr_fd = null_fd;
	if (spawn_run(&child) != 0) {
		printf("Bail out! git %s failed in %s\n", args[0], dir);
		exit(2);
	}
	close(null_fd);
	strvec_release(&argv);
}

static char *full_head(const char *dir)
{
	const char *argv[] = { "git", "-C", dir, "rev-parse", "HEAD", NULL };
	char *out = NULL;

	if (spawn_capture(argv, &out, NULL) != 0)
		return xstrdup("");
	out[strcspn(out, "\n")] = '\0';
	return out;
}

static char *dir_from(const char *cwd)
{
	char saved[PATH_MAX];
	char *dir;

	if (!getcwd(saved, sizeof(saved)) || chdir(cwd) != 0)
		return xstrdup("(chdir failed)");
	dir = sidecar_dir();
	if (chdir(saved) != 0)
		printf("# cannot return to %s\n", saved);
	return dir;
}

/* Count the lines that two sidecar_dir() calls in cwd print on stderr. */
static int warnings_from_two_calls(const char *cwd, const char *log)
{
	int log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int saved_fd = dup(STDERR_FILENO);
	int lines = 0;

	fflush(stderr);
	dup2(log_fd, STDERR_FILENO);
	free(dir_from(cwd));
	free(dir_from(cwd));
	fflush(stderr);
	dup2(saved_fd, STDERR_FILENO);
	close(saved_fd);
	close(log_fd);

	char *text = fs_read_file(log, NULL);
	for (char *p = text; p && *p; p++)
		lines += *p == '\n';
	free(text);
	return lines;
}

static void test_directory(void)
{
	char *repo = fs_path_join(scratch, "repo");
	char *sub = fs_path_join(repo, "src/deep");
	char *outside = fs_path_join(scratch, "outside");
	char *got, *want, *commit;

	fs_mkdir_p(sub, 0755);
	fs_mkdir_p(outside, 0755);
	unsetenv("KTSTR_SIDECAR_DIR");
	unsetenv("CARGO_TARGET_DIR");

	git(repo, "init", "-q");
	char *real_repo = fs_realpath(repo);

	/* Before the first commit the branch exists and the commit does not. */
	got = dir_from(sub);
	want = xasprintf("%s/target/ktstr/main-unknown", real_repo);
	is_str(got, want, "unborn branch gives <branch>-unknown");
	free(got);
	free(want);

	git(repo, "commit", "-q", "--allow-empty", "-m", "first");
	commit = full_head(repo);
	commit[7] = '\0';

	got = dir_from(sub);
	want = xasprintf("%s/target/ktstr/main-%s", real_repo, commit);
	is_str(got, want, "subdirectory resolves to the repository top");
	free(got);
	free(want);

	git(repo, "checkout", "-q", "-b", "feature/topo/x");
	got = dir_from(repo);
	want = xasprintf("%s/target/ktstr/feature-topo-x-%s", real_repo, commit);
	is_str(got, want, "every slash in the branch becomes a dash");
	free(got);
	free(want);

	git(repo, "checkout", "-q", "--detach");
	got = dir_from(repo);
	want = xasprintf("%s/target/ktstr/detached-%s", real_repo, commit);
	is_str(got, want, "detached HEAD is named detached");
	free(got);
	free(want);

	setenv("CARGO_TARGET_DIR", "/srv/build/tgt", 1);
	got = dir_from(sub);
	want = xasprintf("/srv/build/tgt/ktstr/detached-%s", commit);
	is_str(got, want, "CARGO_TARGET_DIR replaces <top>/target");
	free(got);
	free(want);
	unsetenv("CARGO_TARGET_DIR");

	setenv("KTSTR_SIDECAR_DIR", "relative/runs", 1);
	got = dir_from(sub);
	is_str(got, "relative/runs", "KTSTR_SIDECAR_DIR is used as it is");
	free(got);
	setenv("KTSTR_SIDECAR_DIR", "", 1);
	got = dir_from(repo);
	want = xasprintf("%s/target/ktstr/detached-%s", real_repo, commit);
	is_str(got, want, "empty KTSTR_SIDECAR_DIR counts as unset");
	free(got);
	free(want);
	unsetenv("KTSTR_SIDECAR_DIR");

	/* GIT_CEILING_DIRECTORIES stops git's upward search at the scratch
	 * directory, so whatever contains /tmp cannot make it a repository. */
	setenv("GIT_CEILING_DIRECTORIES", scratch, 1);
	char *real_outside = fs_realpath(outside);
	char *log = fs_path_join(scratch, "stderr.log");
	is_int(warnings_from_two_calls(outside, log), 1, "outside a repository warns once");
	got = dir_from(outside);
	want = xasprintf("%s/target/ktstr/unknown-unknown", real_outside);
	is_str(got, want, "outside a repository both parts are unknown");
	free(got);
	free(want);
	free(log);
	unsetenv("GIT_CEILING_DIRECTORIES");

	struct sidecar_project project;
	is_int(sidecar_project_probe(sub, &project), 0, "probe finds the repository");
	is_str(project.top, real_repo, "probe reports the top-level directory");
	ok(project.branch == NULL, "probe reports no branch when detached");
	is_str(project.commit, commit, "probe reports the 7-digit commit");
	sidecar_project_release(&project);

	free(real_outside);
	free(real_repo);
	free(commit);
	free(outside);
	free(sub);
	free(repo);
}

static void test_run_name(void)
{
	struct sidecar_project project = { NULL, "a/b", "1234567" };
	char *name = sidecar_run_name(&project);

	is_str(name, "a-b-1234567", "run name joins branch and commit");
	free(name);
	name = sidecar_run_name(NULL);
	is_str(name, "unknown-unknown", "run name without a repository");
	free(name);
}

static void test_file_names(void)
{
	char *name = sidecar_file_name("sched/basic", "1n1l2c1t", "llc+steal", "20260101T000000Z-42-1");

	is_str(name, "sched-basic-1n1l2c1t-llc+steal-20260101T000000Z-42-1.ktstr.json",
	       "file name joins the parts and flattens slashes");
	ok(sidecar_is_file_name(name), "generated name is recognised");
	free(name);
	ok(!sidecar_is_file_name("notes.json"), "plain .json is not a sidecar");
	ok(!sidecar_is_file_name(".ktstr.json"), "bare suffix is not a sidecar");
	ok(!sidecar_is_file_name(".x.ktstr.json.tmp"), "temporary file is not a sidecar");
	ok(!sidecar_is_file_name(".x.ktstr.json"), "hidden file is not a sidecar");
	ok(sidecar_is_file_name("basic-0123456789abcdef.ktstr.json"), "upstream name is a sidecar");
}

static enum sidecar_kind classify(const char *text, const char **cause)
{
	jv doc = json_parse(text, strlen(text), NULL, NULL);
	enum sidecar_kind kind = sidecar_classify(doc, cause);

	jv_free(doc);
	return kind;
}

static void test_classify(void)
{
	const char *cause = "unset";

	is_int(classify("{\"schema_version\":1,\"test_name\":\"a\",\"topology\":\"1n1l1c1t\",\"passed\":true}", &cause),
	       SIDECAR_KTSTR, "version 1 is ours");
	ok(cause == NULL, "no cause for a readable sidecar");
	is_int(classify("{\"test_name\":\"a\",\"topology\":\"1n1l1c1t\",\"passed\":false}", NULL),
	       SIDECAR_UPSTREAM, "no schema_version is upstream");
	is_int(classify("{\"schema_version\":2,\"test_name\":\"a\",\"topology\":\"t\",\"passed\":true}", &cause),
	       SIDECAR_FUTURE, "version 2 is from the future");
	ok(cause && strstr(cause, "newer"), "future version names the cause");
	is_int(classify("[{\"test_name\":\"a\"}]", &cause), SIDECAR_FOREIGN, "array is foreign");
	is_int(classify("{\"name\":\"cargo\"}", &cause), SIDECAR_FOREIGN, "object without sidecar keys is foreign");
	is_int(classify("{\"schema_version\":\"1\",\"test_name\":\"a\",\"topology\":\"t\",\"passed\":true}", &cause),
	       SIDECAR_FOREIGN, "string schema_version is foreign");
	is_int(classify("{\"schema_version\":1.5,\"test_name\":\"a\",\"topology\":\"t\",\"passed\":true}", &cause),
	       SIDECAR_FOREIGN, "fractional schema_version is foreign");
	is_int(classify("{\"schema_version\":0,\"test_name\":\"a\",\"topology\":\"t\",\"passed\":true}", &cause),
	       SIDECAR_FOREIGN, "schema_version 0 is foreign");
	is_int(classify("{\"test_name\":\"a\",\"topology\":\"t\",\"passed\":\"yes\"}", &cause),
	       SIDECAR_FOREIGN, "string passed is foreign");
}

int main(void)
{
	if (!mkdtemp(scratch)) {
		printf("Bail out! cannot create a scratch directory\n");
		return 2;
	}
	test_directory();
	test_run_name();
	test_file_names();
	test_classify();
	fs_rm_rf(scratch);
	return done_testing();
}
