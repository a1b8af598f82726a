#include "commands.h"

int cmd_test_stats(int argc, char **argv)
{
	cmd_exec_tool("ktstr-stats", NULL, argc, argv);
}
