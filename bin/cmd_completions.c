#include "commands.h"

int cmd_completions(int argc, char **argv)
{
	return cmd_not_implemented(argv[0]);
}
