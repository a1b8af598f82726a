/* Medians, robust outliers, and the order in which groups are printed. */
#include "stats.h"

#include "xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 0.6745 is the 0.75 quantile of the standard normal distribution, so that
 * the modified z-score of normal data is comparable to a z-score. */
#define MAD_SCALE 0.6745
/* When more than half of the values are equal the MAD is 0.  The mean
 * absolute deviation times 1.253314 (sqrt(pi/2)) then replaces MAD / 0.6745. */
#define MEAN_AD_SCALE 1.253314

unsigned group_failed(const struct group *group)
{
	unsigned failed = 0;

	for (int o = 0; o < OUTCOME_COUNT; o++) {
		if (outcome_failed((enum outcome)o))
			failed += group->outcomes[o];
	}
	return failed;
}

double failure_rate(const unsigned outcomes[OUTCOME_COUNT])
{
	unsigned ran = 0, failed = 0;

	for (int o = 0; o < OUTCOME_COUNT; o++) {
		if (o == OUTCOME_SKIPPED || o == OUTCOME_INTERRUPTED)
			continue;
		ran += outcomes[o];
		if (outcome_failed((enum outcome)o))
			failed += outcomes[o];
	}
	return ran ? (double)failed / ran : NAN;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sort values in place and return their median (NAN for none). */
static double median_of(double *values, size_t count)
{
	if (count == 0)
		return NAN;
	qsort(values, count, sizeof(*values), compare_doubles);
	if (count % 2)
		return values[count / 2];
	return (values[count / 2 - 1] + values[count / 2]) / 2;
}

/* Gather the group's values of a metric into scratch; returns how many. */
static size_t gather(const struct report *report, const struct group *group, enum metric_id metric,
		     double *scratch)
{
	size_t count = 0;

	for (size_t i = 0; i < group->nr_rows; i++) {
		double value = report->rows[group->rows[i]].metric[metric];
		if (!isnan(value))
			scratch[count++] = value;
	}
	return count;
}

static void add_outlier(struct report *report, uint32_t row, enum metric_id metric, double median,
			double score)
{
	if (report->nr_outliers == report->cap_outliers) {
		report->cap_outliers = report->cap_outliers ? report->cap_outliers * 2 : 16;
		report->outliers = xrealloc(report->outliers, report->cap_outliers * sizeof(*report->outliers));
	}
	report->outliers[report->nr_outliers++] = (struct outlier){
		.row = row,
		.metric = metric,
		.value = report->rows[row].metric[metric],
		.median = median,
		.score = score,
	};
}

/* Screen one scenario's runs for one metric. */
static void find_outliers(struct report *report, const struct group *group, enum metric_id metric,
			  double *scratch)
{
	size_t count = gather(report, group, metric, scratch);

	if (count < OUTLIER_MIN_RUNS)
		return;
	double median = median_of(scratch, count);
	double mean_deviation = 0;
	for (size_t i = 0; i < count; i++) {
		scratch[i] = fabs(scratch[i] - median);
		mean_deviation += scratch[i];
	}
	mean_deviation /= count;

	double mad = median_of(scratch, count);
	double scale;
	if (mad > 0)
		scale = mad / MAD_SCALE;
	else if (mean_deviation > 0)
		scale = mean_deviation * MEAN_AD_SCALE;
	else
		return;

	bool higher_is_better = metric_defs[metric].higher_is_better;
	for (size_t i = 0; i < group->nr_rows; i++) {
		uint32_t row = group->rows[i];
		double value = report->rows[row].metric[metric];
		if (isnan(value))
			continue;
		double score = (value - median) / scale;
		bool worse = higher_is_better ? score < -OUTLIER_THRESHOLD : score > OUTLIER_THRESHOLD;
		if (worse)
			add_outlier(report, row, metric, median, score);
	}
}

/* qsort has no context argument, so comparators read the report from here. */
static const struct report *sorting_report;
static const struct dimension *sorting_dimension;

static int compare_groups(const void *a, const void *b)
{
	uint32_t ida = *(const uint32_t *)a, idb = *(const uint32_t *)b;
	const struct group *ga = &sorting_dimension->groups[ida];
	const struct group *gb = &sorting_dimension->groups[idb];
	double ra = failure_rate(ga->outcomes), rb = failure_rate(gb->outcomes);

	/* Most failing first; groups whose every run was skipped go last. */
	if (isnan(ra) != isnan(rb))
		return isnan(ra) ? 1 : -1;
	if (!isnan(ra) && ra != rb)
		return ra > rb ? -1 : 1;
	if (group_failed(ga) != group_failed(gb))
		return group_failed(ga) > group_failed(gb) ? -1 : 1;
	if (ga->runs != gb->runs)
		return ga->runs > gb->runs ? -1 : 1;
	return strcmp(sorting_dimension->names.keys[ida], sorting_dimension->names.keys[idb]);
}

static int compare_outliers(const void *a, const void *b)
{
	const struct outlier *oa = a, *ob = b;

	if (fabs(oa->score) != fabs(ob->score))
		return fabs(oa->score) > fabs(ob->score) ? -1 : 1;
	int by_path = strcmp(report_path(sorting_report, oa->row), report_path(sorting_report, ob->row));
	return by_path ? by_path : (int)oa->metric - (int)ob->metric;
}

static int compare_program_keys(const void *a, const void *b)
{
	uint32_t ida = *(const uint32_t *)a, idb = *(const uint32_t *)b;

	return strcmp(sorting_report->programs.keys[ida], sorting_report->programs.keys[idb]);
}

static int compare_program_time(const void *a, const void *b)
{
	uint32_t ida = *(const uint32_t *)a, idb = *(const uint32_t *)b;
	unsigned long long ta = sorting_report->program_stats[ida].nsecs;
	unsigned long long tb = sorting_report->program_stats[idb].nsecs;

	if (ta != tb)
		return ta > tb ? -1 : 1;
	return compare_program_keys(a, b);
}

static void order_programs(struct report *report)
{
	size_t count = report->programs.len;

	report->verifier_order = xcalloc(count + 1, sizeof(*report->verifier_order));
	report->profile_order = xcalloc(count + 1, sizeof(*report->profile_order));
	for (uint32_t id = 0; id < count; id++) {
		if (report->program_stats[id].verifier_runs)
			report->verifier_order[report->nr_verifier++] = id;
		if (report->program_stats[id].profile_runs)
			report->profile_order[report->nr_profile++] = id;
	}
	qsort(report->verifier_order, report->nr_verifier, sizeof(uint32_t), compare_program_keys);
	qsort(report->profile_order, report->nr_profile, sizeof(uint32_t), compare_program_time);
}

void analyze(struct report *report)
{
	double *scratch = xcalloc(report->nr_rows + 1, sizeof(*scratch));

	sorting_report = report;
	for (int d = 0; d < DIM_COUNT; d++) {
		struct dimension *dimension = &report->dims[d];
		size_t count = dimension->names.len;

		for (size_t g = 0; g < count; g++) {
			struct group *group = &dimension->groups[g];
			for (int m = 0; m < METRIC_COUNT; m++) {
				size_t nr_values = gather(report, group, (enum metric_id)m, scratch);
				group->median[m] = median_of(scratch, nr_values);
			}
		}

		dimension->order = xcalloc(count + 1, sizeof(*dimension->order));
		for (uint32_t g = 0; g < count; g++)
			dimension->order[g] = g;
		sorting_dimension = dimension;
		qsort(dimension->order, count, sizeof(*dimension->order), compare_groups);
	}

	struct dimension *scenarios = &report->dims[DIM_SCENARIO];
	for (size_t g = 0; g < scenarios->names.len; g++) {
		for (int m = 0; m < METRIC_COUNT; m++)
			find_outliers(report, &scenarios->groups[g], (enum metric_id)m, scratch);
	}
	qsort(report->outliers, report->nr_outliers, sizeof(*report->outliers), compare_outliers);

	order_programs(report);
	free(scratch);
}
