/* The accelerator choice and the QEMU command line. */
#include "vmrun.h"

#include "diag.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* PVM ("pagetable-based virtual machine") KVM runs guest kernel code through
 * its instruction emulator, which cannot execute a stock kernel. */
#define KVM_PVM_MODULE "/sys/module/kvm_pvm"

/* Whether /dev/kvm can boot a stock kernel; *why gets the reason when not.
 * *pvm is set when the only obstacle is PVM. */
static bool kvm_usable(const char **why, bool *pvm)
{
	*pvm = false;
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			*why = "/dev/kvm does not exist";
		else if (errno == EACCES || errno == EPERM)
			*why = "/dev/kvm is not accessible (add the user to the kvm group)";
		else
			*why = "/dev/kvm cannot be opened";
		return false;
	}
	close(fd);
	if (fs_exists(KVM_PVM_MODULE)) {
		*pvm = true;
		*why = "/dev/kvm is PVM, which cannot run a stock kernel";
		return false;
	}
	*why = "/dev/kvm works";
	return true;
}

const char *vm_choose_accel(const char *request, const char **why)
{
	const char *reason = NULL;
	bool pvm;

	*why = NULL;
	if (!strcmp(request, "tcg"))
		return "tcg";
	if (!strcmp(request, "kvm")) {
		if (!kvm_usable(&reason, &pvm) && !pvm) {
			err_msg("cannot use --accel kvm: %s; use --accel tcg or auto", reason);
			return NULL;
		}
		/* Requested by name, so go on: a kernel built as a PVM guest boots there. */
		if (pvm)
			warn_msg("--accel kvm: %s; only a kernel built as a PVM guest boots", reason);
		return "kvm";
	}
	if (strcmp(request, "auto") != 0) {
		err_msg("invalid accelerator '%s': expected auto, kvm or tcg", request);
		return NULL;
	}
	bool kvm = kvm_usable(&reason, &pvm);
	*why = reason;
	return kvm ? "kvm" : "tcg";
}

/* A chardev on a unix socket that ktstr-vm listens on; QEMU connects to it. */
static void push_socket_chardev(struct strvec *argv, const char *dir, const char *id)
{
	strvec_push(argv, "-chardev");
	strvec_pushf(argv, "socket,id=%s,path=%s/%s", id, dir, id);
}

static void push_topology(struct strvec *argv, const struct vm_launch *launch)
{
	const struct topology *topo = &launch->topology;
	unsigned nodes = topo->numa_nodes;

	/* Each NUMA node is a socket and each LLC a die: with an Intel CPU model
	 * QEMU gives every die its own L3 cache in CPUID leaf 4. */
	strvec_push(argv, "-smp");
	strvec_pushf(argv, "cpus=%u,sockets=%u,dies=%u,cores=%u,threads=%u", topology_cpus(topo), nodes,
		     topo->llcs / nodes, topo->cores_per_llc, topo->threads_per_core);
	strvec_push(argv, "-m");
	strvec_pushf(argv, "%uM", launch->memory_mb);
	if (nodes < 2)
		return;
	/* Split the memory evenly; the first nodes take the remainder. */
	for (unsigned node = 0; node < nodes; node++) {
		unsigned size = launch->memory_mb / nodes + (node < launch->memory_mb % nodes ? 1 : 0);

		strvec_push(argv, "-object");
		strvec_pushf(argv, "memory-backend-ram,id=mem%u,size=%uM", node, size);
		strvec_push(argv, "-numa");
		strvec_pushf(argv, "node,nodeid=%u,memdev=mem%u", node, node);
	}
	for (unsigned node = 0; node < nodes; node++) {
		strvec_push(argv, "-numa");
		strvec_pushf(argv, "cpu,node-id=%u,socket-id=%u", node, node);
	}
}

void vm_qemu_argv(const struct vm_launch *launch, struct strvec *argv)
{
	static const char *const ports[] = { "stdout", "stderr", "result" };

	strvec_push(argv, launch->qemu);
	strvec_push(argv, "-nodefaults");
	strvec_push(argv, "-no-user-config");
	strvec_push(argv, "-nographic");
	strvec_push(argv, "-no-reboot");
	strvec_push(argv, "-display");
	strvec_push(argv, "none");
	strvec_push(argv, "-accel");
	if (!strcmp(launch->accel, "tcg")) {
		/* NOTE: with one host thread per vCPU (thread=multi), QEMU 7.2
		 * occasionally lets a vCPU run code that another vCPU was patching,
		 * and the guest kernel dies in an "Oops: int3" while it boots SMP,
		 * more often on a loaded host.  One thread for all vCPUs avoids it;
		 * KTSTR_TCG_THREAD=multi brings the parallel mode back. */
		const char *thread = getenv("KTSTR_TCG_THREAD");
		strvec_pushf(argv, "tcg,thread=%s", thread && !strcmp(thread, "multi") ? "multi" : "single");
	} else {
		strvec_push(argv, launch->accel);
	}
	/* NOTE: the tests run only the TCG branch.  Under KVM the guest gets
	 * the host's vendor, and on AMD hosts QEMU's cache model may not give
	 * each die its own L3. */
	strvec_push(argv, "-cpu");
	strvec_push(argv, !strcmp(launch->accel, "kvm") ? "host" : "max,vendor=GenuineIntel");
	push_topology(argv, launch);

	strvec_push(argv, "-kernel");
	strvec_push(argv, launch->kernel_image);
	strvec_push(argv, "-initrd");
	strvec_push(argv, launch->initrd);
	strvec_push(argv, "-append");
	strvec_push(argv, launch->cmdline);

	/* The kernel console on the first 8250 UART (ttyS0). */
	push_socket_chardev(argv, launch->sock_dir, "console");
	strvec_push(argv, "-serial");
	strvec_push(argv, "chardev:console");

	/* The machine protocol, for KVM statistics and QEMU's run state. */
	push_socket_chardev(argv, launch->sock_dir, "qmp");
	strvec_push(argv, "-mon");
	strvec_push(argv, "chardev=qmp,mode=control");

	strvec_push(argv, "-device");
	strvec_push(argv, "virtio-serial-pci,id=vser0");
	if (launch->mode == VM_MODE_SHELL) {
		push_socket_chardev(argv, launch->sock_dir, "shell");
		strvec_push(argv, "-device");
		strvec_push(argv, "virtconsole,bus=vser0.0,chardev=shell,name=ktstr.shell");
	}
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		push_socket_chardev(argv, launch->sock_dir, ports[i]);
		strvec_push(argv, "-device");
		strvec_pushf(argv, "virtserialport,bus=vser0.0,chardev=%s,name=ktstr.%s", ports[i],
			     ports[i]);
	}
}
