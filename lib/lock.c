#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Return whether fd is still the file at path: lock_remove() may have unlinked it
 * between our open() and flock(). */
static bool still_linked(const char *path, int fd)
{
	struct stat at_path, held;

	if (fstat(fd, &held) != 0 || stat(path, &at_path) != 0)
		return false;
	return held.st_dev == at_path.st_dev && held.st_ino == at_path.st_ino;
}

int lock_acquire(const char *path, enum lock_mode mode, int timeout_ms)
{
	int op = mode == LOCK_MODE_EXCLUSIVE ? LOCK_EX : LOCK_SH;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	int waited_ms = 0;

	if (fd < 0)
		return -1;
	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0) {
			if (still_linked(path, fd))
				return fd;
			close(fd);
			fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
			if (fd < 0)
				return -1;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK || (timeout_ms >= 0 && waited_ms >= timeout_ms)) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		/* Poll every 50 ms: short enough for tests, cheap for long waits. */
		struct timespec pause = { 0, 50 * 1000 * 1000 };
		nanosleep(&pause, NULL);
		waited_ms += 50;
	}
}

void lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}

void lock_remove(const char *path, int fd)
{
	unlink(path);
	lock_release(fd);
}
