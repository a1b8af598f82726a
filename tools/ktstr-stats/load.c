/* Finding sidecar files, reading them in parallel, and folding each into
 * the report in order. */
#include "stats.h"
#include "summary.h"

#include "diag.h"
#include "fsutil.h"
#include "sidecar.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Grow an array of count elements to hold one more.  Zeroes new space. */
#define GROW(array, count, cap)                                                            \
	do {                                                                               \
		if ((count) == (cap)) {                                                    \
			size_t new_cap_ = (cap) ? (cap) * 2 : 16;                          \
			(array) = xrealloc((array), new_cap_ * sizeof(*(array)));           \
			memset((array) + (cap), 0, (new_cap_ - (cap)) * sizeof(*(array)));  \
			(cap) = new_cap_;                                                  \
		}                                                                          \
	} while (0)

static uint32_t add_to_group(struct report *report, enum dimension_id dim, const char *name,
			     uint32_t row_index, const struct run_row *row)
{
	struct dimension *dimension = &report->dims[dim];
	uint32_t id = strmap_intern(&dimension->names, name, NULL);

	GROW(dimension->groups, id, dimension->cap_groups);
	struct group *group = &dimension->groups[id];
	group->runs++;
	group->outcomes[row->outcome]++;
	GROW(group->rows, group->nr_rows, group->cap_rows);
	group->rows[group->nr_rows++] = row_index;
	return id;
}

static uint32_t add_path(struct report *report, const char *path)
{
	size_t len = strlen(path) + 1;
	uint32_t offset = (uint32_t)report->paths_len;

	while (report->paths_len + len > report->paths_cap) {
		report->paths_cap = report->paths_cap ? report->paths_cap * 2 : 4096;
		report->paths = xrealloc(report->paths, report->paths_cap);
	}
	memcpy(report->paths + report->paths_len, path, len);
	report->paths_len += len;
	return offset;
}

const char *report_path(const struct report *report, uint32_t row)
{
	return report->paths + report->rows[row].path;
}

static struct program_stat *program(struct report *report, const char *scheduler, const char *name)
{
	char *key = xasprintf("%s\t%s", scheduler, name);
	uint32_t id = strmap_intern(&report->programs, key, NULL);

	free(key);
	GROW(report->program_stats, id, report->cap_program_stats);
	return &report->program_stats[id];
}

static void fold_stimuli(struct report *report, const struct run_summary *summary)
{
	/* Nothing shows whether a run without figures would have had
	 * stimulus events, so it is left out of the runs without any. */
	if (!summary->nr_stimuli && !summary->measured)
		return;
	if (!summary->nr_stimuli) {
		report->no_stimulus.runs++;
		report->no_stimulus.outcomes[summary->outcome]++;
		return;
	}
	report->runs_with_stimuli++;
	for (size_t i = 0; i < summary->nr_stimuli; i++) {
		uint32_t id = strmap_intern(&report->stimuli, summary->stimuli[i], NULL);

		GROW(report->stimulus_rows, id, report->cap_stimulus_rows);
		report->stimulus_rows[id].runs++;
		report->stimulus_rows[id].outcomes[summary->outcome]++;
	}
}

static void fold_programs(struct report *report, const struct run_summary *summary)
{
	const char *scheduler = summary->group[DIM_SCHEDULER];

	for (size_t i = 0; i < summary->nr_verifier; i++) {
		const struct program_sample *sample = &summary->verifier[i];
		struct program_stat *stat = program(report, scheduler, sample->name);

		stat->verifier_runs++;
		if (sample->verified_insns > stat->verified_insns)
			stat->verified_insns = (long long)sample->verified_insns;
	}
	for (size_t i = 0; i < summary->nr_callbacks; i++) {
		const struct program_sample *sample = &summary->callbacks[i];
		struct program_stat *stat = program(report, scheduler, sample->name);

		stat->profile_runs++;
		stat->cnt += (unsigned long long)sample->cnt;
		stat->nsecs += (unsigned long long)sample->nsecs;
	}
}

static void fold_kvm(struct report *report, const struct run_summary *summary)
{
	struct kvm_totals *kvm = &report->kvm;

	if (summary->tcg)
		kvm->tcg_runs++;
	/* A VM that never ran the scenario would pull the averages down. */
	if (!summary->has_kvm || !summary->measured)
		return;
	kvm->vms++;
	for (int k = 0; k < KVM_KEY_COUNT; k++) {
		if (isnan(summary->kvm_per_vcpu[k]))
			continue;
		kvm->per_vcpu[k] += summary->kvm_per_vcpu[k];
		kvm->per_vcpu_vms[k]++;
	}
	kvm->halt_successful_poll += summary->halt_successful_poll;
	kvm->halt_attempted_poll += summary->halt_attempted_poll;
	kvm->preemptions_total += summary->preemptions;
}

static void fold_skipped(struct report *report, const char *path, struct run_summary *summary)
{
	struct skipped_file *skipped;

	warn_msg("skipping '%s': %s", path, summary->message);
	GROW(report->skipped, report->nr_skipped, report->cap_skipped);
	skipped = &report->skipped[report->nr_skipped++];
	skipped->path = xstrdup(path);
	skipped->reason = summary->reason;
	skipped->message = summary->message;
	summary->message = NULL;
}

/* Add one file's summary to the report; takes the strings it keeps. */
static void fold(struct report *report, const char *path, struct run_summary *summary)
{
	uint32_t row_index = (uint32_t)report->nr_rows;
	struct run_row *row;

	if (summary->skipped_file) {
		fold_skipped(report, path, summary);
		return;
	}

	GROW(report->rows, report->nr_rows, report->cap_rows);
	row = &report->rows[report->nr_rows++];
	row->path = add_path(report, path);
	row->outcome = summary->outcome;
	memcpy(row->metric, summary->metric, sizeof(row->metric));
	for (int d = 0; d < DIM_COUNT; d++) {
		row->group[d] = add_to_group(report, (enum dimension_id)d, summary->group[d], row_index, row);
		if (summary->stalled)
			report->dims[d].groups[row->group[d]].stalls++;
	}

	if (summary->nr_invalid) {
		warn_msg("ignoring %u invalid metric value%s in '%s': %s is %g (expected a finite number from 0 to 2^53)",
			 summary->nr_invalid, summary->nr_invalid == 1 ? "" : "s", path,
			 metric_defs[summary->first_invalid].path, summary->first_invalid_value);
	}
	report->outcomes[row->outcome]++;
	if (!summary->measured && row->outcome != OUTCOME_SKIPPED && row->outcome != OUTCOME_INTERRUPTED)
		report->unmeasured_rows++;
	if (summary->upstream)
		report->upstream_rows++;
	if (outcome_failed(row->outcome)) {
		GROW(report->failed, report->nr_failed, report->cap_failed);
		report->failed[report->nr_failed++] = (struct failed_run){
			.row = row_index,
			.check = summary->check,
			.message = summary->failure_message,
		};
		summary->check = summary->failure_message = NULL;
	}
	fold_stimuli(report, summary);
	fold_programs(report, summary);
	fold_kvm(report, summary);
}

/* Files are parsed on worker threads, because libjq's parser is where the
 * time goes, and folded on this thread in file order, so the report does
 * not depend on which worker finished first.  A ring of slots bounds how
 * far the workers run ahead. */
#define RING_SLOTS 64
#define MAX_WORKERS 8

struct slot {
	bool full;
	struct run_summary summary;
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t filled;   /* a worker filled a slot */
	pthread_cond_t emptied;  /* the folding thread emptied a slot */
	char *const *paths;
	size_t count;
	size_t next;             /* next file a worker takes */
	size_t folded;           /* files before this one are folded */
	struct slot slots[RING_SLOTS];
};

static void *pool_worker(void *arg)
{
	struct pool *pool = arg;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (pool->next < pool->count && pool->next >= pool->folded + RING_SLOTS)
			pthread_cond_wait(&pool->emptied, &pool->lock);
		if (pool->next >= pool->count)
			break;
		size_t index = pool->next++;
		struct run_summary summary;

		pthread_mutex_unlock(&pool->lock);
		summary_read(pool->paths[index], &summary);
		pthread_mutex_lock(&pool->lock);

		pool->slots[index % RING_SLOTS] = (struct slot){ .full = true, .summary = summary };
		pthread_cond_broadcast(&pool->filled);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

/* One worker per CPU this process may run on (taskset and cpusets count),
 * at most MAX_WORKERS and at most one per file. */
static unsigned worker_count(size_t files)
{
	cpu_set_t cpus;
	unsigned workers = 1;

	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) > 0)
		workers = (unsigned)CPU_COUNT(&cpus);
	if (workers > MAX_WORKERS)
		workers = MAX_WORKERS;
	if (workers > files)
		workers = (unsigned)files;
	return workers;
}

/* Summarise and fold every path in order, on up to MAX_WORKERS threads. */
static void load_files(struct report *report, char *const *paths, size_t count)
{
	pthread_t threads[MAX_WORKERS];
	unsigned started = 0, workers = worker_count(count);
	struct pool *pool;

	if (workers <= 1) {
		for (size_t i = 0; i < count; i++) {
			struct run_summary summary;

			summary_read(paths[i], &summary);
			fold(report, paths[i], &summary);
			summary_release(&summary);
		}
		return;
	}

	/* libjq seeds its object hash under pthread_once on first use.  Doing
	 * that here, before the threads start, orders it before every worker
	 * without relying on pthread_once's fast path, which helgrind cannot
	 * see as synchronisation. */
	jv_free(jv_object_set(jv_object(), jv_string("seed"), jv_null()));

	pool = xcalloc(1, sizeof(*pool));
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->filled, NULL);
	pthread_cond_init(&pool->emptied, NULL);
	pool->paths = paths;
	pool->count = count;
	for (unsigned i = 0; i < workers; i++) {
		if (pthread_create(&threads[started], NULL, pool_worker, pool) == 0)
			started++;
	}
	if (!started)
		die("cannot start a thread to read sidecars");

	for (size_t i = 0; i < count; i++) {
		struct slot *slot = &pool->slots[i % RING_SLOTS];
		struct run_summary summary;

		pthread_mutex_lock(&pool->lock);
		while (!slot->full)
			pthread_cond_wait(&pool->filled, &pool->lock);
		summary = slot->summary;
		slot->full = false;
		pool->folded = i + 1;
		pthread_cond_broadcast(&pool->emptied);
		pthread_mutex_unlock(&pool->lock);

		fold(report, paths[i], &summary);
		summary_release(&summary);
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	pthread_cond_destroy(&pool->filled);
	pthread_cond_destroy(&pool->emptied);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool entry_is_dir(int dir_fd, const struct dirent *entry)
{
	struct stat st;

	if (entry->d_type == DT_DIR)
		return true;
	if (entry->d_type != DT_UNKNOWN && entry->d_type != DT_LNK)
		return false;
	return fstatat(dir_fd, entry->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

/* Read the sidecars of dir in name order; depth 0 also descends one level. */
static int load_tree(struct report *report, const char *dir, int depth)
{
	struct strvec files = STRVEC_INIT, subdirs = STRVEC_INIT;
	DIR *stream = opendir(dir);
	struct dirent *entry;

	if (!stream) {
		if (depth == 0)
			return err_errno("open sidecar directory '%s'", dir);
		warn_errno("skipping directory '%s'", dir);
		return 0;
	}
	errno = 0;
	while ((entry = readdir(stream))) {
		if (sidecar_is_file_name(entry->d_name))
			strvec_push(&files, entry->d_name);
		else if (depth == 0 && entry->d_name[0] != '.' && entry_is_dir(dirfd(stream), entry))
			strvec_push(&subdirs, entry->d_name);
		errno = 0;
	}
	int read_errno = errno;
	closedir(stream);
	if (read_errno) {
		errno = read_errno;
		strvec_release(&files);
		strvec_release(&subdirs);
		if (depth == 0)
			return err_errno("read sidecar directory '%s'", dir);
		warn_errno("skipping directory '%s'", dir);
		return 0;
	}

	qsort(files.items, files.len, sizeof(*files.items), compare_names);
	qsort(subdirs.items, subdirs.len, sizeof(*subdirs.items), compare_names);
	for (size_t i = 0; i < files.len; i++) {
		char *path = fs_path_join(dir, files.items[i]);
		free(files.items[i]);
		files.items[i] = path;
	}
	load_files(report, files.items, files.len);
	for (size_t i = 0; i < subdirs.len; i++) {
		char *path = fs_path_join(dir, subdirs.items[i]);
		load_tree(report, path, depth + 1);
		free(path);
	}
	strvec_release(&files);
	strvec_release(&subdirs);
	return 0;
}

int load_dir(struct report *report, const char *dir)
{
	if (load_tree(report, dir, 0) != 0)
		return -1;
	report->dirs = xrealloc(report->dirs, (report->nr_dirs + 1) * sizeof(*report->dirs));
	report->dirs[report->nr_dirs++] = xstrdup(dir);
	return 0;
}

void report_release(struct report *report)
{
	for (size_t i = 0; i < report->nr_dirs; i++)
		free(report->dirs[i]);
	free(report->dirs);
	free(report->paths);
	free(report->rows);
	for (int d = 0; d < DIM_COUNT; d++) {
		struct dimension *dimension = &report->dims[d];
		for (size_t g = 0; g < dimension->names.len; g++)
			free(dimension->groups[g].rows);
		free(dimension->groups);
		free(dimension->order);
		strmap_release(&dimension->names);
	}
	for (size_t i = 0; i < report->nr_failed; i++) {
		free(report->failed[i].check);
		free(report->failed[i].message);
	}
	free(report->failed);
	free(report->outliers);
	strmap_release(&report->stimuli);
	free(report->stimulus_rows);
	strmap_release(&report->programs);
	free(report->program_stats);
	free(report->verifier_order);
	free(report->profile_order);
	for (size_t i = 0; i < report->nr_skipped; i++) {
		free(report->skipped[i].path);
		free(report->skipped[i].message);
	}
	free(report->skipped);
}
