/* A finished run: its exit status, the failure message and the JSON report. */
#include "vmrun.h"

#include "diag.h"
#include "json.h"
#include "xalloc.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct vm_record *vm_result_record(const struct vm_result *result, const char *kind)
{
	for (size_t i = result->nr_records; i > 0; i--) {
		if (!strcmp(result->records[i - 1].kind, kind))
			return &result->records[i - 1];
	}
	return NULL;
}

const char *vm_signal_name(int signo)
{
	static char name[24];
	const char *abbrev = sigabbrev_np(signo);

	if (abbrev)
		snprintf(name, sizeof(name), "SIG%s", abbrev);
	else
		snprintf(name, sizeof(name), "signal %d", signo);
	return name;
}

const char *vm_outcome_name(enum vm_outcome outcome)
{
	switch (outcome) {
	case VM_OUTCOME_EXITED:
		return "exited";
	case VM_OUTCOME_PANIC:
		return "panic";
	case VM_OUTCOME_TIMEOUT:
		return "timeout";
	case VM_OUTCOME_QEMU_FAILED:
		return "qemu_failed";
	case VM_OUTCOME_INIT_FAILED:
		return "init_failed";
	case VM_OUTCOME_INTERRUPTED:
		return "interrupted";
	}
	return "unknown";
}

int vm_result_status(const struct vm_result *result)
{
	switch (result->outcome) {
	case VM_OUTCOME_EXITED:
		return result->guest_status;
	case VM_OUTCOME_PANIC:
		return VM_EXIT_PANIC;
	case VM_OUTCOME_TIMEOUT:
		return VM_EXIT_TIMEOUT;
	case VM_OUTCOME_INIT_FAILED:
		return VM_EXIT_INIT_FAILED;
	case VM_OUTCOME_QEMU_FAILED:
	case VM_OUTCOME_INTERRUPTED:
		break;
	}
	return VM_EXIT_FAILED;
}

char *vm_failure_summary(const struct vm_result *result)
{
	const struct vm_record *init_error = vm_result_record(result, "init-error");

	switch (result->outcome) {
	case VM_OUTCOME_EXITED:
	case VM_OUTCOME_INTERRUPTED:
		break;
	case VM_OUTCOME_PANIC:
		if (result->panic_line)
			return xasprintf("the guest kernel panicked: %s", result->panic_line);
		return xstrdup("the guest kernel panicked");
	case VM_OUTCOME_TIMEOUT:
		return xstrdup("the VM ran past its --timeout");
	case VM_OUTCOME_QEMU_FAILED:
		if (result->qemu_run_state)
			return xasprintf("QEMU stopped the guest (run state %s)", result->qemu_run_state);
		if (result->qemu_signal)
			return xasprintf("QEMU was killed by %s", vm_signal_name(result->qemu_signal));
		return xasprintf("QEMU exited with status %d", result->qemu_status);
	case VM_OUTCOME_INIT_FAILED:
		if (init_error)
			return xasprintf("the guest's init failed: %s", init_error->payload);
		return xstrdup("the guest stopped without reporting an exit status");
	}
	return NULL;
}

/* Print text with every line indented, so it reads as a quotation. */
static void print_indented(const char *text)
{
	const char *line = text;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		int len = end ? (int)(end - line) : (int)strlen(line);

		fprintf(stderr, "  | %.*s\n", len, line);
		line = end ? end + 1 : NULL;
	}
}

void vm_result_explain(const struct vm_result *result, unsigned timeout_sec,
		       const char *panic_line)
{
	const struct vm_record *init_error = vm_result_record(result, "init-error");
	bool quoted = result->console_tail && *result->console_tail;
	const char *tail = quoted ? "; last console lines:" : " (the console printed nothing)";
	char how[64];

	switch (result->outcome) {
	case VM_OUTCOME_EXITED:
	case VM_OUTCOME_INTERRUPTED:
		return;
	case VM_OUTCOME_PANIC:
		/* The message may have scrolled out of the tail behind its trace. */
		if (panic_line)
			err_msg("the guest kernel panicked (%s)%s", panic_line, tail);
		else
			err_msg("the guest kernel panicked%s", tail);
		break;
	case VM_OUTCOME_TIMEOUT:
		err_msg("the VM timed out after %u s (--timeout)%s", timeout_sec, tail);
		break;
	case VM_OUTCOME_QEMU_FAILED:
		if (result->qemu_signal)
			snprintf(how, sizeof(how), "was killed by %s", vm_signal_name(result->qemu_signal));
		else
			snprintf(how, sizeof(how), "exited with status %d", result->qemu_status);
		if (result->qemu_run_state)
			err_msg("QEMU stopped the guest (run state %s)%s", result->qemu_run_state,
				quoted ? "; its output and the last console lines:" : "");
		else if (quoted)
			err_msg("QEMU '%s' %s; its output and the last console lines:", result->qemu, how);
		else
			err_msg("QEMU '%s' %s and printed nothing", result->qemu, how);
		break;
	case VM_OUTCOME_INIT_FAILED:
		if (init_error)
			err_msg("the guest's init failed: %s%s", init_error->payload, tail);
		else
			err_msg("the guest stopped without reporting an exit status%s", tail);
		break;
	}
	if (quoted)
		print_indented(result->console_tail);
}

int vm_result_print_json(const struct vm_result *result, int status, const char *guest_stdout,
			 size_t len)
{
	char label[64];
	jv obj = jv_object();
	jv records = jv_array();

	obj = jv_object_set(obj, jv_string("outcome"), jv_string(vm_outcome_name(result->outcome)));
	obj = jv_object_set(obj, jv_string("status"), jv_number(status));
	obj = jv_object_set(obj, jv_string("guest_status"),
			    result->guest_status >= 0 ? jv_number(result->guest_status) : jv_null());
	obj = jv_object_set(obj, jv_string("accel"), json_string_or_null(result->accel));
	obj = jv_object_set(obj, jv_string("topology"),
			    jv_string(topology_label(&result->topology, label, sizeof(label))));
	obj = jv_object_set(obj, jv_string("cpus"), jv_number(topology_cpus(&result->topology)));
	obj = jv_object_set(obj, jv_string("memory_mb"), jv_number(result->memory_mb));
	obj = jv_object_set(obj, jv_string("kernel_image"), json_string_or_null(result->kernel_image));
	obj = jv_object_set(obj, jv_string("kernel_version"),
			    json_string_or_null(result->kernel_version));
	obj = jv_object_set(obj, jv_string("boot_seconds"),
			    result->boot_seconds > 0 ? jv_number(result->boot_seconds) : jv_null());
	obj = jv_object_set(obj, jv_string("run_seconds"), jv_number(result->run_seconds));
	obj = jv_object_set(obj, jv_string("kvm_stats"), jv_get_kind(result->kvm_stats) == JV_KIND_OBJECT
								 ? jv_copy(result->kvm_stats)
								 : jv_null());
	for (size_t i = 0; i < result->nr_records; i++) {
		const struct vm_record *rec = &result->records[i];
		jv item = jv_object();

		item = jv_object_set(item, jv_string("kind"), jv_string(rec->kind));
		item = jv_object_set(item, jv_string("payload"),
				     jv_string_sized(rec->payload, (int)rec->len));
		records = jv_array_append(records, item);
	}
	obj = jv_object_set(obj, jv_string("records"), records);
	if (guest_stdout)
		obj = jv_object_set(obj, jv_string("stdout"), jv_string_sized(guest_stdout, (int)len));
	if (result->outcome != VM_OUTCOME_EXITED && result->console_tail)
		obj = jv_object_set(obj, jv_string("console_tail"), jv_string(result->console_tail));
	return json_print(stdout, obj, true);
}

void vm_result_release(struct vm_result *result)
{
	for (size_t i = 0; i < result->nr_records; i++) {
		free(result->records[i].kind);
		free(result->records[i].payload);
	}
	free(result->records);
	free(result->console_tail);
	free(result->qemu_run_state);
	free(result->panic_line);
	result->panic_line = NULL;
	jv_free(result->kvm_stats);
	result->kvm_stats = jv_null();
	result->qemu_run_state = NULL;
	result->records = NULL;
	result->nr_records = 0;
	result->console_tail = NULL;
}
