/* The shared libraries an ELF program needs, found the way the dynamic
 * loader would find them on this host, so that they can be copied into a
 * guest together with the program.
 *
 * For each object: its PT_INTERP, then every DT_NEEDED name searched in
 * DT_RPATH (only without DT_RUNPATH; the executable's too), LD_LIBRARY_PATH,
 * DT_RUNPATH, the directories of /etc/ld.so.conf and the system directories.
 * $ORIGIN, $LIB and $PLATFORM are expanded.  A candidate must have the
 * object's ELF class and machine.  The search repeats for each library found.
 */
#ifndef KTSTR_ELFDEPS_H
#define KTSTR_ELFDEPS_H

#include "xalloc.h"

struct elfdeps {
	/* Interpreters and libraries at the paths where they were found (a path
	 * may go through symlinks), each once, in discovery order. */
	struct strvec paths;
	/* Directories outside the loader's built-in search path that hold a
	 * library found here: a guest without /etc/ld.so.cache needs them on
	 * LD_LIBRARY_PATH. */
	struct strvec search_dirs;
	struct strvec visited; /* real paths of the objects already searched */
};
#define ELFDEPS_INIT { STRVEC_INIT, STRVEC_INIT, STRVEC_INIT }

/* Add what path needs.  A file that is not a dynamically linked ELF object
 * (a script, data, a static program) needs nothing and returns 0.  Returns -1
 * after a message naming the libraries that were not found. */
int elfdeps_add(struct elfdeps *deps, const char *path);
void elfdeps_release(struct elfdeps *deps);

#endif
