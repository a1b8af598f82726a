#include "commands.h"

int cmd_test(int argc, char **argv)
{
	return cmd_not_implemented(argv[0]);
}
