/* Scenario cgroups: creation, cpusets, weights, removal. */
#include "cgroup.h"

#include "fsutil.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cgroup_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	size_t len = strlen(text);
	ssize_t done = write(fd, text, len);
	int saved = errno;
	close(fd);
	if (done != (ssize_t)len) {
		errno = done < 0 ? saved : EIO;
		return -1;
	}
	return 0;
}

void cgroup_online_cpus(struct cpulist *out)
{
	char *text = fs_read_file("/sys/devices/system/cpu/online", NULL);

	if (!text || cpulist_parse(text, out, NULL) != 0)
		cpulist_clear(out);
	free(text);
}

/* Write "+controller" to a cgroup.subtree_control. */
static int enable_controller(const char *dir, const char *controller, char **error)
{
	char *path = xasprintf("%s/cgroup.subtree_control", dir);
	char *text = xasprintf("+%s", controller);
	int status = cgroup_write_file(path, text);

	if (status != 0)
		*error = xasprintf("cannot enable the %s controller in '%s': %s", controller, dir,
				   strerror(errno));
	free(text);
	free(path);
	return status;
}

static int write_cpuset(const struct cgroup_spec *cg, const struct cpulist *cpus, char **error)
{
	char list[4096];
	char *path = xasprintf("%s/cpuset.cpus", cg->path);
	int status = cgroup_write_file(path, cpulist_format(cpus, list, sizeof(list)));

	if (status != 0)
		*error = xasprintf("cannot set cpuset '%s' of cgroup '%s': %s", list, cg->name,
				   strerror(errno));
	free(path);
	return status;
}

/* cpuset.cpus.effective, or every online CPU without the cpuset controller. */
static void read_effective(const struct cgroup_spec *cg, struct cpulist *out)
{
	char *path = xasprintf("%s/cpuset.cpus.effective", cg->path);
	char *text = fs_read_file(path, NULL);

	if (!text || cpulist_parse(text, out, NULL) != 0)
		cgroup_online_cpus(out);
	free(text);
	free(path);
}

int cgroup_setup(struct scenario *scen, char **error)
{
	bool need_cpuset = false, need_cpu = false;

	for (size_t i = 0; i < scen->nr_cgroups; i++) {
		need_cpuset |= scen->cgroups[i].has_cpuset;
		need_cpu |= scen->cgroups[i].weight != 0;
	}
	for (size_t i = 0; i < scen->nr_steps; i++)
		need_cpuset |= scen->steps[i].op == STEP_SET_CPUSET;

	/* A cgroup left by an earlier run in the same boot would be reused with
	 * stale settings; there is none in a fresh guest. */
	cgroup_teardown(scen);
	if (need_cpuset && enable_controller(CGROUP_ROOT, "cpuset", error))
		return -1;
	if (need_cpu && enable_controller(CGROUP_ROOT, "cpu", error))
		return -1;
	if (mkdir(CGROUP_TOP, 0755) != 0 && errno != EEXIST) {
		*error = xasprintf("cannot create cgroup '%s': %s", CGROUP_TOP, strerror(errno));
		return -1;
	}
	if (need_cpuset && enable_controller(CGROUP_TOP, "cpuset", error))
		return -1;
	if (need_cpu && enable_controller(CGROUP_TOP, "cpu", error))
		return -1;

	for (size_t i = 0; i < scen->nr_cgroups; i++) {
		struct cgroup_spec *cg = &scen->cgroups[i];

		free(cg->path);
		cg->path = xasprintf("%s/%s", CGROUP_TOP, cg->name);
		if (mkdir(cg->path, 0755) != 0 && errno != EEXIST) {
			*error = xasprintf("cannot create cgroup '%s': %s", cg->path, strerror(errno));
			return -1;
		}
		if (cg->has_cpuset && write_cpuset(cg, &cg->cpuset, error))
			return -1;
		if (cg->weight) {
			char *path = xasprintf("%s/cpu.weight", cg->path);
			char *text = xasprintf("%u", cg->weight);
			int status = cgroup_write_file(path, text);
			free(text);
			free(path);
			if (status != 0) {
				*error = xasprintf("cannot set cpu.weight %u of cgroup '%s': %s",
						   cg->weight, cg->name, strerror(errno));
				return -1;
			}
		}
		read_effective(cg, &cg->effective);
		cg->allowed = cg->effective;
	}
	return 0;
}

int cgroup_set_cpuset(struct cgroup_spec *cg, const struct cpulist *cpus, char **error)
{
	struct cpulist effective;

	if (write_cpuset(cg, cpus, error))
		return -1;
	read_effective(cg, &effective);
	cpulist_union(&cg->allowed, &effective);
	return 0;
}

void cgroup_teardown(struct scenario *scen)
{
	for (size_t i = 0; i < scen->nr_cgroups; i++) {
		char *path = xasprintf("%s/%s", CGROUP_TOP, scen->cgroups[i].name);
		rmdir(path);
		free(path);
	}
	rmdir(CGROUP_TOP);
}
