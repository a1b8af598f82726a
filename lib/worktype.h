/* Work types of scenario workers: what each worker process does in its loop.
 * The names are the upstream ktstr spellings (PascalCase, case-sensitive),
 * shared by the host, which validates scenarios, and the guest, which runs
 * them. */
#ifndef KTSTR_WORKTYPE_H
#define KTSTR_WORKTYPE_H

#include <stdbool.h>

enum work_type {
	WORK_CPU_SPIN,
	WORK_YIELD_HEAVY,
	WORK_MIXED,
	WORK_IO_SYNC,
	WORK_BURSTY,
	WORK_PIPE_IO,
	WORK_FUTEX_PING_PONG,
	WORK_CACHE_PRESSURE,
	WORK_FORK_EXIT,
	WORK_AFFINITY_CHURN,
	WORK_TYPE_COUNT
};

/* "CpuSpin", ... */
const char *work_type_name(enum work_type type);
/* One line for --list-work-types and the man page. */
const char *work_type_description(enum work_type type);
/* 0, or -1 when name is not a work type. */
int work_type_parse(const char *name, enum work_type *out);
/* Workers of this type run in pairs, so a cgroup needs an even number. */
bool work_type_paired(enum work_type type);

#endif
