/* The report for scripts: the same analysis as the text, as one JSON object. */
#include "stats.h"

#include "json.h"

#include <math.h>
#include <string.h>

/* Version of the --json document's layout. */
#define STATS_JSON_VERSION 1

static jv number_or_null(double value)
{
	return isnan(value) ? jv_null() : jv_number(value);
}

static jv outcome_counts(const unsigned outcomes[OUTCOME_COUNT])
{
	jv counts = jv_object();

	for (int o = 0; o < OUTCOME_COUNT; o++)
		counts = jv_object_set(counts, jv_string(outcome_names[o]), jv_number(outcomes[o]));
	return counts;
}

static unsigned failed_of(const unsigned outcomes[OUTCOME_COUNT])
{
	unsigned failed = 0;

	for (int o = 0; o < OUTCOME_COUNT; o++) {
		if (outcome_failed((enum outcome)o))
			failed += outcomes[o];
	}
	return failed;
}

static const char *group_name(const struct report *report, enum dimension_id dim, uint32_t row)
{
	return report->dims[dim].names.keys[report->rows[row].group[dim]];
}

static jv metrics_json(void)
{
	jv metrics = jv_array();

	for (int m = 0; m < METRIC_COUNT; m++) {
		const struct metric_def *def = &metric_defs[m];
		jv metric = jv_object();

		metric = jv_object_set(metric, jv_string("name"), jv_string(def->name));
		metric = jv_object_set(metric, jv_string("path"), jv_string(def->path));
		metric = jv_object_set(metric, jv_string("description"), jv_string(def->doc));
		metric = jv_object_set(metric, jv_string("higher_is_better"), jv_bool(def->higher_is_better));
		metrics = jv_array_append(metrics, metric);
	}
	return metrics;
}

static jv dimension_json(const struct report *report, enum dimension_id dim)
{
	const struct dimension *dimension = &report->dims[dim];
	jv groups = jv_array();

	for (size_t i = 0; i < dimension->names.len; i++) {
		uint32_t id = dimension->order[i];
		const struct group *group = &dimension->groups[id];
		jv medians = jv_object();
		jv entry = jv_object();

		for (int m = 0; m < METRIC_COUNT; m++)
			medians = jv_object_set(medians, jv_string(metric_defs[m].name), number_or_null(group->median[m]));
		entry = jv_object_set(entry, jv_string("name"), jv_string(dimension->names.keys[id]));
		entry = jv_object_set(entry, jv_string("runs"), jv_number(group->runs));
		entry = jv_object_set(entry, jv_string("passed"), jv_number(group->outcomes[OUTCOME_PASS]));
		entry = jv_object_set(entry, jv_string("failed"), jv_number(failed_of(group->outcomes)));
		entry = jv_object_set(entry, jv_string("skipped"), jv_number(group->outcomes[OUTCOME_SKIPPED]));
		entry = jv_object_set(entry, jv_string("interrupted"),
				      jv_number(group->outcomes[OUTCOME_INTERRUPTED]));
		entry = jv_object_set(entry, jv_string("failure_rate"), number_or_null(failure_rate(group->outcomes)));
		entry = jv_object_set(entry, jv_string("stalls"), jv_number(group->stalls));
		entry = jv_object_set(entry, jv_string("outcomes"), outcome_counts(group->outcomes));
		entry = jv_object_set(entry, jv_string("medians"), medians);
		groups = jv_array_append(groups, entry);
	}
	return groups;
}

static jv failed_runs_json(const struct report *report)
{
	jv runs = jv_array();

	for (size_t i = 0; i < report->nr_failed; i++) {
		const struct failed_run *failed = &report->failed[i];
		jv entry = jv_object();

		entry = jv_object_set(entry, jv_string("path"), jv_string(report_path(report, failed->row)));
		entry = jv_object_set(entry, jv_string("scenario"), jv_string(group_name(report, DIM_SCENARIO, failed->row)));
		entry = jv_object_set(entry, jv_string("topology"), jv_string(group_name(report, DIM_TOPOLOGY, failed->row)));
		entry = jv_object_set(entry, jv_string("profile"), jv_string(group_name(report, DIM_PROFILE, failed->row)));
		entry = jv_object_set(entry, jv_string("scheduler"), jv_string(group_name(report, DIM_SCHEDULER, failed->row)));
		entry = jv_object_set(entry, jv_string("outcome"),
				      jv_string(outcome_names[report->rows[failed->row].outcome]));
		entry = jv_object_set(entry, jv_string("check"), json_string_or_null(failed->check));
		entry = jv_object_set(entry, jv_string("message"), json_string_or_null(failed->message));
		runs = jv_array_append(runs, entry);
	}
	return runs;
}

static jv outliers_json(const struct report *report)
{
	jv found = jv_array();
	jv outliers = jv_object();

	for (size_t i = 0; i < report->nr_outliers; i++) {
		const struct outlier *outlier = &report->outliers[i];
		jv entry = jv_object();

		entry = jv_object_set(entry, jv_string("path"), jv_string(report_path(report, outlier->row)));
		entry = jv_object_set(entry, jv_string("scenario"), jv_string(group_name(report, DIM_SCENARIO, outlier->row)));
		entry = jv_object_set(entry, jv_string("topology"), jv_string(group_name(report, DIM_TOPOLOGY, outlier->row)));
		entry = jv_object_set(entry, jv_string("profile"), jv_string(group_name(report, DIM_PROFILE, outlier->row)));
		entry = jv_object_set(entry, jv_string("metric"), jv_string(metric_defs[outlier->metric].name));
		entry = jv_object_set(entry, jv_string("value"), jv_number(outlier->value));
		entry = jv_object_set(entry, jv_string("median"), jv_number(outlier->median));
		entry = jv_object_set(entry, jv_string("score"), jv_number(outlier->score));
		found = jv_array_append(found, entry);
	}
	outliers = jv_object_set(outliers, jv_string("method"), jv_string("modified_z_score"));
	outliers = jv_object_set(outliers, jv_string("threshold"), jv_number(OUTLIER_THRESHOLD));
	outliers = jv_object_set(outliers, jv_string("min_runs"), jv_number(OUTLIER_MIN_RUNS));
	outliers = jv_object_set(outliers, jv_string("found"), found);
	return outliers;
}

static jv stimulus_entry(jv name, const struct stimulus_row *row)
{
	jv entry = jv_object();

	entry = jv_object_set(entry, jv_string("stimulus"), name);
	entry = jv_object_set(entry, jv_string("runs"), jv_number(row->runs));
	entry = jv_object_set(entry, jv_string("outcomes"), outcome_counts(row->outcomes));
	return entry;
}

static jv stimuli_json(const struct report *report)
{
	jv rows = jv_array();

	if (!report->runs_with_stimuli)
		return jv_null();
	for (size_t s = 0; s < report->stimuli.len; s++)
		rows = jv_array_append(rows, stimulus_entry(jv_string(report->stimuli.keys[s]), &report->stimulus_rows[s]));
	/* Runs without stimulus events form the row whose stimulus is null. */
	if (report->no_stimulus.runs)
		rows = jv_array_append(rows, stimulus_entry(jv_null(), &report->no_stimulus));
	return rows;
}

static jv gauntlet_json(const struct report *report)
{
	jv gauntlet = jv_object();
	jv dimensions = jv_object();

	if (!report->nr_rows)
		return jv_null();
	for (int d = 0; d < DIM_COUNT; d++)
		dimensions = jv_object_set(dimensions, jv_string(dimension_defs[d].name),
					   dimension_json(report, (enum dimension_id)d));
	gauntlet = jv_object_set(gauntlet, jv_string("runs"), jv_number((double)report->nr_rows));
	gauntlet = jv_object_set(gauntlet, jv_string("passed"), jv_number(report->outcomes[OUTCOME_PASS]));
	gauntlet = jv_object_set(gauntlet, jv_string("failed"), jv_number(failed_of(report->outcomes)));
	gauntlet = jv_object_set(gauntlet, jv_string("skipped"), jv_number(report->outcomes[OUTCOME_SKIPPED]));
	gauntlet = jv_object_set(gauntlet, jv_string("interrupted"),
				 jv_number(report->outcomes[OUTCOME_INTERRUPTED]));
	gauntlet = jv_object_set(gauntlet, jv_string("unmeasured"), jv_number(report->unmeasured_rows));
	gauntlet = jv_object_set(gauntlet, jv_string("failure_rate"), number_or_null(failure_rate(report->outcomes)));
	gauntlet = jv_object_set(gauntlet, jv_string("outcomes"), outcome_counts(report->outcomes));
	gauntlet = jv_object_set(gauntlet, jv_string("metrics"), metrics_json());
	gauntlet = jv_object_set(gauntlet, jv_string("dimensions"), dimensions);
	gauntlet = jv_object_set(gauntlet, jv_string("failed_runs"), failed_runs_json(report));
	gauntlet = jv_object_set(gauntlet, jv_string("outliers"), outliers_json(report));
	gauntlet = jv_object_set(gauntlet, jv_string("stimulus_outcomes"), stimuli_json(report));
	return gauntlet;
}

/* A program entry with "scheduler" and "name" split from its key. */
static jv program_entry(const struct report *report, uint32_t id)
{
	const char *key = report->programs.keys[id];
	size_t len = strcspn(key, "\t");
	jv entry = jv_object();

	entry = jv_object_set(entry, jv_string("scheduler"), jv_string_sized(key, (int)len));
	entry = jv_object_set(entry, jv_string("name"), jv_string(key[len] ? key + len + 1 : ""));
	return entry;
}

static jv verifier_json(const struct report *report)
{
	jv programs = jv_array();
	jv verifier = jv_object();
	long long total = 0;

	if (!report->nr_verifier)
		return jv_null();
	for (size_t i = 0; i < report->nr_verifier; i++) {
		uint32_t id = report->verifier_order[i];
		const struct program_stat *stat = &report->program_stats[id];
		double pct = 100.0 * (double)stat->verified_insns / VERIFIER_INSN_LIMIT;
		jv entry = program_entry(report, id);

		entry = jv_object_set(entry, jv_string("verified_insns"), jv_number((double)stat->verified_insns));
		entry = jv_object_set(entry, jv_string("limit_pct"), jv_number(pct));
		entry = jv_object_set(entry, jv_string("near_limit"), jv_bool(pct >= VERIFIER_WARN_PCT));
		entry = jv_object_set(entry, jv_string("runs"), jv_number(stat->verifier_runs));
		programs = jv_array_append(programs, entry);
		total += stat->verified_insns;
	}
	verifier = jv_object_set(verifier, jv_string("limit"), jv_number(VERIFIER_INSN_LIMIT));
	verifier = jv_object_set(verifier, jv_string("warn_pct"), jv_number(VERIFIER_WARN_PCT));
	verifier = jv_object_set(verifier, jv_string("total_verified_insns"), jv_number((double)total));
	verifier = jv_object_set(verifier, jv_string("programs"), programs);
	return verifier;
}

static jv callback_profile_json(const struct report *report)
{
	jv programs = jv_array();

	if (!report->nr_profile)
		return jv_null();
	for (size_t i = 0; i < report->nr_profile; i++) {
		uint32_t id = report->profile_order[i];
		const struct program_stat *stat = &report->program_stats[id];
		jv entry = program_entry(report, id);

		entry = jv_object_set(entry, jv_string("runs"), jv_number(stat->profile_runs));
		entry = jv_object_set(entry, jv_string("cnt"), jv_number((double)stat->cnt));
		entry = jv_object_set(entry, jv_string("nsecs"), jv_number((double)stat->nsecs));
		entry = jv_object_set(entry, jv_string("avg_ns"), jv_number((double)stat->nsecs / (double)stat->cnt));
		programs = jv_array_append(programs, entry);
	}
	return programs;
}

static jv kvm_json(const struct report *report)
{
	const struct kvm_totals *kvm = &report->kvm;
	double poll = kvm->halt_attempted_poll > 0 ? 100.0 * kvm->halt_successful_poll / kvm->halt_attempted_poll
						   : NAN;
	jv out = jv_object();

	if (!kvm->vms && !kvm->tcg_runs)
		return jv_null();
	out = jv_object_set(out, jv_string("vms"), jv_number(kvm->vms));
	out = jv_object_set(out, jv_string("tcg_runs"), jv_number(kvm->tcg_runs));
	out = jv_object_set(out, jv_string("exits_per_vcpu"), number_or_null(kvm_average(kvm, KVM_EXITS)));
	out = jv_object_set(out, jv_string("halt_exits_per_vcpu"), number_or_null(kvm_average(kvm, KVM_HALT_EXITS)));
	out = jv_object_set(out, jv_string("halt_wait_ms"), number_or_null(kvm_average(kvm, KVM_HALT_WAIT_NS) / 1e6));
	out = jv_object_set(out, jv_string("poll_success_pct"), number_or_null(kvm->vms ? poll : NAN));
	out = jv_object_set(out, jv_string("preemptions_per_vcpu"),
			    number_or_null(kvm_average(kvm, KVM_PREEMPTION_REPORTED)));
	out = jv_object_set(out, jv_string("signal_exits_per_vcpu"), number_or_null(kvm_average(kvm, KVM_SIGNAL_EXITS)));
	out = jv_object_set(out, jv_string("hypercalls_per_vcpu"), number_or_null(kvm_average(kvm, KVM_HYPERCALLS)));
	out = jv_object_set(out, jv_string("preemptions_total"), jv_number(kvm->preemptions_total));
	return out;
}

jv report_json(const struct report *report)
{
	jv dirs = jv_array();
	jv skipped = jv_array();
	jv files = jv_object();
	jv out = jv_object();

	for (size_t i = 0; i < report->nr_dirs; i++)
		dirs = jv_array_append(dirs, jv_string(report->dirs[i]));
	for (size_t i = 0; i < report->nr_skipped; i++) {
		const struct skipped_file *file = &report->skipped[i];
		jv entry = jv_object();

		entry = jv_object_set(entry, jv_string("path"), jv_string(file->path));
		entry = jv_object_set(entry, jv_string("reason"), jv_string(skip_reason_names[file->reason]));
		entry = jv_object_set(entry, jv_string("message"), jv_string(file->message));
		skipped = jv_array_append(skipped, entry);
	}
	files = jv_object_set(files, jv_string("read"), jv_number((double)report->nr_rows));
	files = jv_object_set(files, jv_string("upstream"), jv_number(report->upstream_rows));
	files = jv_object_set(files, jv_string("skipped"), jv_number((double)report->nr_skipped));

	out = jv_object_set(out, jv_string("schema_version"), jv_number(STATS_JSON_VERSION));
	out = jv_object_set(out, jv_string("dirs"), dirs);
	out = jv_object_set(out, jv_string("files"), files);
	out = jv_object_set(out, jv_string("skipped_files"), skipped);
	out = jv_object_set(out, jv_string("gauntlet"), gauntlet_json(report));
	out = jv_object_set(out, jv_string("verifier"), verifier_json(report));
	out = jv_object_set(out, jv_string("callback_profile"), callback_profile_json(report));
	out = jv_object_set(out, jv_string("kvm"), kvm_json(report));
	return out;
}
