/* One ktstr-vm run per profile.  ktstr-vm boots the kernel, starts the
 * scheduler with the profile's arguments, reads every loaded BPF program's
 * verified_insns in the guest and writes the run's sidecar, whose path it
 * prints on stdout.  The results come from that sidecar. */
#include "verifier.h"

#include "diag.h"
#include "fsutil.h"
#include "json.h"
#include "paths.h"
#include "spawn.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The scenario of every run: the programs are verified when the scheduler
 * loads, so one worker for one second is enough.  Its name becomes the
 * sidecars' test_name, which groups the runs in ktstr-stats. */
static const char scenario_text[] =
	"{\n"
	"  \"name\": \"verifier\",\n"
	"  \"description\": \"load the scheduler for ktstr-verifier: one worker for one second\",\n"
	"  \"duration_s\": 1,\n"
	"  \"cgroups\": [ { \"name\": \"verifier\", \"work_type\": \"CpuSpin\", \"workers\": 1 } ]\n"
	"}\n";

/* The label of status lines: "cargo ktstr" when the dispatcher ran us. */
static const char *status_label(void)
{
	const char *label = getenv("KTSTR_LABEL");

	return label && *label ? label : diag_progname;
}

static void build_argv(const char *vm, const char *binary, const struct profile *profile,
		       const struct vm_opts *opts, const char *scenario, struct strvec *argv)
{
	strvec_push(argv, vm);
	strvec_push(argv, "--scheduler");
	strvec_push(argv, binary);
	for (size_t i = 0; opts->sched_args && i < opts->sched_args->len; i++) {
		strvec_push(argv, "--sched-args");
		strvec_push(argv, opts->sched_args->items[i]);
	}
	/* ktstr-vm queries the scheduler for the profile's arguments itself, and
	 * records the profile and its flags in the sidecar. */
	strvec_push(argv, "--profile");
	strvec_push(argv, profile->name);
	strvec_push(argv, "--scenario");
	strvec_push(argv, scenario);
	if (opts->kernel) {
		strvec_push(argv, "--kernel");
		strvec_push(argv, opts->kernel);
		strvec_push(argv, "--allow-image");
	}
	if (opts->topology) {
		strvec_push(argv, "--topology");
		strvec_push(argv, opts->topology);
	}
	if (opts->timeout) {
		strvec_push(argv, "--timeout");
		strvec_push(argv, opts->timeout);
	}
	if (opts->verbose)
		strvec_push(argv, "--verbose");
}

/* The last non-empty line of ktstr-vm's stdout: the sidecar path.  Malloc'd or NULL. */
static char *last_line(const char *out, size_t len)
{
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' '))
		len--;
	if (len == 0)
		return NULL;
	const char *start = out + len;
	while (start > out && start[-1] != '\n')
		start--;
	return xstrndup(start, (size_t)(out + len - start));
}

static char *temp_template(void)
{
	const char *tmp = getenv("TMPDIR");

	return xasprintf("%s/ktstr-verifier.XXXXXX", tmp && *tmp ? tmp : "/tmp");
}

/* A temporary file for ktstr-vm's messages, already unlinked; -1 on failure. */
static int message_file(void)
{
	char *path = temp_template();
	int fd = mkstemp(path);

	if (fd < 0)
		err_errno("cannot create a temporary file '%s'", path);
	else
		unlink(path);
	free(path);
	return fd;
}

/* Copy ktstr-vm's messages to stderr, so that a failed run explains itself. */
static void replay_messages(int fd)
{
	char buf[4096];
	ssize_t n;

	if (fd < 0 || lseek(fd, 0, SEEK_SET) != 0)
		return;
	fflush(stderr);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (write(STDERR_FILENO, buf, (size_t)n) != n)
			break;
	}
}

static int run_one(const char *vm, const char *binary, const struct profile *profile, const struct vm_opts *opts,
		   const char *scenario, struct profile_result *result)
{
	struct strvec argv = STRVEC_INIT;
	struct spawn child = SPAWN_INIT;
	char *out = NULL, *sidecar = NULL, *why = NULL;
	size_t len = 0;
	int status, messages = -1, rc = -1;

	build_argv(vm, binary, profile, opts, scenario, &argv);
	child.argv = (const char *const *)argv.items;
	if (!opts->verbose) {
		messages = message_file();
		child.stderr_fd = messages;
	}
	status = spawn_capture_child(&child, &out, &len);
	if (status < 0)
		goto free_argv;

	sidecar = last_line(out, len);
	if (!sidecar || !fs_is_file(sidecar)) {
		replay_messages(messages);
		err_msg("profile '%s': ktstr-vm exited with status %d without writing a sidecar", profile->name,
			status);
		goto free_out;
	}

	enum json_error kind;
	jv doc = json_read_file(sidecar, &kind, &why);
	if (jv_get_kind(doc) != JV_KIND_OBJECT) {
		err_msg("profile '%s': cannot read the sidecar '%s': %s", profile->name, sidecar,
			why ? why : json_error_name(kind));
		jv_free(doc);
		goto free_out;
	}
	profile_result_from_sidecar(doc, sidecar, result);
	jv_free(doc);

	/* The sidecar names the profile as ktstr-vm resolved it; keep ours. */
	free(result->profile);
	result->profile = xstrdup(profile->name);
	if (result->outcome == RUN_ERROR)
		replay_messages(messages);
	debug_msg("profile '%s': ktstr-vm exit status %d, sidecar '%s'", profile->name, status, sidecar);
	rc = 0;

free_out:
	free(why);
	free(sidecar);
	free(out);
free_argv:
	if (messages >= 0)
		close(messages);
	strvec_release(&argv);
	return rc;
}

/* Write the scenario file into a new temporary directory; returns the
 * directory (malloc'd) or NULL after a message. */
static char *write_scenario(char **scenario)
{
	char *dir = temp_template();

	if (!mkdtemp(dir)) {
		err_errno("cannot create a temporary directory '%s'", dir);
		free(dir);
		return NULL;
	}
	*scenario = fs_path_join(dir, "verifier.json");
	if (fs_write_atomic(*scenario, scenario_text, sizeof(scenario_text) - 1, 0644) != 0) {
		err_errno("cannot write '%s'", *scenario);
		fs_rm_rf(dir);
		free(*scenario);
		free(dir);
		return NULL;
	}
	return dir;
}

int vm_run_profiles(const char *binary, const struct profile *profiles, size_t count, const struct vm_opts *opts,
		    struct verifier_result *result)
{
	char *vm = paths_tool("ktstr-vm");
	char *scenario = NULL;
	char *scenario_dir = write_scenario(&scenario);
	int rc = scenario_dir ? 0 : -1;

	result->scheduler = xstrdup(fs_basename(binary));
	result->scheduler_path = fs_realpath(binary);
	if (!result->scheduler_path)
		result->scheduler_path = xstrdup(binary);

	for (size_t i = 0; i < count && rc == 0; i++) {
		fprintf(stderr, "%s: [%zu/%zu] profile: %s\n", status_label(), i + 1, count, profiles[i].name);
		if (run_one(vm, binary, &profiles[i], opts, scenario, verifier_result_add(result)) != 0) {
			result->nr_profiles--;
			profile_result_release(&result->profiles[result->nr_profiles]);
			rc = -1;
		}
	}
	if (scenario_dir)
		fs_rm_rf(scenario_dir);
	free(scenario_dir);
	free(scenario);
	free(vm);
	return rc;
}
