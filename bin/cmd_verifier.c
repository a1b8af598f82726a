#include "commands.h"

/* verifier: ktstr-verifier does the work; it boots through ktstr-vm. */
int cmd_verifier(int argc, char **argv)
{
	cmd_exec_tool("ktstr-verifier", NULL, argc, argv);
}
