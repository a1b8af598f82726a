/* Signals and the host terminal.
 *
 * Signals become bytes on a pipe (the self-pipe trick) so that the run loop
 * handles them in its poll().  The terminal is put in raw mode for the
 * interactive shell and restored on every way out: the normal path, exit()
 * through atexit, and fatal signals through their handlers.
 */
#include "vmrun.h"

#include "diag.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static int signal_pipe[2] = { -1, -1 };
static volatile sig_atomic_t pending_stop;

static struct termios saved_termios;
static int raw_fd = -1;

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char byte = (unsigned char)sig;

	if ((sig == SIGINT || sig == SIGTERM || sig == SIGHUP) && !pending_stop)
		pending_stop = sig;
	if (signal_pipe[1] >= 0 && write(signal_pipe[1], &byte, 1) < 0) {
		/* A full pipe already wakes the loop. */
	}
	errno = saved;
}

/* A fatal signal other than those the loop handles: kill QEMU, restore the
 * terminal, then die of the signal as the default action would. */
static void on_fatal_signal(int sig)
{
	vm_qemu_kill_now();
	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

int vm_signals_install(void)
{
	static const int loop_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGWINCH };
	static const int fatal_signals[] = { SIGQUIT, SIGABRT, SIGSEGV, SIGBUS, SIGFPE };
	struct sigaction sa;

	if (signal_pipe[0] >= 0)
		return signal_pipe[0];
	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		die_errno("cannot create the signal pipe");

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_signal;
	for (size_t i = 0; i < sizeof(loop_signals) / sizeof(loop_signals[0]); i++)
		sigaction(loop_signals[i], &sa, NULL);
	sa.sa_handler = on_fatal_signal;
	sa.sa_flags = SA_RESETHAND;
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaction(fatal_signals[i], &sa, NULL);
	/* A closed stdout must show as a write error, not kill the run. */
	signal(SIGPIPE, SIG_IGN);
	return signal_pipe[0];
}

int vm_signals_pending(void)
{
	return pending_stop;
}

void term_restore(void)
{
	if (raw_fd < 0)
		return;
	tcsetattr(raw_fd, TCSAFLUSH, &saved_termios);
	raw_fd = -1;
}

int term_raw(int fd)
{
	struct termios raw;
	static bool registered;

	if (tcgetattr(fd, &saved_termios) != 0)
		return err_errno("cannot read the terminal settings");
	raw = saved_termios;
	cfmakeraw(&raw);
	if (!registered) {
		atexit(term_restore);
		registered = true;
	}
	raw_fd = fd;
	if (tcsetattr(fd, TCSAFLUSH, &raw) != 0) {
		raw_fd = -1;
		return err_errno("cannot put the terminal in raw mode");
	}
	return 0;
}

void term_size(int fd, unsigned *rows, unsigned *cols)
{
	struct winsize ws;

	*rows = *cols = 0;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}
