/* lib/spawn: SPAWN_DEVNULL gives the child /dev/null for a stream. */
#include "tap.h"

#include "spawn.h"

#include <stdlib.h>

int main(void)
{
	/* cat sees end of file at once on /dev/null, and the stderr line
	 * must not reach the captured stdout or this test's output. */
	const char *argv[] = { "sh", "-c", "cat; echo hidden >&2; echo done", NULL };
	struct spawn child = SPAWN_INIT;
	char *out = NULL;

	child.argv = argv;
	child.stdin_fd = SPAWN_DEVNULL;
	child.stderr_fd = SPAWN_DEVNULL;
	is_int(spawn_capture_child(&child, &out, NULL), 0, "devnull: child exits 0");
	is_str(out, "done\n", "devnull: stdin empty, stderr dropped");
	free(out);

	const char *writer[] = { "sh", "-c", "echo dropped", NULL };
	child = (struct spawn)SPAWN_INIT;
	child.argv = writer;
	child.stdout_fd = SPAWN_DEVNULL;
	is_int(spawn_run(&child), 0, "devnull: stdout to /dev/null");
	return done_testing();
}
