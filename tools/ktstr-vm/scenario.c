/* Placeholder until scheduler and scenario runs land: no options, nothing requested. */
#include "scenario.h"

#include "xalloc.h"

#include <stdlib.h>

const struct option scenario_options[] = { { NULL, 0, NULL, 0 } };
const char scenario_usage[] = "";

struct scenario_opts {
	int unused;
};

struct scenario_opts *scenario_opts_new(void)
{
	return xcalloc(1, sizeof(struct scenario_opts));
}

void scenario_opts_free(struct scenario_opts *opts)
{
	free(opts);
}

int scenario_parse_option(struct scenario_opts *opts, int option, const char *arg)
{
	return -1;
}

int scenario_validate(struct scenario_opts *opts, const struct topology *topo)
{
	return 0;
}

bool scenario_requested(const struct scenario_opts *opts)
{
	return false;
}

const char *const *scenario_guest_files(const struct scenario_opts *opts)
{
	static const char *const none[] = { NULL };

	return none;
}

void scenario_write_config(const struct scenario_opts *opts, FILE *config)
{
}

int scenario_report(const struct scenario_opts *opts, const struct vm_result *result)
{
	return result->guest_status;
}
