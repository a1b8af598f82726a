/* Advisory file locks (flock(2)) with a timeout. */
#ifndef KTSTR_LOCK_H
#define KTSTR_LOCK_H

#include <stdbool.h>

enum lock_mode { LOCK_MODE_SHARED, LOCK_MODE_EXCLUSIVE };

/* Open (creating it, mode 0666) and lock path.  timeout_ms 0 tries once,
 * a negative value waits forever.  Returns the fd holding the lock, or -1 with
 * errno EWOULDBLOCK when the lock is held elsewhere or another errno.
 * A lock file that its holder removed meanwhile (lock_remove()) is not
 * taken: the call starts over on the file now at path. */
int lock_acquire(const char *path, enum lock_mode mode, int timeout_ms);
void lock_release(int fd);
/* Remove the lock file path, whose exclusive lock fd holds, and release the
 * lock.  Waiters move on to a new file, so this never lets two holders in. */
void lock_remove(const char *path, int fd);

#endif
