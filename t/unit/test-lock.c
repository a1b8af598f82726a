/* lib/lock: a lock file removed by its holder never lets two holders in.
 * A child waits on the old file while the parent removes it.  The child must
 * end up on the new file at the same path, so the parent cannot lock it. */
#include "tap.h"

#include "lock.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int same_file(const char *path, int fd)
{
	struct stat at_path, held;

	return fstat(fd, &held) == 0 && stat(path, &at_path) == 0 && held.st_ino == at_path.st_ino &&
	       held.st_dev == at_path.st_dev;
}

int main(void)
{
	char dir[] = "/tmp/ktstr-lock.XXXXXX";
	char path[64];
	int ready[2], done[2];
	char byte = 0;

	if (!mkdtemp(dir) || pipe(ready) != 0 || pipe(done) != 0)
		return 1;
	snprintf(path, sizeof(path), "%s/key.lock", dir);

	int parent_lock = lock_acquire(path, LOCK_MODE_EXCLUSIVE, 0);
	ok(parent_lock >= 0, "remove: parent takes the lock");

	pid_t child = fork();
	if (child == 0) {
		/* The parent's descriptor would keep its lock alive in here. */
		close(parent_lock);
		/* Wait on the file that the parent is about to remove. */
		int fd = lock_acquire(path, LOCK_MODE_EXCLUSIVE, -1);
		char result = fd >= 0 && same_file(path, fd) ? 'y' : 'n';
		if (write(ready[1], &result, 1) != 1 || read(done[0], &byte, 1) != 1)
			_exit(1);
		_exit(0);
	}
	/* Give the child time to block in lock_acquire() on the old file. */
	usleep(200 * 1000);
	lock_remove(path, parent_lock);

	char result = 0;
	ok(read(ready[0], &result, 1) == 1 && result == 'y', "remove: waiter holds the new file");
	errno = 0;
	int second = lock_acquire(path, LOCK_MODE_EXCLUSIVE, 0);
	ok(second < 0 && errno == EWOULDBLOCK, "remove: no second holder");
	if (second >= 0)
		lock_release(second);

	if (write(done[1], "x", 1) != 1)
		kill(child, SIGKILL);
	int status;
	waitpid(child, &status, 0);
	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0, "remove: waiter exits cleanly");

	int again = lock_acquire(path, LOCK_MODE_EXCLUSIVE, 0);
	ok(again >= 0, "remove: lock free after waiter");
	lock_remove(path, again);
	ok(access(path, F_OK) != 0, "remove: lock file is gone");
	rmdir(dir);
	return done_testing();
}
