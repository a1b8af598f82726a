#include "commands.h"

/* shell: boot a kernel with ktstr-vm.  Only cargo ktstr accepts a raw boot image. */
int cmd_shell(int argc, char **argv)
{
	static const char *const cargo_args[] = { "--allow-image", NULL };

	cmd_exec_tool("ktstr-vm", dispatch_is_cargo ? cargo_args : NULL, argc, argv);
}
