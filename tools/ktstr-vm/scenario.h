/* Host side of scheduler and scenario runs inside ktstr-vm: the options
 * (--scheduler, --scenario, ...), the guest configuration they produce, and
 * the sidecar written from the guest's records.
 *
 * main.c calls these in this order: scenario_parse_option() for each option
 * from scenario_options[]; scenario_validate(); scenario_guest_files() while
 * building the initramfs; scenario_write_config() into /ktstr/config;
 * after the run, scenario_report(), whose return value is the exit status of
 * a scenario run.
 */
#ifndef KTSTR_SCENARIO_H
#define KTSTR_SCENARIO_H

#include "topology.h"
#include "vm.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/* Option values used in scenario_options[] start here, so they never collide
 * with main.c's own. */
#define SCENARIO_OPTION_BASE 0x1000

extern const struct option scenario_options[]; /* terminated by a zero entry */
extern const char scenario_usage[];            /* help lines for those options */

struct scenario_opts;

struct scenario_opts *scenario_opts_new(void);
void scenario_opts_free(struct scenario_opts *opts);
/* Handle one option from scenario_options[]; -1 after printing a usage error. */
int scenario_parse_option(struct scenario_opts *opts, int option, const char *arg);
/* Check the options against the topology (cpusets, worker counts); -1 after a message. */
int scenario_validate(struct scenario_opts *opts, const struct topology *topo);
/* True when the run is a scheduler or scenario run rather than --exec or a shell. */
bool scenario_requested(const struct scenario_opts *opts);

/* Host files the guest needs (the scheduler binary): pairs of host path and
 * guest path, NULL-terminated, owned by opts.  main.c packs them with their
 * shared libraries. */
const char *const *scenario_guest_files(const struct scenario_opts *opts);
/* Append the scenario's "key=value" lines to the guest configuration. */
void scenario_write_config(const struct scenario_opts *opts, FILE *config);
/* Write the sidecar, print the summary, and return the run's exit status. */
int scenario_report(const struct scenario_opts *opts, const struct vm_result *result);

/* With --json, scenario_report() prints the sidecar document on stdout in
 * place of its path; main.c then prints no report of its own. */
void scenario_set_json(struct scenario_opts *opts, bool json);
/* Seconds a validated scenario run needs beyond booting (the workers' run,
 * the scheduler's start and the guest's own time limits), for the default
 * --timeout. */
unsigned scenario_run_seconds(const struct scenario_opts *opts);

#endif
