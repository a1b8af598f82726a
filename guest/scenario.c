/* Placeholder until scheduler and scenario runs land. */
#include "guest.h"

#include <stdio.h>

int scenario_run(const struct guest_config *config)
{
	fprintf(stderr, "ktstr-guest: scenario runs are not implemented yet\n");
	return 125;
}
