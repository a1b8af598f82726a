/* The virtio-serial ports that carry a run's output and results to the host.
 *
 * ktstr-vm names each port (ktstr.stdout, ktstr.stderr, ktstr.result).  The
 * guest kernel learns the names from control messages that arrive after the
 * device is probed, so a lookup polls /sys/class/virtio-ports for a while.
 */
#include "guest.h"

#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PORTS_DIR "/sys/class/virtio-ports"
/* How long a port name may take to appear after boot. */
#define PORT_WAIT_MS 10000

static int result_fd = -1;

/* The /dev path of the port named name, or NULL when it does not exist (yet). */
static char *find_port(const char *name)
{
	DIR *dir = opendir(PORTS_DIR);
	struct dirent *ent;
	char *found = NULL;

	if (!dir)
		return NULL;
	while (!found && (ent = readdir(dir))) {
		char path[512], buf[256];

		if (ent->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), PORTS_DIR "/%s/name", ent->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (!strcmp(buf, name))
			found = xasprintf("/dev/%s", ent->d_name);
	}
	closedir(dir);
	return found;
}

int guest_port_open(const char *name, int flags)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };

	for (int waited = 0; ; waited += 10) {
		char *path = find_port(name);

		if (path) {
			/* devtmpfs creates the node asynchronously too. */
			int fd = open(path, flags | O_CLOEXEC);
			int saved = errno;
			free(path);
			if (fd >= 0)
				return fd;
			if (saved != ENOENT || waited >= PORT_WAIT_MS) {
				errno = saved;
				return -1;
			}
		} else if (waited >= PORT_WAIT_MS) {
			errno = ENOENT;
			return -1;
		}
		nanosleep(&pause, NULL);
	}
}

int guest_channel_open(void)
{
	if (result_fd >= 0)
		return 0;
	result_fd = guest_port_open(GUEST_PORT_RESULT, O_RDWR);
	return result_fd >= 0 ? 0 : -1;
}

int guest_channel_fd(void)
{
	return result_fd;
}

int guest_send(const char *kind, const char *payload, size_t len)
{
	if (result_fd < 0 && guest_channel_open() != 0)
		return -1;

	/* One write() per record where possible: the kernel's virtio console
	 * driver queues at most 32 KiB per write as one buffer, so records up to
	 * that size never interleave with records of other processes.
	 * NOTE: a longer record is written in pieces and can interleave when
	 * several processes send at once. */
	char header[128];
	int header_len = snprintf(header, sizeof(header), "KTSTR %s %zu\n", kind, len);
	if (header_len < 0 || (size_t)header_len >= sizeof(header)) {
		errno = EINVAL;
		return -1;
	}
	size_t total = (size_t)header_len + len + 1;
	char *record = xmalloc(total);
	memcpy(record, header, (size_t)header_len);
	if (len)
		memcpy(record + header_len, payload, len);
	record[total - 1] = '\n';

	size_t done = 0;
	while (done < total) {
		ssize_t n = write(result_fd, record + done, total - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(record);
			return -1;
		}
		done += (size_t)n;
	}
	free(record);
	return 0;
}
