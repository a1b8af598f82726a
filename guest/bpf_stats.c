/* BPF program statistics through bpf(2); see bpf_stats.h. */
#include "bpf_stats.h"

#include "xalloc.h"

#include <errno.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int obj_info(int fd, void *info, uint32_t *len)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (uint32_t)fd;
	attr.info.info_len = *len;
	attr.info.info = (uint64_t)(uintptr_t)info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) != 0)
		return -1;
	*len = attr.info.info_len;
	return 0;
}

/* Bytes that a BTF type record of this kind takes after struct btf_type;
 * -1 for a kind newer than these headers, which ends the walk. */
static long btf_type_extra(const struct btf_type *t)
{
	unsigned vlen = BTF_INFO_VLEN(t->info);

	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_INT:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		return 4;
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_ARRAY:
		return (long)sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return (long)(vlen * sizeof(struct btf_member));
	case BTF_KIND_ENUM:
		return (long)(vlen * sizeof(struct btf_enum));
	case BTF_KIND_FUNC_PROTO:
		return (long)(vlen * sizeof(struct btf_param));
	case BTF_KIND_DATASEC:
		return (long)(vlen * sizeof(struct btf_var_secinfo));
	case BTF_KIND_ENUM64:
		return (long)(vlen * sizeof(struct btf_enum64));
	default:
		return -1;
	}
}

/* Name of type type_id in a raw BTF blob, copied into name; 0 or -1. */
static int btf_type_name(const unsigned char *data, size_t size, uint32_t type_id, char *name,
			 size_t name_size)
{
	struct btf_header hdr;

	if (size < sizeof(hdr))
		return -1;
	memcpy(&hdr, data, sizeof(hdr));
	if (hdr.magic != BTF_MAGIC || (size_t)hdr.hdr_len + hdr.type_off + hdr.type_len > size ||
	    (size_t)hdr.hdr_len + hdr.str_off + hdr.str_len > size)
		return -1;

	const unsigned char *types = data + hdr.hdr_len + hdr.type_off;
	const char *strings = (const char *)data + hdr.hdr_len + hdr.str_off;
	size_t offset = 0;

	/* Type ids count from 1 in a BTF object that is not split from a base. */
	for (uint32_t id = 1; offset + sizeof(struct btf_type) <= hdr.type_len; id++) {
		struct btf_type t;
		memcpy(&t, types + offset, sizeof(t));
		if (id == type_id) {
			if (t.name_off >= hdr.str_len)
				return -1;
			snprintf(name, name_size, "%.*s", (int)(hdr.str_len - t.name_off),
				 strings + t.name_off);
			return name[0] ? 0 : -1;
		}
		long extra = btf_type_extra(&t);
		if (extra < 0)
			return -1;
		offset += sizeof(t) + (size_t)extra;
	}
	return -1;
}

/* The kernel keeps only 15 characters of a program's name; the BTF function
 * record of the program has the whole name. */
static void full_name(int prog_fd, const struct bpf_prog_info *info, char *name, size_t name_size)
{
	struct bpf_prog_info with_func;
	struct bpf_func_info func;
	union bpf_attr attr;
	uint32_t len = sizeof(with_func);

	if (!info->btf_id || !info->nr_func_info)
		return;
	memset(&with_func, 0, sizeof(with_func));
	with_func.nr_func_info = 1;
	with_func.func_info_rec_size = sizeof(func);
	with_func.func_info = (uint64_t)(uintptr_t)&func;
	if (obj_info(prog_fd, &with_func, &len) != 0)
		return;

	memset(&attr, 0, sizeof(attr));
	attr.btf_id = info->btf_id;
	int btf_fd = sys_bpf(BPF_BTF_GET_FD_BY_ID, &attr);
	if (btf_fd < 0)
		return;
	struct bpf_btf_info btf;
	memset(&btf, 0, sizeof(btf));
	len = sizeof(btf);
	if (obj_info(btf_fd, &btf, &len) == 0 && btf.btf_size > 0) {
		unsigned char *data = xmalloc(btf.btf_size);
		uint32_t size = btf.btf_size;
		memset(&btf, 0, sizeof(btf));
		btf.btf = (uint64_t)(uintptr_t)data;
		btf.btf_size = size;
		len = sizeof(btf);
		char found[sizeof(((struct bpf_prog_stat *)0)->name)];
		if (obj_info(btf_fd, &btf, &len) == 0 &&
		    btf_type_name(data, size, func.type_id, found, sizeof(found)) == 0)
			snprintf(name, name_size, "%s", found);
		free(data);
	}
	close(btf_fd);
}

int bpf_stats_collect(struct bpf_prog_list *list)
{
	union bpf_attr attr;
	uint32_t id = 0;
	size_t cap = 0;

	list->progs = NULL;
	list->len = 0;
	for (;;) {
		memset(&attr, 0, sizeof(attr));
		attr.start_id = id;
		if (sys_bpf(BPF_PROG_GET_NEXT_ID, &attr) != 0) {
			if (errno == ENOENT)
				return 0;
			return -1;
		}
		id = attr.next_id;

		memset(&attr, 0, sizeof(attr));
		attr.prog_id = id;
		int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
		if (fd < 0)
			continue; /* unloaded since the id was listed */

		struct bpf_prog_info info;
		uint32_t len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (obj_info(fd, &info, &len) != 0) {
			close(fd);
			continue;
		}
		if (list->len == cap) {
			cap = cap ? cap * 2 : 32;
			list->progs = xrealloc(list->progs, cap * sizeof(*list->progs));
		}
		struct bpf_prog_stat *prog = &list->progs[list->len++];
		memset(prog, 0, sizeof(*prog));
		prog->id = info.id;
		prog->type = info.type;
		snprintf(prog->name, sizeof(prog->name), "%.*s", (int)sizeof(info.name), info.name);
		full_name(fd, &info, prog->name, sizeof(prog->name));
		prog->verified_insns = info.verified_insns;
		prog->run_cnt = info.run_cnt;
		prog->run_time_ns = info.run_time_ns;
		close(fd);
	}
}

void bpf_stats_release(struct bpf_prog_list *list)
{
	free(list->progs);
	list->progs = NULL;
	list->len = 0;
}

const char *bpf_prog_type_name(uint32_t type)
{
	/* Spelled as bpftool prints them, in the order of enum bpf_prog_type. */
	static const char *const names[] = {
		"unspec", "socket_filter", "kprobe", "sched_cls", "sched_act", "tracepoint",
		"xdp", "perf_event", "cgroup_skb", "cgroup_sock", "lwt_in", "lwt_out",
		"lwt_xmit", "sock_ops", "sk_skb", "cgroup_device", "sk_msg", "raw_tracepoint",
		"cgroup_sock_addr", "lwt_seg6local", "lirc_mode2", "sk_reuseport",
		"flow_dissector", "cgroup_sysctl", "raw_tracepoint_writable", "cgroup_sockopt",
		"tracing", "struct_ops", "ext", "lsm", "sk_lookup", "syscall", "netfilter",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "unknown";
}

void bpf_stats_to_json(const struct bpf_prog_list *list, struct json_out *out)
{
	json_out_array_begin(out);
	for (size_t i = 0; i < list->len; i++) {
		const struct bpf_prog_stat *prog = &list->progs[i];
		json_out_object_begin(out);
		json_out_kv_uint(out, "id", prog->id);
		json_out_kv_string(out, "name", prog->name);
		json_out_kv_string(out, "type", bpf_prog_type_name(prog->type));
		json_out_kv_uint(out, "verified_insns", prog->verified_insns);
		json_out_kv_uint(out, "run_cnt", prog->run_cnt);
		json_out_kv_uint(out, "run_time_ns", prog->run_time_ns);
		json_out_object_end(out);
	}
	json_out_array_end(out);
}

void bpf_verifier_stats_to_json(const struct bpf_prog_list *list, struct json_out *out)
{
	json_out_array_begin(out);
	for (size_t i = 0; i < list->len; i++) {
		const struct bpf_prog_stat *prog = &list->progs[i];
		if (prog->type != BPF_PROG_TYPE_STRUCT_OPS)
			continue;
		json_out_object_begin(out);
		json_out_kv_string(out, "name", prog->name);
		json_out_kv_uint(out, "verified_insns", prog->verified_insns);
		json_out_object_end(out);
	}
	json_out_array_end(out);
}

void bpf_stats_deltas_to_json(const struct bpf_prog_list *before, const struct bpf_prog_list *after,
			      struct json_out *out)
{
	json_out_array_begin(out);
	for (size_t i = 0; i < after->len; i++) {
		const struct bpf_prog_stat *now = &after->progs[i];
		const struct bpf_prog_stat *then = NULL;

		if (now->type != BPF_PROG_TYPE_STRUCT_OPS)
			continue;
		for (size_t j = 0; j < before->len && !then; j++) {
			if (before->progs[j].id == now->id)
				then = &before->progs[j];
		}
		if (!then)
			continue;
		uint64_t cnt = now->run_cnt - then->run_cnt;
		uint64_t nsecs = now->run_time_ns - then->run_time_ns;
		json_out_object_begin(out);
		json_out_kv_string(out, "name", now->name);
		json_out_kv_uint(out, "cnt", cnt);
		json_out_kv_uint(out, "nsecs", nsecs);
		json_out_kv_double(out, "nsecs_per_call", cnt ? (double)nsecs / (double)cnt : 0.0);
		json_out_object_end(out);
	}
	json_out_array_end(out);
}
