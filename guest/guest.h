/* The guest agent: PID 1 of every ktstr VM, linked statically.
 *
 * init.c mounts the file systems, reads /ktstr/config, runs the requested
 * mode (exec, shell or scenario) and reports over the result channel, the
 * virtio port named "ktstr.result", then powers the guest off.
 */
#ifndef KTSTR_GUEST_H
#define KTSTR_GUEST_H

#include <stddef.h>

/* /ktstr/config: one "key=value" per line; a key may repeat to form a list. */
struct guest_config {
	char **keys;
	char **values;
	size_t len;
};

/* The last value of key, or NULL. */
const char *guest_config_get(const struct guest_config *config, const char *key);
/* Every value of key in file order; returns the count, *values is malloc'd. */
size_t guest_config_list(const struct guest_config *config, const char *key, const char ***values);

/* Send one record "KTSTR <kind> <len>\n<payload>\n" on the result channel.
 * Records are written whole; 0 or -1. */
int guest_send(const char *kind, const char *payload, size_t len);

/* Run a scheduler or scenario run (mode=scenario).  Sends its own "sched" and
 * "result" records and returns the exit status that init reports in "exit". */
int scenario_run(const struct guest_config *config);

#endif
