/* A small client for QEMU's machine protocol (QMP), driven by the caller's
 * poll loop: it reads KVM's per-vCPU statistics and notices when QEMU stops
 * the guest on its own (a KVM internal error).
 *
 * The conversation: QEMU greets, the client sends qmp_capabilities, requests
 * the vCPU list (query-cpus-fast, to order the statistics by CPU index), and
 * then sends query-stats (target vcpu, provider kvm) whenever the caller
 * calls qmp_sample().  A STOP event makes it query the run state.
 * Messages are one JSON object per line in both directions.
 */
#ifndef KTSTR_QMP_H
#define KTSTR_QMP_H

#include "json.h"

#include <stdbool.h>
#include <stddef.h>

struct qmp {
	int fd;               /* connected to QEMU's monitor (borrowed), or -1 */
	char *in;             /* bytes of an unfinished line */
	size_t in_len, in_cap;
	bool ready;           /* capabilities negotiated and vCPUs listed */
	bool stats_pending;   /* a query-stats is waiting for its response */
	bool stats_off;       /* QEMU has no KVM statistics, so send no more queries */
	jv cpu_paths;         /* QOM path of each vCPU, by CPU index */
	jv kvm_stats;         /* {"per_vcpu": [...]} of the newest response, or null */
	unsigned samples;     /* responses that contained KVM statistics */
	char *run_state;      /* QEMU's run state after a STOP event, or NULL */
	char *error;          /* reason the conversation failed, or NULL */
};

/* Start a conversation on a connected socket, which the caller keeps
 * open and reads; its bytes go to qmp_input(). */
void qmp_init(struct qmp *qmp, int fd);
/* Feed bytes read from fd.  Responses are handled and follow-up commands sent here. */
void qmp_input(struct qmp *qmp, const char *data, size_t len);
/* Forget fd after it reached end of file or failed (the caller closed it). */
void qmp_detach(struct qmp *qmp);
/* Send query-stats unless one is pending or QEMU has no KVM statistics.
 * Returns true when a query-stats is waiting for its response. */
bool qmp_sample(struct qmp *qmp);
/* Return whether QEMU stopped the guest for good (run state internal-error). */
bool qmp_guest_failed(const struct qmp *qmp);
void qmp_release(struct qmp *qmp);

/* Convert the query-stats response ret to {"per_vcpu": [...]}: one object of the
 * numeric statistics (booleans as 0 or 1, histograms left out) per vCPU
 * with KVM statistics, in CPU-index order when cpu_paths (an array of QOM
 * paths, or null) names them.  jv_null() when ret contains none.  Borrows
 * both arguments. */
jv qmp_vcpu_stats(jv ret, jv cpu_paths);

#endif
