#include "topology.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* The largest VM QEMU's x86 machines accept without x2APIC tricks is well below this. */
#define TOPOLOGY_MAX_CPUS 1024u

int topology_parse(const char *text, struct topology *out, const char **why)
{
	unsigned values[4];
	const char *p = text;
	const char *fail = NULL;

	for (int i = 0; i < 4 && !fail; i++) {
		char *end;
		errno = 0;
		if (*p < '0' || *p > '9') {
			fail = "expected numa_nodes,llcs,cores,threads (four numbers)";
			break;
		}
		unsigned long value = strtoul(p, &end, 10);
		if (errno || value > 0xffffu)
			fail = "value out of range";
		values[i] = (unsigned)value;
		p = end;
		if (i < 3 && *p++ != ',')
			fail = "expected numa_nodes,llcs,cores,threads (four numbers)";
	}
	if (!fail && *p != '\0')
		fail = "expected numa_nodes,llcs,cores,threads (four numbers)";
	if (!fail && (!values[0] || !values[1] || !values[2] || !values[3]))
		fail = "all values must be >= 1";
	if (!fail && values[1] % values[0] != 0)
		fail = "the number of LLCs must be a multiple of the number of NUMA nodes";
	if (!fail && (unsigned long)values[1] * values[2] * values[3] > TOPOLOGY_MAX_CPUS)
		fail = "more than 1024 CPUs";
	if (fail) {
		if (why)
			*why = fail;
		return -1;
	}
	*out = (struct topology){ values[0], values[1], values[2], values[3] };
	return 0;
}

unsigned topology_cpus(const struct topology *topo)
{
	return topo->llcs * topo->cores_per_llc * topo->threads_per_core;
}

char *topology_label(const struct topology *topo, char *buf, size_t size)
{
	snprintf(buf, size, "%un%ul%uc%ut", topo->numa_nodes, topo->llcs, topo->cores_per_llc,
		 topo->threads_per_core);
	return buf;
}
