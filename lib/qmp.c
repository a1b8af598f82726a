/* The QMP client: line framing, the handshake and the statistics query. */
#include "qmp.h"

#include "diag.h"
#include "fsutil.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A longer line cannot come from QEMU, so the conversation is abandoned. */
#define QMP_LINE_MAX (16u << 20)

static const char CMD_CAPABILITIES[] = "{\"execute\":\"qmp_capabilities\",\"id\":\"caps\"}\n";
static const char CMD_CPUS[] = "{\"execute\":\"query-cpus-fast\",\"id\":\"cpus\"}\n";
static const char CMD_STATS[] = "{\"execute\":\"query-stats\",\"id\":\"stats\",\"arguments\":"
				"{\"target\":\"vcpu\",\"providers\":[{\"provider\":\"kvm\"}]}}\n";
static const char CMD_STATUS[] = "{\"execute\":\"query-status\",\"id\":\"status\"}\n";

void qmp_init(struct qmp *qmp, int fd)
{
	*qmp = (struct qmp){ .fd = fd, .cpu_paths = jv_null(), .kvm_stats = jv_null() };
}

static void qmp_fail(struct qmp *qmp, const char *reason)
{
	if (!qmp->error) {
		qmp->error = xstrdup(reason);
		debug_msg("QMP: %s", reason);
	}
	qmp->ready = false;
	qmp->stats_pending = false;
}

static void qmp_send(struct qmp *qmp, const char *command)
{
	if (qmp->fd < 0 || qmp->error)
		return;
	if (fs_write_all(qmp->fd, command, strlen(command)) != 0)
		qmp_fail(qmp, "cannot write to QEMU's monitor socket");
}

/* Fill cpu_paths from a query-cpus-fast response: [{"cpu-index", "qom-path"}]. */
static void take_cpus(struct qmp *qmp, jv cpus)
{
	jv paths = jv_array();
	int count = jv_get_kind(cpus) == JV_KIND_ARRAY ? jv_array_length(jv_copy(cpus)) : 0;

	for (int i = 0; i < count; i++) {
		jv cpu = jv_array_get(jv_copy(cpus), i);
		long long index;
		const char *path = json_str(cpu, "qom-path");

		if (path && json_int(cpu, "cpu-index", &index) && index >= 0 && index < 65536)
			paths = jv_array_set(paths, (int)index, jv_string(path));
		jv_free(cpu);
	}
	jv_free(qmp->cpu_paths);
	qmp->cpu_paths = paths;
}

static void take_stats(struct qmp *qmp, jv ret)
{
	jv stats = qmp_vcpu_stats(ret, qmp->cpu_paths);

	qmp->stats_pending = false;
	if (jv_get_kind(stats) == JV_KIND_NULL) {
		/* TCG registers no statistics provider, so later queries would be empty too. */
		if (!qmp->samples)
			qmp->stats_off = true;
		jv_free(stats);
		return;
	}
	jv_free(qmp->kvm_stats);
	qmp->kvm_stats = stats;
	qmp->samples++;
}

static void take_response(struct qmp *qmp, const char *id, jv msg)
{
	bool ok = json_has(msg, "return");
	jv ret = ok ? jv_object_get(jv_copy(msg), jv_string("return")) : jv_null();

	if (!strcmp(id, "caps")) {
		if (ok)
			qmp_send(qmp, CMD_CPUS);
		else
			qmp_fail(qmp, "QEMU refused qmp_capabilities");
	} else if (!strcmp(id, "cpus")) {
		/* Without the vCPU list the statistics keep QEMU's order. */
		if (ok)
			take_cpus(qmp, ret);
		qmp->ready = !qmp->error;
	} else if (!strcmp(id, "stats")) {
		if (ok) {
			take_stats(qmp, ret);
		} else {
			/* QEMU before 7.1 has no query-stats. */
			debug_msg("QMP: query-stats failed; KVM statistics are not collected");
			qmp->stats_pending = false;
			qmp->stats_off = true;
		}
	} else if (!strcmp(id, "status") && ok) {
		const char *state = json_str(ret, "status");
		if (state) {
			free(qmp->run_state);
			qmp->run_state = xstrdup(state);
		}
	}
	jv_free(ret);
}

static void take_line(struct qmp *qmp, const char *line, size_t len)
{
	jv msg = json_parse(line, len, NULL, NULL);

	if (jv_get_kind(msg) != JV_KIND_OBJECT) {
		jv_free(msg);
		return;
	}
	const char *id = json_str(msg, "id");
	const char *event = json_str(msg, "event");

	if (json_has(msg, "QMP"))
		qmp_send(qmp, CMD_CAPABILITIES);
	else if (event && !strcmp(event, "STOP"))
		qmp_send(qmp, CMD_STATUS);
	else if (id)
		take_response(qmp, id, msg);
	jv_free(msg);
}

void qmp_input(struct qmp *qmp, const char *data, size_t len)
{
	if (qmp->error)
		return;
	if (qmp->in_len + len > QMP_LINE_MAX) {
		qmp_fail(qmp, "QEMU's monitor sent a line longer than 16 MiB");
		return;
	}
	if (qmp->in_len + len > qmp->in_cap) {
		qmp->in_cap = (qmp->in_len + len) * 2;
		qmp->in = xrealloc(qmp->in, qmp->in_cap);
	}
	memcpy(qmp->in + qmp->in_len, data, len);
	qmp->in_len += len;

	size_t start = 0;
	char *newline;
	while ((newline = memchr(qmp->in + start, '\n', qmp->in_len - start))) {
		size_t end = (size_t)(newline - qmp->in);
		if (end > start)
			take_line(qmp, qmp->in + start, end - start);
		start = end + 1;
	}
	memmove(qmp->in, qmp->in + start, qmp->in_len - start);
	qmp->in_len -= start;
}

void qmp_detach(struct qmp *qmp)
{
	qmp->fd = -1;
	qmp->ready = false;
	qmp->stats_pending = false;
}

bool qmp_sample(struct qmp *qmp)
{
	if (qmp->ready && !qmp->stats_off && !qmp->stats_pending && qmp->fd >= 0) {
		qmp->stats_pending = true;
		qmp_send(qmp, CMD_STATS);
	}
	return qmp->stats_pending;
}

bool qmp_guest_failed(const struct qmp *qmp)
{
	return qmp->run_state && !strcmp(qmp->run_state, "internal-error");
}

void qmp_release(struct qmp *qmp)
{
	free(qmp->in);
	free(qmp->run_state);
	free(qmp->error);
	jv_free(qmp->cpu_paths);
	jv_free(qmp->kvm_stats);
	*qmp = (struct qmp){ .fd = -1, .cpu_paths = jv_null(), .kvm_stats = jv_null() };
}

/* One vCPU's [{"name", "value"}] as {name: number}. */
static jv stats_object(jv list)
{
	jv obj = jv_object();
	int count = jv_get_kind(list) == JV_KIND_ARRAY ? jv_array_length(jv_copy(list)) : 0;

	for (int i = 0; i < count; i++) {
		jv stat = jv_array_get(jv_copy(list), i);
		const char *name = json_str(stat, "name");
		jv value = name && json_has(stat, "value") ? jv_object_get(jv_copy(stat), jv_string("value"))
							   : jv_null();

		switch (jv_get_kind(value)) {
		case JV_KIND_NUMBER:
			obj = jv_object_set(obj, jv_string(name), jv_copy(value));
			break;
		case JV_KIND_TRUE:
		case JV_KIND_FALSE:
			obj = jv_object_set(obj, jv_string(name), jv_number(jv_get_kind(value) == JV_KIND_TRUE));
			break;
		default:
			break; /* histograms (arrays) and anything unknown */
		}
		jv_free(value);
		jv_free(stat);
	}
	return obj;
}

/* The position of path in cpu_paths, or -1. */
static int cpu_index(jv cpu_paths, const char *path)
{
	int count = jv_get_kind(cpu_paths) == JV_KIND_ARRAY ? jv_array_length(jv_copy(cpu_paths)) : 0;

	for (int i = 0; path && i < count; i++) {
		jv item = jv_array_get(jv_copy(cpu_paths), i);
		bool same = jv_get_kind(item) == JV_KIND_STRING && !strcmp(jv_string_value(item), path);
		jv_free(item);
		if (same)
			return i;
	}
	return -1;
}

jv qmp_vcpu_stats(jv ret, jv cpu_paths)
{
	int count = jv_get_kind(ret) == JV_KIND_ARRAY ? jv_array_length(jv_copy(ret)) : 0;
	jv by_index = jv_array(); /* vCPUs the list names, at their index */
	jv unnamed = jv_array();  /* the others, in QEMU's order */

	for (int i = 0; i < count; i++) {
		jv entry = jv_array_get(jv_copy(ret), i);
		const char *provider = jv_get_kind(entry) == JV_KIND_OBJECT ? json_str(entry, "provider") : NULL;

		if (provider && !strcmp(provider, "kvm") && json_has(entry, "stats")) {
			jv stats = stats_object(jv_object_get(jv_copy(entry), jv_string("stats")));
			int index = cpu_index(cpu_paths, json_str(entry, "qom-path"));
			if (index >= 0)
				by_index = jv_array_set(by_index, index, stats);
			else
				unnamed = jv_array_append(unnamed, stats);
		}
		jv_free(entry);
	}

	/* jv_array_set fills gaps with null, for vCPUs missing from the response. */
	jv per_vcpu = jv_array();
	int named = jv_array_length(jv_copy(by_index));
	for (int i = 0; i < named; i++) {
		jv item = jv_array_get(jv_copy(by_index), i);
		if (jv_get_kind(item) == JV_KIND_OBJECT)
			per_vcpu = jv_array_append(per_vcpu, item);
		else
			jv_free(item);
	}
	jv_free(by_index);
	per_vcpu = jv_array_concat(per_vcpu, unnamed);
	if (jv_array_length(jv_copy(per_vcpu)) == 0) {
		jv_free(per_vcpu);
		return jv_null();
	}
	return jv_object_set(jv_object(), jv_string("per_vcpu"), per_vcpu);
}
