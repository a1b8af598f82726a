#include "progress.h"

#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define REDRAW_INTERVAL_NS 100000000L

bool progress_is_terminal(void)
{
	return isatty(STDERR_FILENO) == 1;
}

static double seconds_between(const struct timespec *from, const struct timespec *to)
{
	return (double)(to->tv_sec - from->tv_sec) + (double)(to->tv_nsec - from->tv_nsec) / 1e9;
}

static unsigned terminal_columns(void)
{
	struct winsize size;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col >= 20)
		return size.ws_col;
	return 80;
}

void progress_begin(struct progress *bar, const char *label, uint64_t total)
{
	free(bar->label);
	bar->label = xstrdup(label);
	bar->total = total;
	bar->done = 0;
	bar->active = progress_is_terminal();
	bar->drawn = false;
	clock_gettime(CLOCK_MONOTONIC, &bar->started);
	bar->last_draw = (struct timespec){ 0, 0 };
}

/* Put line on the terminal in place of the previous one, cut to the width. */
static void draw_line(struct progress *bar, const char *line)
{
	unsigned width = terminal_columns() - 1;

	fprintf(stderr, "\r\033[K%.*s", (int)width, line);
	fflush(stderr);
	bar->drawn = true;
}

static void draw_counter(struct progress *bar, const struct timespec *now)
{
	double elapsed = seconds_between(&bar->started, now);
	double mb_done = (double)bar->done / 1e6;
	double rate = elapsed > 0 ? mb_done / elapsed : 0;
	char line[512];

	if (bar->total) {
		const int cells = 20;
		int percent = (int)(bar->done * 100 / bar->total);
		int filled = percent > 100 ? cells : percent * cells / 100;
		char meter[32];

		memset(meter, '#', (size_t)filled);
		memset(meter + filled, '.', (size_t)(cells - filled));
		meter[cells] = '\0';
		snprintf(line, sizeof(line), "%s [%s] %3d%% %.1f/%.1f MB %.1f MB/s", bar->label,
			 meter, percent, mb_done, (double)bar->total / 1e6, rate);
	} else {
		snprintf(line, sizeof(line), "%s %.1f MB %.1f MB/s", bar->label, mb_done, rate);
	}
	draw_line(bar, line);
}

void progress_update(struct progress *bar, uint64_t done)
{
	struct timespec now;

	bar->done = done;
	if (!bar->active)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (bar->drawn && (now.tv_sec - bar->last_draw.tv_sec) * 1000000000L +
				  (now.tv_nsec - bar->last_draw.tv_nsec) < REDRAW_INTERVAL_NS)
		return;
	bar->last_draw = now;
	draw_counter(bar, &now);
}

void progress_text(struct progress *bar, const char *text)
{
	struct timespec now;
	char line[512];

	if (!bar->active)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (bar->drawn && (now.tv_sec - bar->last_draw.tv_sec) * 1000000000L +
				  (now.tv_nsec - bar->last_draw.tv_nsec) < REDRAW_INTERVAL_NS)
		return;
	bar->last_draw = now;
	snprintf(line, sizeof(line), "%s %s", bar->label ? bar->label : "", text);
	draw_line(bar, line);
}

void progress_clear(struct progress *bar)
{
	if (!bar->drawn)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	bar->drawn = false;
}

void progress_end(struct progress *bar)
{
	progress_clear(bar);
	free(bar->label);
	bar->label = NULL;
	bar->active = false;
}
