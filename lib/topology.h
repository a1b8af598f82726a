/* CPU topology of a VM: NUMA nodes, LLCs (total), cores per LLC, threads per core.
 * Written "N,L,C,T" on the command line and "NnLlCcTt" in labels (1n2l4c1t). */
#ifndef KTSTR_TOPOLOGY_H
#define KTSTR_TOPOLOGY_H

#include <stddef.h>

struct topology {
	unsigned numa_nodes;
	unsigned llcs;
	unsigned cores_per_llc;
	unsigned threads_per_core;
};
#define TOPOLOGY_DEFAULT { 1, 1, 1, 1 }

/* Parse "N,L,C,T".  On failure return -1 and, if why is not NULL, a static
 * description of the cause ("all values must be >= 1", ...). */
int topology_parse(const char *text, struct topology *out, const char **why);
unsigned topology_cpus(const struct topology *topo);
/* "1n2l4c1t"; returns buf. */
char *topology_label(const struct topology *topo, char *buf, size_t size);

#endif
