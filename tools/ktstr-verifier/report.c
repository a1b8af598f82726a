/* The report: per-profile program tables, the profile summary, the A/B
 * comparison, and the same as JSON. */
#include "verifier.h"

#include "json.h"

#include <stdlib.h>
#include <string.h>

#define NAME_MIN_WIDTH 24

/* A program name in the order first seen across profiles. */
struct program_list {
	struct strvec names;
};

static bool list_has(const struct program_list *list, const char *name)
{
	for (size_t i = 0; i < list->names.len; i++) {
		if (!strcmp(list->names.items[i], name))
			return true;
	}
	return false;
}

static void list_add_profile(struct program_list *list, const struct profile_result *profile)
{
	for (size_t i = 0; i < profile->nr_progs; i++) {
		if (!list_has(list, profile->progs[i].name))
			strvec_push(&list->names, profile->progs[i].name);
	}
}

static int name_width(const struct program_list *list)
{
	size_t width = NAME_MIN_WIDTH;

	for (size_t i = 0; i < list->names.len; i++) {
		if (strlen(list->names.items[i]) > width)
			width = strlen(list->names.items[i]);
	}
	return (int)width;
}

static long long total_insns(const struct profile_result *profile)
{
	long long total = 0;

	for (size_t i = 0; i < profile->nr_progs; i++) {
		if (profile->progs[i].verified_insns > 0)
			total += profile->progs[i].verified_insns;
	}
	return total;
}

/* The scheduler log as the report shows it, malloc'd. */
static char *shown_log(const char *log, const struct report_opts *opts)
{
	if (opts->raw)
		return xstrdup(log);
	return verifier_log_collapse(log, strlen(log), NULL);
}

/* ---- Text ---- */

static void print_programs(FILE *out, const struct profile_result *profile)
{
	struct program_list list = { STRVEC_INIT };
	int width;

	list_add_profile(&list, profile);
	width = name_width(&list);
	fprintf(out, "  %-*s  %-12s  %14s  %7s\n", width, "program", "type", "verified_insns", "limit%");
	for (size_t i = 0; i < profile->nr_progs; i++) {
		const struct prog_result *prog = &profile->progs[i];
		const char *type = prog->type ? prog->type : "-";

		if (prog->verified_insns < 0) {
			fprintf(out, "  %-*s  %-12s  %14s  %7s\n", width, prog->name, type, "-", "-");
			continue;
		}
		fprintf(out, "  %-*s  %-12s  %14lld  %6.1f%%%s\n", width, prog->name, type, prog->verified_insns,
			verifier_log_limit_pct(prog->verified_insns),
			verifier_log_near_limit(prog->verified_insns) ? " !" : "");
	}
	strvec_release(&list.names);
}

static void print_failures(FILE *out, const struct profile_result *profile)
{
	if (profile->nr_failures == 0)
		return;
	fprintf(out, "%s --- verifier stats ---\n", profile->profile);
	for (size_t i = 0; i < profile->nr_failures; i++) {
		const struct load_failure *failure = &profile->failures[i];

		fprintf(out, "  %s", failure->program);
		if (failure->error)
			fprintf(out, "  error=%s", failure->error);
		if (failure->has_stats) {
			fprintf(out, "  processed=%lld", failure->stats.processed_insns);
			if (failure->stats.peak_states >= 0 && failure->stats.total_states >= 0)
				fprintf(out, "  states=%lld/%lld", failure->stats.peak_states, failure->stats.total_states);
			if (failure->stats.time_usec >= 0)
				fprintf(out, "  time=%lldus", failure->stats.time_usec);
			if (failure->stats.stack_depth)
				fprintf(out, "  stack=%s", failure->stats.stack_depth);
		}
		fputc('\n', out);
	}
}

static void print_profile(FILE *out, const struct profile_result *profile, const struct report_opts *opts)
{
	fputc('\n', out);
	if (profile->outcome == RUN_LOADED) {
		fprintf(out, "%s: %zu program%s, %lld verified insns\n", profile->profile, profile->nr_progs,
			profile->nr_progs == 1 ? "" : "s", total_insns(profile));
		if (profile->message)
			fprintf(out, "  note: %s\n", profile->message);
		if (profile->nr_progs > 0)
			print_programs(out, profile);
		return;
	}

	fprintf(out, "%s: %s\n", profile->profile, profile->message ? profile->message : run_outcome_name(profile->outcome));
	if (profile->nr_progs > 0)
		print_programs(out, profile);
	print_failures(out, profile);
	if (profile->log && *profile->log) {
		char *log = shown_log(profile->log, opts);
		size_t len = strlen(log);

		fprintf(out, "%s --- scheduler log ---\n", profile->profile);
		fputs(log, out);
		if (len > 0 && log[len - 1] != '\n')
			fputc('\n', out);
		free(log);
	}
}

static int profile_width(const struct verifier_result *result, size_t i)
{
	int width = (int)strlen(result->profiles[i].profile);

	return width < 8 ? 8 : width;
}

static void print_summary(FILE *out, const struct verifier_result *result)
{
	struct program_list list = { STRVEC_INIT };
	int width;

	for (size_t i = 0; i < result->nr_profiles; i++)
		list_add_profile(&list, &result->profiles[i]);
	width = name_width(&list);

	fprintf(out, "\n--- profile summary ---\n");
	fprintf(out, "%-*s", width, "program");
	for (size_t i = 0; i < result->nr_profiles; i++)
		fprintf(out, "  %*s", profile_width(result, i), result->profiles[i].profile);
	fputc('\n', out);

	for (size_t p = 0; p < list.names.len; p++) {
		fprintf(out, "%-*s", width, list.names.items[p]);
		for (size_t i = 0; i < result->nr_profiles; i++) {
			long long insns = profile_result_insns(&result->profiles[i], list.names.items[p]);
			char cell[32];

			if (insns < 0)
				snprintf(cell, sizeof(cell), "-");
			else
				snprintf(cell, sizeof(cell), "%lld%s", insns, verifier_log_near_limit(insns) ? "!" : "");
			fprintf(out, "  %*s", profile_width(result, i), cell);
		}
		fputc('\n', out);
	}

	fprintf(out, "%-*s", width, "total");
	for (size_t i = 0; i < result->nr_profiles; i++) {
		const struct profile_result *profile = &result->profiles[i];

		if (profile->outcome == RUN_LOADED)
			fprintf(out, "  %*lld", profile_width(result, i), total_insns(profile));
		else
			fprintf(out, "  %*s", profile_width(result, i), "failed");
	}
	fputc('\n', out);
	strvec_release(&list.names);
}

static void print_near_limit(FILE *out, const struct verifier_result *result)
{
	bool any = false;

	for (size_t i = 0; i < result->nr_profiles; i++) {
		const struct profile_result *profile = &result->profiles[i];

		for (size_t p = 0; p < profile->nr_progs; p++) {
			const struct prog_result *prog = &profile->progs[p];

			if (!verifier_log_near_limit(prog->verified_insns))
				continue;
			if (!any)
				fprintf(out, "\nWARNING: programs at or above %d%% of the verifier's %lld-insn limit:\n",
					VERIFIER_NEAR_LIMIT_PCT, VERIFIER_INSN_LIMIT);
			any = true;
			fprintf(out, "  %s: %s %lld (%.1f%%)\n", profile->profile, prog->name, prog->verified_insns,
				verifier_log_limit_pct(prog->verified_insns));
		}
	}
}

void report_text(FILE *out, const struct verifier_result *result, const struct report_opts *opts)
{
	for (size_t i = 0; i < result->nr_profiles; i++)
		print_profile(out, &result->profiles[i], opts);
	if (result->nr_profiles > 1)
		print_summary(out, result);
	print_near_limit(out, result);
}

/* ---- JSON ---- */

static jv strings_json(const struct strvec *vec)
{
	jv array = jv_array();

	for (size_t i = 0; i < vec->len; i++)
		array = jv_array_append(array, jv_string(vec->items[i]));
	return array;
}

static jv insns_json(long long insns)
{
	return insns < 0 ? jv_null() : jv_number((double)insns);
}

static jv program_json(const struct prog_result *prog)
{
	jv obj = jv_object();

	obj = jv_object_set(obj, jv_string("name"), jv_string(prog->name));
	obj = jv_object_set(obj, jv_string("type"), json_string_or_null(prog->type));
	obj = jv_object_set(obj, jv_string("verified_insns"), insns_json(prog->verified_insns));
	obj = jv_object_set(obj, jv_string("limit_pct"),
			    prog->verified_insns < 0 ? jv_null() : jv_number(verifier_log_limit_pct(prog->verified_insns)));
	obj = jv_object_set(obj, jv_string("near_limit"), jv_bool(verifier_log_near_limit(prog->verified_insns)));
	return obj;
}

static jv failure_json(const struct load_failure *failure)
{
	jv obj = jv_object();

	obj = jv_object_set(obj, jv_string("program"), jv_string(failure->program));
	obj = jv_object_set(obj, jv_string("error"), json_string_or_null(failure->error));
	obj = jv_object_set(obj, jv_string("processed_insns"),
			    failure->has_stats ? insns_json(failure->stats.processed_insns) : jv_null());
	obj = jv_object_set(obj, jv_string("insn_limit"), insns_json(failure->stats.insn_limit));
	obj = jv_object_set(obj, jv_string("max_states_per_insn"), insns_json(failure->stats.max_states_per_insn));
	obj = jv_object_set(obj, jv_string("total_states"), insns_json(failure->stats.total_states));
	obj = jv_object_set(obj, jv_string("peak_states"), insns_json(failure->stats.peak_states));
	obj = jv_object_set(obj, jv_string("mark_read"), insns_json(failure->stats.mark_read));
	obj = jv_object_set(obj, jv_string("time_usec"), insns_json(failure->stats.time_usec));
	obj = jv_object_set(obj, jv_string("stack_depth"), json_string_or_null(failure->stats.stack_depth));
	return obj;
}

static jv profile_json(const struct profile_result *profile, const struct report_opts *opts)
{
	jv obj = jv_object(), progs = jv_array(), failures = jv_array();

	for (size_t i = 0; i < profile->nr_progs; i++)
		progs = jv_array_append(progs, program_json(&profile->progs[i]));
	for (size_t i = 0; i < profile->nr_failures; i++)
		failures = jv_array_append(failures, failure_json(&profile->failures[i]));

	obj = jv_object_set(obj, jv_string("profile"), jv_string(profile->profile));
	obj = jv_object_set(obj, jv_string("active_flags"), strings_json(&profile->flags));
	obj = jv_object_set(obj, jv_string("scheduler_args"), strings_json(&profile->args));
	obj = jv_object_set(obj, jv_string("outcome"), jv_string(run_outcome_name(profile->outcome)));
	obj = jv_object_set(obj, jv_string("message"), json_string_or_null(profile->message));
	obj = jv_object_set(obj, jv_string("total_verified_insns"), jv_number((double)total_insns(profile)));
	obj = jv_object_set(obj, jv_string("programs"), progs);
	obj = jv_object_set(obj, jv_string("load_failures"), failures);
	if (profile->log) {
		char *log = shown_log(profile->log, opts);
		obj = jv_object_set(obj, jv_string("scheduler_log"), jv_string(log));
		free(log);
	} else {
		obj = jv_object_set(obj, jv_string("scheduler_log"), jv_null());
	}
	obj = jv_object_set(obj, jv_string("scheduler_log_collapsed"), jv_bool(profile->log && !opts->raw));
	obj = jv_object_set(obj, jv_string("kernel_version"), json_string_or_null(profile->kernel_version));
	obj = jv_object_set(obj, jv_string("sidecar"), json_string_or_null(profile->sidecar));
	obj = jv_object_set(obj, jv_string("run_id"), json_string_or_null(profile->run_id));
	return obj;
}

static jv summary_json(const struct verifier_result *result)
{
	struct program_list list = { STRVEC_INIT };
	jv rows = jv_array();

	for (size_t i = 0; i < result->nr_profiles; i++)
		list_add_profile(&list, &result->profiles[i]);
	for (size_t p = 0; p < list.names.len; p++) {
		jv by_profile = jv_object(), row = jv_object();

		for (size_t i = 0; i < result->nr_profiles; i++)
			by_profile = jv_object_set(by_profile, jv_string(result->profiles[i].profile),
						   insns_json(profile_result_insns(&result->profiles[i],
										   list.names.items[p])));
		row = jv_object_set(row, jv_string("program"), jv_string(list.names.items[p]));
		row = jv_object_set(row, jv_string("verified_insns"), by_profile);
		rows = jv_array_append(rows, row);
	}
	strvec_release(&list.names);
	return rows;
}

jv report_json(const struct verifier_result *result, const struct report_opts *opts)
{
	jv doc = jv_object(), profiles = jv_array();

	for (size_t i = 0; i < result->nr_profiles; i++)
		profiles = jv_array_append(profiles, profile_json(&result->profiles[i], opts));
	doc = jv_object_set(doc, jv_string("schema_version"), jv_number(VERIFIER_SCHEMA_VERSION));
	doc = jv_object_set(doc, jv_string("ktstr_version"), jv_string(KTSTR_VERSION));
	doc = jv_object_set(doc, jv_string("scheduler"), jv_string(result->scheduler ? result->scheduler : "unknown"));
	doc = jv_object_set(doc, jv_string("scheduler_path"), json_string_or_null(result->scheduler_path));
	doc = jv_object_set(doc, jv_string("insn_limit"), jv_number((double)VERIFIER_INSN_LIMIT));
	doc = jv_object_set(doc, jv_string("near_limit_pct"), jv_number(VERIFIER_NEAR_LIMIT_PCT));
	doc = jv_object_set(doc, jv_string("profiles"), profiles);
	doc = jv_object_set(doc, jv_string("summary"), result->nr_profiles > 1 ? summary_json(result) : jv_null());
	return doc;
}

/* ---- A/B ---- */

static const struct profile_result *find_profile(const struct verifier_result *result, const char *name)
{
	for (size_t i = 0; i < result->nr_profiles; i++) {
		if (!strcmp(result->profiles[i].profile, name))
			return &result->profiles[i];
	}
	return NULL;
}

/* B's side of A's i-th profile: the profile of the same name, or, when each
 * side has a single profile, that one whatever its name. */
static const struct profile_result *diff_partner(const struct verifier_result *a, size_t i,
						 const struct verifier_result *b)
{
	if (a->nr_profiles == 1 && b->nr_profiles == 1)
		return &b->profiles[0];
	return find_profile(b, a->profiles[i].profile);
}

size_t report_diff_pairs(const struct verifier_result *a, const struct verifier_result *b)
{
	size_t pairs = 0;

	for (size_t i = 0; i < a->nr_profiles; i++)
		pairs += diff_partner(a, i, b) != NULL;
	return pairs;
}

static void format_delta(char *cell, size_t size, long long a, long long b)
{
	if (a < 0 || b < 0)
		snprintf(cell, size, "-");
	else if (b == a)
		snprintf(cell, size, "0");
	else
		snprintf(cell, size, "%+lld", b - a);
}

static void format_insns(char *cell, size_t size, long long insns)
{
	if (insns < 0)
		snprintf(cell, size, "-");
	else
		snprintf(cell, size, "%lld", insns);
}

static void print_diff_row(FILE *out, int width, const char *name, long long a, long long b)
{
	char a_cell[32], b_cell[32], delta_cell[32];

	format_insns(a_cell, sizeof(a_cell), a);
	format_insns(b_cell, sizeof(b_cell), b);
	format_delta(delta_cell, sizeof(delta_cell), a, b);
	fprintf(out, "%-*s  %12s  %12s  %10s\n", width, name, a_cell, b_cell, delta_cell);
}

static void print_diff_title(FILE *out, const struct profile_result *pa, const char *a_label,
			     const struct profile_result *pb, const char *b_label)
{
	if (!strcmp(pa->profile, pb->profile))
		fprintf(out, "\n--- A/B %s: %s vs %s ---\n", pa->profile, a_label, b_label);
	else
		fprintf(out, "\n--- A/B: %s (%s) vs %s (%s) ---\n", a_label, pa->profile, b_label, pb->profile);
}

void report_diff_text(FILE *out, const struct verifier_result *a, const char *a_label,
		      const struct verifier_result *b, const char *b_label)
{
	for (size_t i = 0; i < a->nr_profiles; i++) {
		const struct profile_result *pa = &a->profiles[i];
		const struct profile_result *pb = diff_partner(a, i, b);
		struct program_list list = { STRVEC_INIT };
		int width;

		if (!pb)
			continue;
		/* A's programs in A's order, then those only B has. */
		list_add_profile(&list, pa);
		list_add_profile(&list, pb);
		width = name_width(&list);

		print_diff_title(out, pa, a_label, pb, b_label);
		if (pa->outcome != RUN_LOADED)
			fprintf(out, "A: %s\n", pa->message ? pa->message : run_outcome_name(pa->outcome));
		if (pb->outcome != RUN_LOADED)
			fprintf(out, "B: %s\n", pb->message ? pb->message : run_outcome_name(pb->outcome));
		fprintf(out, "%-*s  %12s  %12s  %10s\n", width, "program", "A", "B", "delta");
		for (size_t p = 0; p < list.names.len; p++)
			print_diff_row(out, width, list.names.items[p], profile_result_insns(pa, list.names.items[p]),
				       profile_result_insns(pb, list.names.items[p]));
		print_diff_row(out, width, "total", total_insns(pa), total_insns(pb));
		strvec_release(&list.names);
	}
}

jv report_diff_json(const struct verifier_result *a, const char *a_label, const struct verifier_result *b,
		    const char *b_label, const struct report_opts *opts)
{
	jv doc = jv_object(), diff = jv_array();

	for (size_t i = 0; i < a->nr_profiles; i++) {
		const struct profile_result *pa = &a->profiles[i];
		const struct profile_result *pb = diff_partner(a, i, b);
		struct program_list list = { STRVEC_INIT };
		jv rows = jv_array(), entry = jv_object();

		if (!pb)
			continue;
		list_add_profile(&list, pa);
		list_add_profile(&list, pb);
		for (size_t p = 0; p < list.names.len; p++) {
			long long ia = profile_result_insns(pa, list.names.items[p]);
			long long ib = profile_result_insns(pb, list.names.items[p]);
			jv row = jv_object();

			row = jv_object_set(row, jv_string("program"), jv_string(list.names.items[p]));
			row = jv_object_set(row, jv_string("a"), insns_json(ia));
			row = jv_object_set(row, jv_string("b"), insns_json(ib));
			row = jv_object_set(row, jv_string("delta"),
					    ia < 0 || ib < 0 ? jv_null() : jv_number((double)(ib - ia)));
			rows = jv_array_append(rows, row);
		}
		entry = jv_object_set(entry, jv_string("a_profile"), jv_string(pa->profile));
		entry = jv_object_set(entry, jv_string("b_profile"), jv_string(pb->profile));
		entry = jv_object_set(entry, jv_string("programs"), rows);
		entry = jv_object_set(entry, jv_string("a_total"), jv_number((double)total_insns(pa)));
		entry = jv_object_set(entry, jv_string("b_total"), jv_number((double)total_insns(pb)));
		diff = jv_array_append(diff, entry);
		strvec_release(&list.names);
	}

	doc = jv_object_set(doc, jv_string("schema_version"), jv_number(VERIFIER_SCHEMA_VERSION));
	doc = jv_object_set(doc, jv_string("ktstr_version"), jv_string(KTSTR_VERSION));
	doc = jv_object_set(doc, jv_string("a_label"), jv_string(a_label));
	doc = jv_object_set(doc, jv_string("b_label"), jv_string(b_label));
	doc = jv_object_set(doc, jv_string("a"), report_json(a, opts));
	doc = jv_object_set(doc, jv_string("b"), report_json(b, opts));
	doc = jv_object_set(doc, jv_string("diff"), diff);
	return doc;
}
