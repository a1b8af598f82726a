/* Progress on stderr: a bar redrawn in place when stderr is a terminal,
 * nothing otherwise (callers print one line per phase instead). */
#ifndef KTSTR_PROGRESS_H
#define KTSTR_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct progress {
	char *label;
	uint64_t total;           /* bytes expected, 0 when unknown */
	uint64_t done;            /* bytes so far */
	bool active;              /* stderr is a terminal and drawing is on */
	bool drawn;               /* a line is on the screen and needs clearing */
	struct timespec started;
	struct timespec last_draw;
};
#define PROGRESS_INIT { NULL, 0, 0, false, false, { 0, 0 }, { 0, 0 } }

/* True when stderr is a terminal, so a redrawn line makes sense. */
bool progress_is_terminal(void);

/* Start a byte counter labelled label (copied); total 0 means unknown. */
void progress_begin(struct progress *bar, const char *label, uint64_t total);
/* Record the bytes done; redraws at most ten times a second. */
void progress_update(struct progress *bar, uint64_t done);
/* Show a line of text in place of the counter (the current build step). */
void progress_text(struct progress *bar, const char *text);
/* Erase the line, so that the next message starts on a clean line. */
void progress_clear(struct progress *bar);
/* Erase the line and free the label. */
void progress_end(struct progress *bar);

#endif
