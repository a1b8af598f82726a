/* One ktstr-vm run per profile: ktstr-vm boots the kernel, starts the
 * scheduler with the profile's arguments, reads every loaded BPF program's
 * verified_insns in the guest, writes the sidecar and prints it with --json. */
#include "verifier.h"

#include "diag.h"
#include "fsutil.h"
#include "json.h"
#include "paths.h"
#include "spawn.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The label of status lines: "cargo ktstr" when the dispatcher ran us. */
static const char *status_label(void)
{
	const char *label = getenv("KTSTR_LABEL");

	return label && *label ? label : diag_progname;
}

/* --sched-args takes one string, split at white space in the guest. */
static char *join_args(const struct strvec *args)
{
	char *joined = xstrdup("");

	for (size_t i = 0; i < args->len; i++) {
		char *longer = xasprintf("%s%s%s", joined, i ? " " : "", args->items[i]);
		free(joined);
		joined = longer;
	}
	return joined;
}

static void build_argv(const char *vm, const char *binary, const struct profile *profile,
		       const struct vm_opts *opts, const char *sched_args, struct strvec *argv)
{
	strvec_push(argv, vm);
	strvec_push(argv, "--json");
	strvec_push(argv, "--scheduler");
	strvec_push(argv, binary);
	strvec_push(argv, "--sched-args");
	strvec_push(argv, sched_args);
	strvec_push(argv, "--profile");
	strvec_push(argv, profile->name);
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

/* The sidecar path in a ktstr-vm report, when it names one. */
static const char *report_sidecar(jv doc)
{
	return json_str(doc, "sidecar_path");
}

static int run_one(const char *vm, const char *binary, const struct profile *profile, const struct vm_opts *opts,
		   struct profile_result *result)
{
	struct strvec argv = STRVEC_INIT;
	struct spawn child = SPAWN_INIT;
	char *sched_args = join_args(&profile->args);
	char *out = NULL, *parse_error = NULL;
	size_t len = 0;
	int status, rc = -1;

	build_argv(vm, binary, profile, opts, sched_args, &argv);
	child.argv = (const char *const *)argv.items;
	status = spawn_capture_child(&child, &out, &len);
	if (status < 0)
		goto free_argv;

	jv doc = json_parse(out, len, NULL, &parse_error);
	if (jv_get_kind(doc) != JV_KIND_OBJECT) {
		err_msg("profile '%s': ktstr-vm exited with status %d without a JSON report%s%s", profile->name, status,
			parse_error ? ": " : "", parse_error ? parse_error : "");
		jv_free(doc);
		goto free_out;
	}

	profile_result_from_sidecar(doc, report_sidecar(doc), result);
	free(result->profile);
	result->profile = xstrdup(profile->name);
	if (result->flags.len == 0) {
		for (size_t i = 0; i < profile->flags.len; i++)
			strvec_push(&result->flags, profile->flags.items[i]);
	}
	if (result->args.len == 0) {
		for (size_t i = 0; i < profile->args.len; i++)
			strvec_push(&result->args, profile->args.items[i]);
	}
	jv_free(doc);
	rc = 0;

free_out:
	free(out);
	free(parse_error);
free_argv:
	strvec_release(&argv);
	free(sched_args);
	return rc;
}

int vm_run_profiles(const char *binary, const struct profile *profiles, size_t count, const struct vm_opts *opts,
		    struct verifier_result *result)
{
	char *vm = paths_tool("ktstr-vm");
	int rc = 0;

	result->scheduler = xstrdup(fs_basename(binary));
	result->scheduler_path = fs_realpath(binary);
	if (!result->scheduler_path)
		result->scheduler_path = xstrdup(binary);

	for (size_t i = 0; i < count && rc == 0; i++) {
		fprintf(stderr, "%s: [%zu/%zu] profile: %s\n", status_label(), i + 1, count, profiles[i].name);
		if (run_one(vm, binary, &profiles[i], opts, verifier_result_add(result)) != 0) {
			result->nr_profiles--;
			profile_result_release(&result->profiles[result->nr_profiles]);
			rc = -1;
		}
	}
	free(vm);
	return rc;
}
