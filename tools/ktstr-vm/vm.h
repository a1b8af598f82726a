/* Results of one VM run, shared by the parts of ktstr-vm. */
#ifndef KTSTR_VM_H
#define KTSTR_VM_H

#include "json.h"
#include "topology.h"

#include <stdbool.h>
#include <stddef.h>

/* One framed record from the guest's result channel (virtio port ktstr.result).
 * On the wire: "KTSTR <kind> <length>\n" then <length> payload bytes, then "\n". */
struct vm_record {
	char *kind;     /* "exit", "init-error", "sched", "result", ... */
	char *payload;  /* NUL-terminated copy of the payload bytes */
	size_t len;
};

/* The way a run ended, as the host sees it. */
enum vm_outcome {
	VM_OUTCOME_EXITED,      /* the guest sent an "exit" record and powered off */
	VM_OUTCOME_PANIC,       /* the guest kernel panicked */
	VM_OUTCOME_TIMEOUT,     /* killed after --timeout */
	VM_OUTCOME_QEMU_FAILED, /* QEMU did not start or died */
	VM_OUTCOME_INIT_FAILED, /* the guest stopped without an "exit" record */
	VM_OUTCOME_INTERRUPTED, /* SIGINT/SIGTERM to ktstr-vm, or the shell escape */
};

struct vm_result {
	enum vm_outcome outcome;
	int guest_status;        /* payload of the "exit" record, -1 without one */
	struct vm_record *records;
	size_t nr_records;
	const char *accel;       /* "kvm" or "tcg" */
	const char *qemu;        /* the QEMU program that ran */
	int qemu_status;         /* QEMU's exit status, 128+N for signal N */
	int qemu_signal;         /* the signal that ended QEMU, or 0 */
	char *panic_line;        /* the console's first "Kernel panic" message, or NULL */
	const char *kernel_image;
	const char *kernel_version; /* NULL when unknown */
	const char *kernel_append;  /* --append, or NULL */
	struct topology topology;
	unsigned memory_mb;
	double boot_seconds;     /* QEMU start to the guest's first record */
	double run_seconds;      /* QEMU start to exit */
	char *console_tail;      /* last lines of the kernel console */
	char *qemu_run_state;    /* set when QEMU stopped the guest itself ("internal-error") */
	jv kvm_stats;            /* {"per_vcpu": [...]} from QMP under KVM; else not an object */
};

/* The last record of a kind, or NULL. */
const struct vm_record *vm_result_record(const struct vm_result *result, const char *kind);

#endif
