/* The guest agent: PID 1 of every ktstr VM, linked statically.
 *
 * init.c mounts the file systems, reads /ktstr/config, runs the requested
 * mode (exec, shell or scenario) and reports over the result channel, the
 * virtio port named "ktstr.result", then powers the guest off.
 */
#ifndef KTSTR_GUEST_H
#define KTSTR_GUEST_H

#include <stddef.h>

/* The virtio-serial port names that ktstr-vm gives its channels. */
#define GUEST_PORT_STDOUT "ktstr.stdout"
#define GUEST_PORT_STDERR "ktstr.stderr"
#define GUEST_PORT_RESULT "ktstr.result"

/* The path of the run's configuration in the initramfs. */
#define GUEST_CONFIG_PATH "/ktstr/config"

/* /ktstr/config: one "key=value" per line; a key may repeat to form a list.
 * In values, a backslash followed by "n" stands for a newline and two
 * backslashes for one backslash; ktstr-vm escapes values that way. */
struct guest_config {
	char **keys;
	char **values;
	size_t len;
};

/* The last value of key, or NULL. */
const char *guest_config_get(const struct guest_config *config, const char *key);
/* Every value of key in file order; returns the count, *values is malloc'd. */
size_t guest_config_list(const struct guest_config *config, const char *key, const char ***values);

/* Parse config text, or read and parse a file (-1 with errno when unreadable). */
int guest_config_parse(const char *text, struct guest_config *config);
int guest_config_load(const char *path, struct guest_config *config);

/* Open the virtio port named name (waiting up to 10 s for it to appear);
 * the fd, or -1 with errno set. */
int guest_port_open(const char *name, int flags);
/* Open the result channel for guest_send(); 0 or -1 with errno set.  The
 * host writes on it too, one line per message: "winsize ROWS COLS" when its
 * terminal is resized during an interactive shell. */
int guest_channel_open(void);
/* The result channel's fd, or -1 before guest_channel_open(). */
int guest_channel_fd(void);

/* Send one record "KTSTR <kind> <len>\n<payload>\n" on the result channel.
 * Records are written whole; 0 or -1. */
int guest_send(const char *kind, const char *payload, size_t len);

/* Run a scheduler or scenario run (mode=scenario).  Sends its own "sched" and
 * "result" records and returns the exit status that init reports in "exit". */
int scenario_run(const struct guest_config *config);

#endif
