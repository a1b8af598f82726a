/* The parts of ktstr-vm that main.c puts together: the guest's initramfs,
 * the QEMU command line, the run loop and the report. */
#ifndef KTSTR_VMRUN_H
#define KTSTR_VMRUN_H

#include "topology.h"
#include "vm.h"
#include "xalloc.h"

#include <stdbool.h>
#include <stdio.h>

/* ktstr-vm's own exit statuses; everything else is the guest's. */
enum vm_exit {
	VM_EXIT_INIT_FAILED = 122, /* the guest stopped without reporting a status */
	VM_EXIT_PANIC = 123,       /* the guest kernel panicked */
	VM_EXIT_TIMEOUT = 124,     /* the run went past --timeout */
	VM_EXIT_FAILED = 125,      /* ktstr-vm or QEMU failed (usage, kernel, start) */
};

enum vm_mode { VM_MODE_EXEC, VM_MODE_SHELL, VM_MODE_SCENARIO };

/* Files that go into the cached base part of the initramfs. */
struct guest_inputs {
	struct strvec host_paths;  /* host file for each entry */
	struct strvec guest_paths; /* where it goes in the guest */
	struct strvec exec_dirs;   /* guest directories with executables, for PATH */
};

struct guest_image {
	char *base;                /* the cached base archive */
	char *initrd;              /* per-run initrd: the base plus /ktstr/config */
	unsigned long long uncompressed_bytes;
	bool cache_hit;
	struct strvec env;         /* NAME=VALUE lines for the guest (LD_LIBRARY_PATH) */
	/* The kernel's .config, packed as /boot/config-<release> where libbpf
	 * looks for it to resolve a program's CONFIG_* externs (scx_central
	 * needs them); NULL when unknown. */
	const char *kernel_config;
	const char *kernel_release;
};

/* Resolve every -i argument into inputs; -1 after a message. */
int guest_inputs_add_include(struct guest_inputs *inputs, const char *arg);
/* Add a host file at an exact guest path (a scheduler binary). */
void guest_inputs_add(struct guest_inputs *inputs, const char *host_path, const char *guest_path);
void guest_inputs_release(struct guest_inputs *inputs);

/* Find or build the base archive for inputs.  -1 after a message. */
int guest_image_prepare(const struct guest_inputs *inputs, struct guest_image *image);
/* Write dir/initrd: the base archive, then config_text as /ktstr/config.
 * -1 after a message. */
int guest_image_write(struct guest_image *image, const char *config_text, const char *dir);
void guest_image_release(struct guest_image *image);

/* The settings the run loop starts and watches QEMU with. */
struct vm_launch {
	const char *qemu;          /* the QEMU binary */
	const char *accel;         /* "kvm" or "tcg" */
	const char *kernel_image;
	const char *initrd;
	const char *cmdline;       /* kernel command line */
	const char *sock_dir;      /* private directory for the chardev sockets */
	struct topology topology;
	unsigned memory_mb;
	unsigned timeout_sec;
	enum vm_mode mode;
	bool dmesg;                /* copy the console to stderr as it arrives */
	bool capture_stdout;       /* keep the guest's stdout for --json instead of printing it */
	const char *console_log;   /* file for the whole console, or NULL */
	/* The marker the guest writes on its stdout and stderr ports after the
	 * last byte of output (config key end_marker); never forwarded. */
	const char *end_marker;
};

/* A random end marker for one run, malloc'd. */
char *vm_end_marker_new(void);

/* Choose the accelerator for request ("auto", "kvm" or "tcg"): the name, or
 * NULL after a message.  *why gets the reason for an automatic choice. */
const char *vm_choose_accel(const char *request, const char **why);
/* Write one KEY=VALUE line of the guest's /ktstr/config: a newline in the
 * value becomes backslash-n and a backslash doubles, as the guest parses it. */
void vm_config_put(FILE *out, const char *key, const char *value);
/* The QEMU argv for launch. */
void vm_qemu_argv(const struct vm_launch *launch, struct strvec *argv);

/* The run loop's report beyond struct vm_result. */
struct vm_run_extra {
	int stop_signal;       /* SIGINT, SIGTERM or SIGHUP that ended the run, or 0 */
	bool escaped;          /* the user typed the shell's escape sequence */
	char *panic_line;      /* the console's first "Kernel panic" message, or NULL */
	char *guest_stdout;    /* with launch->capture_stdout: the guest's stdout */
	size_t guest_stdout_len;
};

/* Boot and watch the VM until it ends; fills result and extra.  Returns 0,
 * or -1 when QEMU could not be started at all (after a message). */
int vm_run(const struct vm_launch *launch, struct vm_result *result, struct vm_run_extra *extra);

/* Kill QEMU if it is running; async-signal-safe, for exit paths. */
void vm_qemu_kill_now(void);

/* Install the handlers that turn SIGINT, SIGTERM, SIGHUP, SIGCHLD and
 * SIGWINCH into bytes on a pipe; returns its read end. */
int vm_signals_install(void);
/* The first terminating signal seen so far (SIGINT, SIGTERM, SIGHUP), or 0. */
int vm_signals_pending(void);

/* Interactive terminal: raw mode on fd, restored by term_restore() (also from
 * atexit and fatal signals).  0 or -1 after a message. */
int term_raw(int fd);
void term_restore(void);
/* The terminal's size, or 0 and 0. */
void term_size(int fd, unsigned *rows, unsigned *cols);

/* The exit status for a finished run (not a scenario run). */
int vm_result_status(const struct vm_result *result);
/* Tell the user why a failed run failed, with the console's last lines.
 * timeout_sec is the run's --timeout; panic_line may be NULL. */
void vm_result_explain(const struct vm_result *result, unsigned timeout_sec,
		       const char *panic_line);
/* Return one line with the reason a run that did not exit failed, malloc'd; NULL
 * for a run that exited or was interrupted. */
char *vm_failure_summary(const struct vm_result *result);
/* Print the run as JSON on stdout; status is ktstr-vm's exit status. */
int vm_result_print_json(const struct vm_result *result, int status, const char *guest_stdout,
			 size_t len);
const char *vm_outcome_name(enum vm_outcome outcome);
/* The name of a signal, such as "SIGABRT"; a static buffer. */
const char *vm_signal_name(int signo);
void vm_result_release(struct vm_result *result);

#endif
