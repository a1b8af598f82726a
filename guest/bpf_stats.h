/* BPF program statistics in the guest, through the raw bpf(2) syscall: no
 * libbpf in a static PID 1.  Run counts and times are only counted while
 * kernel.bpf_stats_enabled is 1. */
#ifndef KTSTR_GUEST_BPF_STATS_H
#define KTSTR_GUEST_BPF_STATS_H

#include "json_out.h"

#include <stddef.h>
#include <stdint.h>

struct bpf_prog_stat {
	uint32_t id;
	uint32_t type;          /* enum bpf_prog_type */
	char name[128];         /* the full function name from BTF when the program has it */
	uint32_t verified_insns;
	uint64_t run_cnt;
	uint64_t run_time_ns;
};

struct bpf_prog_list {
	struct bpf_prog_stat *progs;
	size_t len;
};

/* Every loaded program, in id order.  0, or -1 with errno set (ENOSYS or
 * EPERM when the kernel has no BPF or refuses it). */
int bpf_stats_collect(struct bpf_prog_list *list);
void bpf_stats_release(struct bpf_prog_list *list);

/* bpftool's name of a program type ("struct_ops"), "unknown" when new. */
const char *bpf_prog_type_name(uint32_t type);

/* [{id, name, type, verified_insns, run_cnt, run_time_ns}] */
void bpf_stats_to_json(const struct bpf_prog_list *list, struct json_out *out);
/* [{name, verified_insns}] of the struct_ops programs (the scheduler's). */
void bpf_verifier_stats_to_json(const struct bpf_prog_list *list, struct json_out *out);
/* [{name, cnt, nsecs, nsecs_per_call}]: struct_ops programs' runs between two
 * snapshots, for programs present in both. */
void bpf_stats_deltas_to_json(const struct bpf_prog_list *before, const struct bpf_prog_list *after,
			      struct json_out *out);

#endif
