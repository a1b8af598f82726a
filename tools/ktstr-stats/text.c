/* The report for people: sections, aligned tables, colour on a terminal. */
#include "stats.h"

#include "xalloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The text lists at most this many failed runs and outliers; --json lists all. */
#define FAILED_RUNS_SHOWN 20
#define OUTLIERS_SHOWN 20

#define BOLD "\033[1m"
#define RED "\033[31m"
#define YELLOW "\033[33m"
#define RESET "\033[0m"

static bool use_color;

/* A table whose column widths come from its cells, so columns align. */
struct table {
	size_t nr_cols;
	const char *align;        /* one 'l' or 'r' per column */
	struct strvec cells;      /* row-major, the header row first */
	const char **colors;      /* parallel to cells: an escape sequence or NULL */
	size_t cap_colors;
};

static void table_cell(struct table *table, const char *color, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void table_cell(struct table *table, const char *color, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	strvec_push(&table->cells, text ? text : "?");
	free(text);
	if (table->cells.len > table->cap_colors) {
		table->cap_colors = table->cap_colors ? table->cap_colors * 2 : 64;
		table->colors = xrealloc(table->colors, table->cap_colors * sizeof(*table->colors));
	}
	table->colors[table->cells.len - 1] = color;
}

static void table_init(struct table *table, const char *align, const char *const *headers)
{
	*table = (struct table){ .nr_cols = strlen(align), .align = align, .cells = STRVEC_INIT };
	for (size_t c = 0; c < table->nr_cols; c++)
		table_cell(table, NULL, "%s", headers[c]);
}

/* Print a line without its trailing spaces. */
static void put_line(FILE *out, char *line, size_t len)
{
	while (len > 0 && line[len - 1] == ' ')
		len--;
	fwrite(line, 1, len, out);
	fputc('\n', out);
}

/* Print with indent spaces before each line and two spaces between columns;
 * rule draws dashes under the header. */
static void table_print(FILE *out, struct table *table, int indent, bool rule)
{
	size_t *widths = xcalloc(table->nr_cols, sizeof(*widths));
	size_t nr_rows = table->cells.len / table->nr_cols;
	char *line = NULL;
	size_t len = 0;

	for (size_t i = 0; i < table->cells.len; i++) {
		size_t cell_len = strlen(table->cells.items[i]);
		if (cell_len > widths[i % table->nr_cols])
			widths[i % table->nr_cols] = cell_len;
	}
	for (size_t r = 0; r < nr_rows; r++) {
		FILE *row = open_memstream(&line, &len);

		fprintf(row, "%*s", indent, "");
		for (size_t c = 0; c < table->nr_cols; c++) {
			size_t i = r * table->nr_cols + c;
			const char *text = table->cells.items[i];
			const char *color = use_color && *text ? table->colors[i] : NULL;
			int width = (int)widths[c];

			if (c > 0)
				fputs("  ", row);
			if (color)
				fputs(color, row);
			fprintf(row, table->align[c] == 'r' ? "%*s" : "%-*s", width, text);
			if (color)
				fputs(RESET, row);
		}
		fclose(row);
		put_line(out, line, len);
		free(line);

		if (r == 0 && rule) {
			row = open_memstream(&line, &len);
			fprintf(row, "%*s", indent, "");
			for (size_t c = 0; c < table->nr_cols; c++) {
				fputs(c > 0 ? "  " : "", row);
				for (size_t k = 0; k < widths[c]; k++)
					fputc('-', row);
			}
			fclose(row);
			put_line(out, line, len);
			free(line);
		}
	}
	free(widths);
	strvec_release(&table->cells);
	free(table->colors);
}

static void heading(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void heading(FILE *out, const char *fmt, ...)
{
	va_list ap;

	fputs(use_color ? BOLD : "", out);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputs(use_color ? RESET "\n" : "\n", out);
}

/* A metric value with the metric's decimals, or "-". */
static const char *format_metric(char *buf, size_t size, enum metric_id metric, double value)
{
	if (isnan(value))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.*f", metric_defs[metric].decimals, value);
	return buf;
}

static const char *format_rate(char *buf, size_t size, double rate)
{
	if (isnan(rate))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.1f%%", rate * 100);
	return buf;
}

static void print_totals(FILE *out, const struct report *report)
{
	unsigned runs = (unsigned)report->nr_rows;
	unsigned skipped = report->outcomes[OUTCOME_SKIPPED];
	unsigned passed = report->outcomes[OUTCOME_PASS];
	unsigned interrupted = report->outcomes[OUTCOME_INTERRUPTED];
	unsigned failed = runs - skipped - passed - interrupted;
	char rate[32];

	fprintf(out, "  runs     %6u", runs);
	if (report->upstream_rows)
		fprintf(out, "  (%u in the upstream ktstr format)", report->upstream_rows);
	fprintf(out, "\n  passed   %6u\n", passed);
	fprintf(out, "  failed   %s%6u%s", failed && use_color ? RED : "", failed,
		failed && use_color ? RESET : "");
	if (failed) {
		fprintf(out, "  (%s of the runs that were neither skipped nor interrupted:",
			format_rate(rate, sizeof(rate), failure_rate(report->outcomes)));
		const char *separator = " ";
		for (int o = 0; o < OUTCOME_COUNT; o++) {
			if (!outcome_failed((enum outcome)o) || !report->outcomes[o])
				continue;
			fprintf(out, "%s%s %u", separator, outcome_names[o], report->outcomes[o]);
			separator = ", ";
		}
		fputc(')', out);
	}
	fprintf(out, "\n  skipped  %6u\n", skipped);
	if (interrupted)
		fprintf(out, "  interrupted %3u  (stopped by a signal, left out of the failures and metrics)\n",
			interrupted);
	if (report->unmeasured_rows)
		fprintf(out, "  unmeasured %4u  (the guest never reported figures: no metric values)\n",
			report->unmeasured_rows);
	if (report->nr_skipped)
		fprintf(out, "  unread   %6zu  (files that are not readable sidecars, see the warnings)\n",
			report->nr_skipped);
	fprintf(out, "\nGroups with the highest failure rate come first. Metric columns are\n"
		     "medians over the runs that have the metric; skipped, interrupted and\n"
		     "unmeasured runs have none.\n");
}

static bool any_stalls(const struct dimension *dimension)
{
	for (size_t g = 0; g < dimension->names.len; g++) {
		if (dimension->groups[g].stalls)
			return true;
	}
	return false;
}

static void print_dimension(FILE *out, const struct report *report, enum dimension_id dim)
{
	const struct dimension_def *def = &dimension_defs[dim];
	const struct dimension *dimension = &report->dims[dim];
	bool stalls = any_stalls(dimension);
	const char *headers[16];
	char align[17];
	size_t nr_cols = 0;
	struct table table;
	char buf[64];

	if (def->when_several && dimension->names.len < 2)
		return;

	headers[nr_cols] = def->column;
	align[nr_cols++] = 'l';
	static const char *const counts[] = { "runs", "pass", "fail", "skip", "fail%" };
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		headers[nr_cols] = counts[i];
		align[nr_cols++] = 'r';
	}
	if (stalls) {
		headers[nr_cols] = "stalls";
		align[nr_cols++] = 'r';
	}
	for (int m = 0; m < METRIC_COUNT; m++) {
		if (!metric_defs[m].in_table)
			continue;
		headers[nr_cols] = metric_defs[m].header;
		align[nr_cols++] = 'r';
	}
	align[nr_cols] = '\0';

	fprintf(out, "\n%s:\n", def->title);
	table_init(&table, align, headers);
	for (size_t i = 0; i < dimension->names.len; i++) {
		uint32_t id = dimension->order[i];
		const struct group *group = &dimension->groups[id];
		unsigned failed = group_failed(group);
		const char *fail_color = failed ? RED : NULL;

		table_cell(&table, NULL, "%s", dimension->names.keys[id]);
		table_cell(&table, NULL, "%u", group->runs);
		table_cell(&table, NULL, "%u", group->outcomes[OUTCOME_PASS]);
		table_cell(&table, fail_color, "%u", failed);
		table_cell(&table, NULL, "%u", group->outcomes[OUTCOME_SKIPPED]);
		table_cell(&table, fail_color, "%s", format_rate(buf, sizeof(buf), failure_rate(group->outcomes)));
		if (stalls)
			table_cell(&table, group->stalls ? RED : NULL, "%u", group->stalls);
		for (int m = 0; m < METRIC_COUNT; m++) {
			if (metric_defs[m].in_table)
				table_cell(&table, NULL, "%s",
					   format_metric(buf, sizeof(buf), (enum metric_id)m, group->median[m]));
		}
	}
	table_print(out, &table, 2, false);
}

static void print_failed_runs(FILE *out, const struct report *report)
{
	size_t shown = report->nr_failed < FAILED_RUNS_SHOWN ? report->nr_failed : FAILED_RUNS_SHOWN;
	int width = 0;

	if (!report->nr_failed)
		return;
	for (size_t i = 0; i < shown; i++) {
		int len = (int)strlen(outcome_names[report->rows[report->failed[i].row].outcome]);
		if (len > width)
			width = len;
	}

	fprintf(out, "\nFailed runs:\n");
	for (size_t i = 0; i < shown; i++) {
		const struct failed_run *failed = &report->failed[i];
		enum outcome outcome = report->rows[failed->row].outcome;

		fprintf(out, "  %s%-*s%s  %s\n", use_color ? RED : "", width, outcome_names[outcome],
			use_color ? RESET : "", report_path(report, failed->row));
		if (failed->check || failed->message)
			fprintf(out, "  %*s  %s: %s\n", width, "", failed->check ? failed->check : "failure",
				failed->message ? failed->message : "(no message)");
	}
	if (report->nr_failed > shown)
		fprintf(out, "  ... and %zu more (--json lists every failed run)\n", report->nr_failed - shown);
}

static void print_outliers(FILE *out, const struct report *report)
{
	static const char *const headers[] = { "scenario", "metric", "value", "median", "z", "run" };
	struct table table;
	char value[64], median[64];

	fprintf(out, "\nOutliers (modified z-score from median and MAD within each scenario,\n"
		     "|z| > %.1f on the worse side, scenarios with %d or more runs):\n",
		OUTLIER_THRESHOLD, OUTLIER_MIN_RUNS);
	if (!report->nr_outliers) {
		fprintf(out, "  none\n");
		return;
	}
	table_init(&table, "llrrrl", headers);
	for (size_t i = 0; i < report->nr_outliers && i < OUTLIERS_SHOWN; i++) {
		const struct outlier *outlier = &report->outliers[i];
		const struct run_row *row = &report->rows[outlier->row];

		table_cell(&table, NULL, "%s", report->dims[DIM_SCENARIO].names.keys[row->group[DIM_SCENARIO]]);
		table_cell(&table, NULL, "%s", metric_defs[outlier->metric].name);
		table_cell(&table, YELLOW, "%s", format_metric(value, sizeof(value), outlier->metric, outlier->value));
		table_cell(&table, NULL, "%s", format_metric(median, sizeof(median), outlier->metric, outlier->median));
		table_cell(&table, YELLOW, "%+.1f", outlier->score);
		table_cell(&table, NULL, "%s", report_path(report, outlier->row));
	}
	table_print(out, &table, 2, false);
	if (report->nr_outliers > OUTLIERS_SHOWN)
		fprintf(out, "  ... and %zu more (--json lists every outlier)\n", report->nr_outliers - OUTLIERS_SHOWN);
}

static void stimulus_cells(struct table *table, const char *name, const struct stimulus_row *row,
			   const bool *columns)
{
	table_cell(table, NULL, "%s", name);
	table_cell(table, NULL, "%u", row->runs);
	for (int o = 0; o < OUTCOME_COUNT; o++) {
		if (columns[o])
			table_cell(table, outcome_failed((enum outcome)o) && row->outcomes[o] ? RED : NULL, "%u",
				   row->outcomes[o]);
	}
}

static void print_stimuli(FILE *out, const struct report *report)
{
	bool columns[OUTCOME_COUNT] = { false };
	const char *headers[OUTCOME_COUNT + 2] = { "stimulus", "runs" };
	char align[OUTCOME_COUNT + 3] = "lr";
	size_t nr_cols = 2;
	struct table table;

	if (!report->runs_with_stimuli)
		return;
	/* Only the outcomes that occur get a column; pass always has one. */
	columns[OUTCOME_PASS] = true;
	for (int o = 0; o < OUTCOME_COUNT; o++) {
		columns[o] |= report->no_stimulus.outcomes[o] > 0;
		for (size_t s = 0; s < report->stimuli.len; s++)
			columns[o] |= report->stimulus_rows[s].outcomes[o] > 0;
		if (columns[o]) {
			headers[nr_cols] = outcome_names[o];
			align[nr_cols++] = 'r';
		}
	}
	align[nr_cols] = '\0';

	fprintf(out, "\nStimulus against outcome (runs that contain each stimulus):\n");
	table_init(&table, align, headers);
	for (size_t s = 0; s < report->stimuli.len; s++)
		stimulus_cells(&table, report->stimuli.keys[s], &report->stimulus_rows[s], columns);
	if (report->no_stimulus.runs)
		stimulus_cells(&table, "(none)", &report->no_stimulus, columns);
	table_print(out, &table, 2, false);
}

static void print_gauntlet(FILE *out, const struct report *report)
{
	heading(out, "=== GAUNTLET ANALYSIS ===");
	print_totals(out, report);
	for (int d = 0; d < DIM_COUNT; d++)
		print_dimension(out, report, (enum dimension_id)d);
	print_failed_runs(out, report);
	print_outliers(out, report);
	print_stimuli(out, report);
}

/* Split a program key "<scheduler>\t<program>" into its parts. */
static void split_key(const char *key, char *scheduler, size_t size, const char **name)
{
	size_t len = strcspn(key, "\t");

	snprintf(scheduler, size, "%.*s", (int)len, key);
	*name = key[len] ? key + len + 1 : "";
}

static void print_verifier(FILE *out, const struct report *report)
{
	static const char *const headers[] = { "scheduler", "program", "verified", "limit%", "" };
	long long total = 0;
	size_t near_limit = 0;
	struct table table;
	char scheduler[256];
	const char *name;

	if (!report->nr_verifier)
		return;
	fputc('\n', out);
	heading(out, "=== BPF VERIFIER STATS ===");
	table_init(&table, "llrrl", headers);
	for (size_t i = 0; i < report->nr_verifier; i++) {
		uint32_t id = report->verifier_order[i];
		long long insns = report->program_stats[id].verified_insns;
		double pct = 100.0 * (double)insns / VERIFIER_INSN_LIMIT;
		bool near = pct >= VERIFIER_WARN_PCT;

		split_key(report->programs.keys[id], scheduler, sizeof(scheduler), &name);
		table_cell(&table, NULL, "%s", scheduler);
		table_cell(&table, NULL, "%s", name);
		table_cell(&table, NULL, "%lld", insns);
		table_cell(&table, near ? YELLOW : NULL, "%.1f%%", pct);
		table_cell(&table, near ? YELLOW : NULL, "%s", near ? "!" : "");
		total += insns;
		near_limit += near;
	}
	table_print(out, &table, 2, true);
	fprintf(out, "  total verified insns: %lld\n", total);
	if (!near_limit)
		return;

	fprintf(out, "  %sWARNING: programs at or above %d%% of the verifier's %d-instruction limit:%s\n",
		use_color ? YELLOW : "", VERIFIER_WARN_PCT, VERIFIER_INSN_LIMIT, use_color ? RESET : "");
	for (size_t i = 0; i < report->nr_verifier; i++) {
		uint32_t id = report->verifier_order[i];
		long long insns = report->program_stats[id].verified_insns;
		double pct = 100.0 * (double)insns / VERIFIER_INSN_LIMIT;

		if (pct < VERIFIER_WARN_PCT)
			continue;
		split_key(report->programs.keys[id], scheduler, sizeof(scheduler), &name);
		fprintf(out, "    %s %s: %.1f%% (%lld insns)\n", scheduler, name, pct, insns);
	}
}

static void print_callback_profile(FILE *out, const struct report *report)
{
	static const char *const headers[] = { "scheduler", "program", "runs", "cnt", "total_ns", "avg_ns" };
	struct table table;
	char scheduler[256];
	const char *name;

	if (!report->nr_profile)
		return;
	fputc('\n', out);
	heading(out, "=== BPF CALLBACK PROFILE ===");
	table_init(&table, "llrrrr", headers);
	for (size_t i = 0; i < report->nr_profile; i++) {
		uint32_t id = report->profile_order[i];
		const struct program_stat *stat = &report->program_stats[id];

		split_key(report->programs.keys[id], scheduler, sizeof(scheduler), &name);
		table_cell(&table, NULL, "%s", scheduler);
		table_cell(&table, NULL, "%s", name);
		table_cell(&table, NULL, "%u", stat->profile_runs);
		table_cell(&table, NULL, "%llu", stat->cnt);
		table_cell(&table, NULL, "%llu", stat->nsecs);
		table_cell(&table, NULL, "%.0f", (double)stat->nsecs / (double)stat->cnt);
	}
	table_print(out, &table, 2, true);
}

/* Print one per-vCPU average, or "-" when no VM reported the statistic. */
static void print_kvm_average(FILE *out, const char *label, double value, int decimals)
{
	if (isnan(value))
		fprintf(out, "  %-17s%12s\n", label, "-");
	else
		fprintf(out, "  %-17s%12.*f\n", label, decimals, value);
}

static void print_kvm(FILE *out, const struct report *report)
{
	const struct kvm_totals *kvm = &report->kvm;

	if (!kvm->vms && !kvm->tcg_runs)
		return;
	fputc('\n', out);
	if (!kvm->vms) {
		heading(out, "=== KVM STATS ===");
		fprintf(out, "  none: %u run%s used TCG, which has no KVM statistics\n", kvm->tcg_runs,
			kvm->tcg_runs == 1 ? "" : "s");
		return;
	}

	heading(out, "=== KVM STATS (avg across %u VM%s) ===", kvm->vms, kvm->vms == 1 ? "" : "s");
	print_kvm_average(out, "exits/vcpu", kvm_average(kvm, KVM_EXITS), 0);
	print_kvm_average(out, "halt/vcpu", kvm_average(kvm, KVM_HALT_EXITS), 0);
	print_kvm_average(out, "halt_wait_ms", kvm_average(kvm, KVM_HALT_WAIT_NS) / 1e6, 1);
	if (kvm->halt_attempted_poll > 0)
		fprintf(out, "  poll_ok%%         %12.1f\n",
			100.0 * kvm->halt_successful_poll / kvm->halt_attempted_poll);
	else
		fprintf(out, "  poll_ok%%         %12s\n", "-");
	print_kvm_average(out, "preempted/vcpu", kvm_average(kvm, KVM_PREEMPTION_REPORTED), 0);
	print_kvm_average(out, "signal/vcpu", kvm_average(kvm, KVM_SIGNAL_EXITS), 0);
	if (kvm_average(kvm, KVM_HYPERCALLS) > 0)
		print_kvm_average(out, "hypercalls/vcpu", kvm_average(kvm, KVM_HYPERCALLS), 0);
	if (kvm->preemptions_total > 0)
		fprintf(out, "  %sWARNING: the host preempted vCPUs %.0f times: timings may be unreliable%s\n",
			use_color ? YELLOW : "", kvm->preemptions_total, use_color ? RESET : "");
	if (kvm->tcg_runs)
		fprintf(out, "  note: %u more run%s used TCG, which has no KVM statistics\n", kvm->tcg_runs,
			kvm->tcg_runs == 1 ? "" : "s");
}

void print_text(FILE *out, const struct report *report, bool color)
{
	use_color = color;
	print_gauntlet(out, report);
	print_verifier(out, report);
	print_callback_profile(out, report);
	print_kvm(out, report);
}
