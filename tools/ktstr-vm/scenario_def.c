/* Scenario definitions: built-in and user files (ktstr-scenario(5)), checked
 * and resolved against the VM's topology. */
#include "scenario_internal.h"

#include "diag.h"
#include "fsutil.h"
#include "json.h"
#include "paths.h"
#include "xalloc.h"

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every worker is a process in a guest of a few hundred MiB. */
#define MAX_TOTAL_WORKERS 1024
#define MAX_WORKERS_PER_CPU 64
#define MAX_DURATION_S 86400.0
#define MAX_CACHE_KB (1024 * 1024)
#define MAX_PHASE_MS 60000

void scenario_def_init(struct scenario_def *def)
{
	memset(def, 0, sizeof(*def));
	def->duration_ms = DEFAULT_DURATION_MS;
	def->max_gap_ms = -1;
	def->max_spread_pct = -1;
}

void scenario_def_release(struct scenario_def *def)
{
	for (size_t i = 0; i < def->nr_cgroups; i++) {
		free(def->cgroups[i].name);
		free(def->cgroups[i].cpuset_text);
	}
	free(def->cgroups);
	for (size_t i = 0; i < def->nr_steps; i++) {
		free(def->steps[i].cgroup);
		free(def->steps[i].cpus_text);
	}
	free(def->steps);
	free(def->name);
	free(def->description);
	free(def->source);
	scenario_def_init(def);
}

struct cgroup_def *scenario_def_add_cgroup(struct scenario_def *def, const char *name)
{
	struct cgroup_def *cg;

	def->cgroups = xrealloc(def->cgroups, (def->nr_cgroups + 1) * sizeof(*def->cgroups));
	cg = &def->cgroups[def->nr_cgroups++];
	memset(cg, 0, sizeof(*cg));
	cg->name = xstrdup(name);
	cg->work = WORK_CPU_SPIN;
	cg->workers_per_cpu = DEFAULT_WORKERS_PER_CPU;
	cg->cache_kb = 4096;
	cg->burst_ms = 10;
	cg->sleep_ms = 20;
	return cg;
}

/* ---- reading a scenario file ---- */

/* Location of a value in the file, for messages: "cgroups[1].workers". */
struct place {
	const char *path;
	char where[96];
};

__attribute__((format(printf, 2, 3))) static int file_error(const struct place *at, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return err_msg("invalid scenario file '%s': %s", at->path, text);
}

/* Reject keys that the format does not have, so a typo is not ignored. */
static int check_keys(const struct place *at, jv obj, const char *const *known)
{
	int status = 0;

	jv_object_foreach(obj, key, value)
	{
		bool found = false;
		for (size_t i = 0; known[i] && !found; i++)
			found = !strcmp(known[i], jv_string_value(key));
		if (!found && status == 0)
			status = file_error(at, "unknown key '%s' in %s", jv_string_value(key), at->where);
		jv_free(key);
		jv_free(value);
	}
	return status;
}

static int get_string(const struct place *at, jv obj, const char *key, char **out)
{
	jv value = jv_object_get(jv_copy(obj), jv_string(key));
	int status = 0;

	if (jv_get_kind(value) == JV_KIND_STRING) {
		free(*out);
		*out = xstrdup(jv_string_value(value));
	} else if (jv_is_valid(value) && jv_get_kind(value) != JV_KIND_NULL) {
		status = file_error(at, "%s.%s must be a string", at->where, key);
	}
	jv_free(value);
	return status;
}

/* A number from min to max; integral when whole is set. */
static int get_number(const struct place *at, jv obj, const char *key, double min, double max,
		      bool whole, double *out, bool *present)
{
	jv value = jv_object_get(jv_copy(obj), jv_string(key));
	int status = 0;

	if (present)
		*present = false;
	if (jv_get_kind(value) == JV_KIND_NUMBER) {
		double number = jv_number_value(value);
		if (!isfinite(number) || number < min || number > max || (whole && number != floor(number)))
			status = file_error(at, "%s.%s must be %s from %g to %g, not %g", at->where, key,
					    whole ? "a whole number" : "a number", min, max, number);
		else
			*out = number;
		if (present)
			*present = status == 0;
	} else if (jv_is_valid(value) && jv_get_kind(value) != JV_KIND_NULL) {
		status = file_error(at, "%s.%s must be a number", at->where, key);
	}
	jv_free(value);
	return status;
}

static int get_unsigned(const struct place *at, jv obj, const char *key, unsigned min, unsigned max,
			unsigned *out)
{
	double number = *out;
	int status = get_number(at, obj, key, min, max, true, &number, NULL);

	*out = (unsigned)number;
	return status;
}

static int load_cgroup(struct place *at, jv obj, struct scenario_def *def, size_t index)
{
	static const char *const known[] = { "name", "work_type", "workers", "workers_per_cpu",
					     "cpuset", "weight", "nice", "cache_kb", "burst_ms",
					     "sleep_ms", NULL };
	char default_name[32];
	char *work = NULL;
	double nice = 0;
	bool has_workers;
	double workers = 0;
	int status;

	snprintf(at->where, sizeof(at->where), "cgroups[%zu]", index);
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return file_error(at, "%s must be an object", at->where);
	snprintf(default_name, sizeof(default_name), "cg%zu", index);
	struct cgroup_def *cg = scenario_def_add_cgroup(def, default_name);

	status = check_keys(at, obj, known);
	status = status ? status : get_string(at, obj, "name", &cg->name);
	status = status ? status : get_string(at, obj, "work_type", &work);
	if (status == 0 && work && work_type_parse(work, &cg->work) != 0)
		status = file_error(at, "%s.work_type '%s' is not a work type (ktstr-vm --list-work-types lists them)",
				    at->where, work);
	free(work);
	status = status ? status :
		get_number(at, obj, "workers", 1, MAX_TOTAL_WORKERS, true, &workers, &has_workers);
	if (status == 0 && has_workers)
		cg->workers = (unsigned)workers;
	status = status ? status :
		get_unsigned(at, obj, "workers_per_cpu", 1, MAX_WORKERS_PER_CPU, &cg->workers_per_cpu);
	status = status ? status : get_string(at, obj, "cpuset", &cg->cpuset_text);
	status = status ? status : get_unsigned(at, obj, "weight", 1, 10000, &cg->weight);
	status = status ? status : get_number(at, obj, "nice", -20, 19, true, &nice, NULL);
	cg->nice = (int)nice;
	status = status ? status : get_unsigned(at, obj, "cache_kb", 1, MAX_CACHE_KB, &cg->cache_kb);
	status = status ? status : get_unsigned(at, obj, "burst_ms", 1, MAX_PHASE_MS, &cg->burst_ms);
	status = status ? status : get_unsigned(at, obj, "sleep_ms", 1, MAX_PHASE_MS, &cg->sleep_ms);
	return status;
}

static int load_step(struct place *at, jv obj, struct scenario_def *def, size_t index)
{
	static const char *const known[] = { "at_s", "op", "cgroup", "cpus", NULL };
	struct step_def *step;
	char *op = NULL;
	double at_s = 0;
	bool has_at;
	int status;

	snprintf(at->where, sizeof(at->where), "steps[%zu]", index);
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return file_error(at, "%s must be an object", at->where);
	def->steps = xrealloc(def->steps, (def->nr_steps + 1) * sizeof(*def->steps));
	step = &def->steps[def->nr_steps++];
	memset(step, 0, sizeof(*step));

	status = check_keys(at, obj, known);
	status = status ? status : get_number(at, obj, "at_s", 0, MAX_DURATION_S, false, &at_s, &has_at);
	if (status == 0 && !has_at)
		status = file_error(at, "%s has no at_s (seconds from the start)", at->where);
	step->at_ms = (uint64_t)llround(at_s * 1000.0);
	status = status ? status : get_string(at, obj, "op", &op);
	if (status == 0 && op && !strcmp(op, "kill-scheduler"))
		step->kind = STEP_KIND_KILL_SCHEDULER;
	else if (status == 0 && op && !strcmp(op, "set-cpuset"))
		step->kind = STEP_KIND_SET_CPUSET;
	else if (status == 0)
		status = file_error(at, "%s.op must be \"kill-scheduler\" or \"set-cpuset\"", at->where);
	free(op);
	status = status ? status : get_string(at, obj, "cgroup", &step->cgroup);
	status = status ? status : get_string(at, obj, "cpus", &step->cpus_text);
	if (status == 0 && step->kind == STEP_KIND_SET_CPUSET && (!step->cgroup || !step->cpus_text))
		status = file_error(at, "%s: set-cpuset needs \"cgroup\" and \"cpus\"", at->where);
	return status;
}

static int load_array(struct place *at, jv doc, const char *key, struct scenario_def *def,
		      int (*load)(struct place *, jv, struct scenario_def *, size_t), bool required)
{
	jv array = jv_object_get(jv_copy(doc), jv_string(key));
	int status = 0;

	if (jv_get_kind(array) == JV_KIND_ARRAY) {
		int len = jv_array_length(jv_copy(array));
		if (required && len == 0)
			status = file_error(at, "\"%s\" is empty", key);
		for (int i = 0; i < len && status == 0; i++)
			status = load(at, jv_array_get(jv_copy(array), i), def, (size_t)i);
	} else if (required || (jv_is_valid(array) && jv_get_kind(array) != JV_KIND_NULL)) {
		status = file_error(at, "\"%s\" must be an array%s", key,
				    required ? " of cgroup objects" : "");
	}
	jv_free(array);
	return status;
}

/* load_cgroup and load_step with the signature load_array wants (they
 * consume their jv argument's copy through the caller). */
static int take_cgroup(struct place *at, jv obj, struct scenario_def *def, size_t index)
{
	int status = load_cgroup(at, obj, def, index);

	jv_free(obj);
	return status;
}

static int take_step(struct place *at, jv obj, struct scenario_def *def, size_t index)
{
	int status = load_step(at, obj, def, index);

	jv_free(obj);
	return status;
}

int scenario_def_load(const char *path, struct scenario_def *def)
{
	static const char *const known[] = { "name", "description", "duration_s", "cgroups",
					     "steps", "thresholds", NULL };
	static const char *const known_thresholds[] = { "max_gap_ms", "max_spread_pct", NULL };
	struct place at = { path, "the scenario" };
	enum json_error kind;
	char *why = NULL;
	double duration_s = 0;
	bool has_duration;
	int status;

	jv doc = json_read_file(path, &kind, &why);
	if (!jv_is_valid(doc)) {
		/* libjq quotes the whole text after its message; the message and
		 * the position are enough on one line. */
		char *quote = why ? strstr(why, " (while parsing") : NULL;
		if (quote)
			*quote = '\0';
		for (char *p = why; p && *p; p++) {
			if (*p == '\n')
				*p = ' ';
		}
		if (kind == JSON_MISSING || kind == JSON_UNREADABLE)
			status = err_msg("cannot read scenario file '%s': %s", path, why);
		else
			status = err_msg("invalid scenario file '%s': %s", path, why);
		free(why);
		jv_free(doc);
		return status;
	}
	if (jv_get_kind(doc) != JV_KIND_OBJECT) {
		jv_free(doc);
		return file_error(&at, "the top level must be an object");
	}

	free(def->source);
	def->source = xstrdup(path);
	status = check_keys(&at, doc, known);
	status = status ? status : get_string(&at, doc, "name", &def->name);
	status = status ? status : get_string(&at, doc, "description", &def->description);
	status = status ? status :
		get_number(&at, doc, "duration_s", 0.001, MAX_DURATION_S, false, &duration_s, &has_duration);
	if (status == 0 && has_duration)
		def->duration_ms = (uint64_t)llround(duration_s * 1000.0);
	status = status ? status : load_array(&at, doc, "cgroups", def, take_cgroup, true);
	status = status ? status : load_array(&at, doc, "steps", def, take_step, false);

	jv thresholds = jv_object_get(jv_copy(doc), jv_string("thresholds"));
	snprintf(at.where, sizeof(at.where), "thresholds");
	if (status == 0 && jv_get_kind(thresholds) == JV_KIND_OBJECT) {
		bool has;
		double value;
		status = check_keys(&at, thresholds, known_thresholds);
		status = status ? status :
			get_number(&at, thresholds, "max_gap_ms", 1, 3600000, false, &value, &has);
		if (status == 0 && has)
			def->max_gap_ms = value;
		status = status ? status :
			get_number(&at, thresholds, "max_spread_pct", 0, 100, false, &value, &has);
		if (status == 0 && has)
			def->max_spread_pct = value;
	} else if (status == 0 && jv_is_valid(thresholds) && jv_get_kind(thresholds) != JV_KIND_NULL) {
		status = file_error(&at, "\"thresholds\" must be an object");
	}
	jv_free(thresholds);
	jv_free(doc);

	if (status == 0 && !def->name) {
		/* A file without a name is called after itself: "starve.json" is "starve". */
		const char *base = fs_basename(path);
		size_t len = strlen(base);
		if (len > 5 && !strcmp(base + len - 5, ".json"))
			len -= 5;
		def->name = xstrndup(base, len);
	}
	return status;
}

/* ---- built-in scenarios: share/ktstr/scenarios/NAME.json ---- */

char *scenario_builtin_path(const char *name)
{
	char *file, *path;

	if (!*name || strchr(name, '/') || name[0] == '.')
		return NULL;
	file = xasprintf("scenarios/%s.json", name);
	path = paths_share_file(file);
	free(file);
	if (fs_is_file(path))
		return path;
	free(path);
	return NULL;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int scenario_list_builtin(FILE *out)
{
	char *dir_path = paths_share_file("scenarios");
	DIR *dir = opendir(dir_path);
	struct strvec names = STRVEC_INIT;
	struct dirent *ent;
	int status = 0;

	if (!dir) {
		status = err_errno("cannot list the built-in scenarios in '%s'", dir_path);
		free(dir_path);
		return status;
	}
	while ((ent = readdir(dir))) {
		size_t len = strlen(ent->d_name);
		if (ent->d_name[0] != '.' && len > 5 && !strcmp(ent->d_name + len - 5, ".json"))
			strvec_push(&names, ent->d_name);
	}
	closedir(dir);
	qsort(names.items, names.len, sizeof(*names.items), compare_names);
	for (size_t i = 0; i < names.len && status == 0; i++) {
		struct scenario_def def;
		char *path = fs_path_join(dir_path, names.items[i]);

		scenario_def_init(&def);
		names.items[i][strlen(names.items[i]) - 5] = '\0';
		status = scenario_def_load(path, &def);
		if (status == 0)
			fprintf(out, "%-18s %s\n", names.items[i], def.description ? def.description : "");
		scenario_def_release(&def);
		free(path);
	}
	strvec_release(&names);
	free(dir_path);
	return status;
}

/* ---- resolving against the topology ---- */

static bool valid_cgroup_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 64)
		return false;
	for (const char *p = name; *p; p++) {
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
		    *p != '_' && *p != '-')
			return false;
	}
	return true;
}

/* Parse a cpuset and check that every CPU exists in the topology. */
static int resolve_cpus(const char *what, const char *text, unsigned nr_cpus, const char *label,
			struct cpulist *out)
{
	const char *why;

	if (cpulist_parse(text, out, &why) != 0)
		return err_msg("invalid %s '%s': %s", what, text, why);
	if (cpulist_count(out) == 0)
		return err_msg("invalid %s '%s': it names no CPU", what, text);
	if ((unsigned)cpulist_max(out) >= nr_cpus)
		return err_msg("invalid %s '%s': CPU %d is not in the topology %s, which has CPUs 0-%u",
			       what, text, cpulist_max(out), label, nr_cpus - 1);
	return 0;
}

int scenario_def_resolve(struct scenario_def *def, const struct topology *topo)
{
	unsigned nr_cpus = topology_cpus(topo);
	size_t splits = 0, split_index = 0, total = 0;
	char label[32], what[160];

	topology_label(topo, label, sizeof(label));
	for (size_t i = 0; i < def->nr_cgroups; i++)
		splits += def->cgroups[i].cpuset_text && !strcmp(def->cgroups[i].cpuset_text, "split");
	if (splits > nr_cpus)
		return err_msg("invalid cpuset 'split': %zu cgroups cannot each get a CPU of their own, since the topology %s has %u",
			       splits, label, nr_cpus);

	for (size_t i = 0; i < def->nr_cgroups; i++) {
		struct cgroup_def *cg = &def->cgroups[i];

		if (!valid_cgroup_name(cg->name))
			return err_msg("invalid cgroup name '%s': use 1 to 64 letters, digits, '_' or '-'",
				       cg->name);
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(def->cgroups[j].name, cg->name))
				return err_msg("invalid scenario '%s': two cgroups are named '%s'",
					       def->name, cg->name);
		}
		cpulist_clear(&cg->cpuset);
		if (cg->cpuset_text && !strcmp(cg->cpuset_text, "split")) {
			unsigned first = (unsigned)(split_index * nr_cpus / splits);
			unsigned end = (unsigned)((split_index + 1) * nr_cpus / splits);
			for (unsigned cpu = first; cpu < end; cpu++)
				cpulist_add(&cg->cpuset, cpu);
			split_index++;
		} else if (cg->cpuset_text) {
			snprintf(what, sizeof(what), "cpuset of cgroup '%s'", cg->name);
			if (resolve_cpus(what, cg->cpuset_text, nr_cpus, label, &cg->cpuset) != 0)
				return -1;
		}
		if (!cg->workers) {
			unsigned cpus = cg->cpuset_text ? cpulist_count(&cg->cpuset) : nr_cpus;
			cg->workers = cg->workers_per_cpu * cpus;
		}
		if (work_type_paired(cg->work) && cg->workers % 2)
			return err_msg("invalid number of workers %u in cgroup '%s': %s workers run in pairs, so the number must be even",
				       cg->workers, cg->name, work_type_name(cg->work));
		total += cg->workers;
	}
	if (total > MAX_TOTAL_WORKERS)
		return err_msg("invalid scenario '%s': %zu workers, more than the limit of %d",
			       def->name, total, MAX_TOTAL_WORKERS);

	for (size_t i = 0; i < def->nr_steps; i++) {
		struct step_def *step = &def->steps[i];
		bool found = false;

		if (step->at_ms >= def->duration_ms)
			return err_msg("invalid scenario '%s': step %zu at %.3f s is not before the end at %.3f s",
				       def->name, i, step->at_ms / 1000.0, def->duration_ms / 1000.0);
		if (step->kind != STEP_KIND_SET_CPUSET)
			continue;
		for (size_t j = 0; j < def->nr_cgroups && !found; j++)
			found = !strcmp(def->cgroups[j].name, step->cgroup);
		if (!found)
			return err_msg("invalid scenario '%s': step %zu names no cgroup of the scenario: '%s'",
				       def->name, i, step->cgroup);
		snprintf(what, sizeof(what), "cpus of step %zu", i);
		if (resolve_cpus(what, step->cpus_text, nr_cpus, label, &step->cpus) != 0)
			return -1;
	}
	return 0;
}

jv scenario_def_to_json(const struct scenario_def *def)
{
	char list[4096];
	jv cgroups = jv_array(), steps = jv_array();

	for (size_t i = 0; i < def->nr_cgroups; i++) {
		const struct cgroup_def *cg = &def->cgroups[i];
		jv obj = jv_object();
		obj = jv_object_set(obj, jv_string("name"), jv_string(cg->name));
		obj = jv_object_set(obj, jv_string("work_type"), jv_string(work_type_name(cg->work)));
		obj = jv_object_set(obj, jv_string("workers"), jv_number(cg->workers));
		obj = jv_object_set(obj, jv_string("cpuset"),
				    cg->cpuset_text ? jv_string(cpulist_format(&cg->cpuset, list, sizeof(list))) :
						      jv_null());
		obj = jv_object_set(obj, jv_string("weight"), cg->weight ? jv_number(cg->weight) : jv_null());
		obj = jv_object_set(obj, jv_string("nice"), jv_number(cg->nice));
		if (cg->work == WORK_CACHE_PRESSURE)
			obj = jv_object_set(obj, jv_string("cache_kb"), jv_number(cg->cache_kb));
		if (cg->work == WORK_BURSTY) {
			obj = jv_object_set(obj, jv_string("burst_ms"), jv_number(cg->burst_ms));
			obj = jv_object_set(obj, jv_string("sleep_ms"), jv_number(cg->sleep_ms));
		}
		cgroups = jv_array_append(cgroups, obj);
	}
	for (size_t i = 0; i < def->nr_steps; i++) {
		const struct step_def *step = &def->steps[i];
		jv obj = jv_object();
		obj = jv_object_set(obj, jv_string("at_ms"), jv_number((double)step->at_ms));
		obj = jv_object_set(obj, jv_string("op"),
				    jv_string(step->kind == STEP_KIND_KILL_SCHEDULER ? "kill-scheduler" :
										       "set-cpuset"));
		obj = jv_object_set(obj, jv_string("cgroup"), json_string_or_null(step->cgroup));
		obj = jv_object_set(obj, jv_string("cpus"),
				    step->kind == STEP_KIND_SET_CPUSET ?
					    jv_string(cpulist_format(&step->cpus, list, sizeof(list))) :
					    jv_null());
		steps = jv_array_append(steps, obj);
	}

	jv obj = jv_object();
	obj = jv_object_set(obj, jv_string("name"), jv_string(def->name));
	obj = jv_object_set(obj, jv_string("description"), json_string_or_null(def->description));
	obj = jv_object_set(obj, jv_string("source"), json_string_or_null(def->source));
	obj = jv_object_set(obj, jv_string("duration_ms"), jv_number((double)def->duration_ms));
	obj = jv_object_set(obj, jv_string("cgroups"), cgroups);
	obj = jv_object_set(obj, jv_string("steps"), steps);
	return obj;
}
