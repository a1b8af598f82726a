/* --scheduler PKG: build the package with cargo and find its binary in
 * cargo's JSON messages. */
#include "verifier.h"

#include "diag.h"
#include "exec_search.h"
#include "json.h"
#include "spawn.h"

#include <stdlib.h>
#include <string.h>

/*
 * The package name in a cargo package id.  Since cargo 1.77 ids are specs:
 * "path+file:///ws/sched#fake-sched@0.1.0", or "path+file:///ws/fake-sched#0.1.0"
 * when the name is the last path segment.  Older cargo writes
 * "fake-sched 0.1.0 (path+file:///ws/fake-sched)".  Malloc'd.
 */
static char *package_id_name(const char *id)
{
	const char *hash = strrchr(id, '#');

	if (!hash)
		return xstrndup(id, strcspn(id, " "));

	const char *at = strchr(hash + 1, '@');
	if (at)
		return xstrndup(hash + 1, (size_t)(at - hash - 1));

	/* The name is the URL's last path segment, before any query. */
	size_t url_len = (size_t)(hash - id);
	const char *query = memchr(id, '?', url_len);
	if (query)
		url_len = (size_t)(query - id);
	while (url_len > 0 && id[url_len - 1] == '/')
		url_len--;
	const char *segment = id + url_len;
	while (segment > id && segment[-1] != '/')
		segment--;
	return xstrndup(segment, (size_t)(id + url_len - segment));
}

static bool has_bin_kind(jv target)
{
	jv kinds = jv_object_get(jv_copy(target), jv_string("kind"));
	bool found = false;

	if (jv_get_kind(kinds) == JV_KIND_ARRAY) {
		jv_array_foreach(kinds, i, kind) {
			if (jv_get_kind(kind) == JV_KIND_STRING && !strcmp(jv_string_value(kind), "bin"))
				found = true;
			jv_free(kind);
		}
	}
	jv_free(kinds);
	return found;
}

struct artifacts {
	struct strvec targets;     /* bin target names of the package */
	struct strvec executables; /* their paths, in the same order */
};

/* Take one line of cargo's output: keep the package's binaries and print
 * the compiler's errors, which --message-format=json puts on stdout. */
static void take_message(const char *line, size_t len, const char *package, struct artifacts *found)
{
	jv msg = json_parse(line, len, NULL, NULL);
	const char *reason;

	if (jv_get_kind(msg) != JV_KIND_OBJECT)
		goto free_msg;
	reason = json_str(msg, "reason");
	if (reason && !strcmp(reason, "compiler-message")) {
		jv message = jv_object_get(jv_copy(msg), jv_string("message"));
		const char *level = json_str(message, "level");
		const char *rendered = json_str(message, "rendered");

		if (rendered && level && (!strcmp(level, "error") || !strcmp(level, "warning")))
			fputs(rendered, stderr);
		jv_free(message);
		goto free_msg;
	}
	if (!reason || strcmp(reason, "compiler-artifact"))
		goto free_msg;

	const char *id = json_str(msg, "package_id");
	const char *executable = json_str(msg, "executable");
	jv target = jv_object_get(jv_copy(msg), jv_string("target"));
	const char *target_name = jv_get_kind(target) == JV_KIND_OBJECT ? json_str(target, "name") : NULL;

	if (id && executable && target_name && has_bin_kind(target)) {
		char *name = package_id_name(id);
		size_t want = strcspn(package, "@");

		if (strlen(name) == want && !strncmp(name, package, want)) {
			strvec_push(&found->targets, target_name);
			strvec_push(&found->executables, executable);
		}
		free(name);
	}
	jv_free(target);
free_msg:
	jv_free(msg);
}

static char *pick_binary(const char *package, const struct artifacts *found)
{
	size_t want = strcspn(package, "@");

	if (found->executables.len == 1)
		return xstrdup(found->executables.items[0]);
	for (size_t i = 0; i < found->targets.len; i++) {
		if (strlen(found->targets.items[i]) == want && !strncmp(found->targets.items[i], package, want))
			return xstrdup(found->executables.items[i]);
	}
	if (found->executables.len == 0) {
		err_msg("cargo built no binary for package '%s': it has no bin target; pass the scheduler "
			"with --scheduler-bin PATH", package);
		return NULL;
	}

	char *names = xstrdup("");
	for (size_t i = 0; i < found->targets.len; i++) {
		char *longer = xasprintf("%s%s%s", names, i ? ", " : "", found->targets.items[i]);
		free(names);
		names = longer;
	}
	err_msg("package '%s' has several binaries (%s) and none is named after it; pass one with "
		"--scheduler-bin PATH", package, names);
	free(names);
	return NULL;
}

char *cargo_build_scheduler(const char *package)
{
	const char *cargo_env = getenv("CARGO");
	char *cargo = cargo_env && *cargo_env ? xstrdup(cargo_env) : exec_search("cargo");
	struct artifacts found = { STRVEC_INIT, STRVEC_INIT };
	struct spawn child = SPAWN_INIT;
	char *out = NULL, *binary = NULL;
	size_t len = 0;
	int status;

	if (!cargo) {
		err_msg("cannot build scheduler package '%s': cargo not found on PATH; install Rust's cargo "
			"or pass the binary with --scheduler-bin PATH", package);
		return NULL;
	}

	const char *argv[] = { cargo, "build", "-p", package, "--message-format=json", NULL };
	info_msg("building scheduler package '%s' with cargo", package);
	child.argv = argv;
	status = spawn_capture_child(&child, &out, &len);
	if (status < 0)
		goto free_cargo;

	for (const char *line = out; line < out + len;) {
		const char *nl = memchr(line, '\n', (size_t)(out + len - line));
		size_t line_len = nl ? (size_t)(nl - line) : (size_t)(out + len - line);

		take_message(line, line_len, package, &found);
		line += line_len + 1;
	}

	if (status == 127 || status == 126)
		err_msg("cannot run '%s' to build scheduler package '%s' (exit status %d)", cargo, package, status);
	else if (status != 0)
		err_msg("cargo build of scheduler package '%s' failed (exit status %d); see cargo's messages "
			"above", package, status);
	else
		binary = pick_binary(package, &found);

	free(out);
	strvec_release(&found.targets);
	strvec_release(&found.executables);
free_cargo:
	free(cargo);
	return binary;
}
