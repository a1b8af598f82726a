#include "commands.h"

int cmd_kernel_build(int argc, char **argv)
{
	return cmd_not_implemented("kernel build");
}

int cmd_build_kernel(int argc, char **argv)
{
	return cmd_not_implemented(argv[0]);
}
