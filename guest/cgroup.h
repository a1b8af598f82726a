/* Scenario cgroups in the guest's cgroup v2 tree, under /sys/fs/cgroup/ktstr. */
#ifndef KTSTR_GUEST_CGROUP_H
#define KTSTR_GUEST_CGROUP_H

#include "work.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP_TOP CGROUP_ROOT "/ktstr"

/* Write text to a control file in one write(2), as cgroupfs requires;
 * 0 or -1 with errno set. */
int cgroup_write_file(const char *path, const char *text);

/* Create one cgroup per scenario cgroup, enable the controllers the scenario
 * uses (cpuset, cpu) and apply cpusets and weights.  Fills each cgroup's
 * path, effective and allowed.  Returns 0, or -1 and a malloc'd message in
 * *error. */
int cgroup_setup(struct scenario *scen, char **error);
/* Give a cgroup a new cpuset.cpus during the run; 0, or -1 and *error. */
int cgroup_set_cpuset(struct cgroup_spec *cg, const struct cpulist *cpus, char **error);
/* Remove the cgroups again; their processes must have exited. */
void cgroup_teardown(struct scenario *scen);

/* /sys/devices/system/cpu/online; the empty set when it cannot be read. */
void cgroup_online_cpus(struct cpulist *out);

#endif
