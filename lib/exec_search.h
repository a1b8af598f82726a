/* Finding a program before running it, as execvp(3) and cargo do, so that a
 * missing tool can be reported with its install command instead of a bare
 * "not found" from exec.
 */
#ifndef KTSTR_EXEC_SEARCH_H
#define KTSTR_EXEC_SEARCH_H

/* Search the colon-separated directory list dirs (PATH syntax: an empty
 * entry is the working directory) for an executable regular file named
 * name.  A name containing '/' is checked as it is.  Returns the path,
 * malloc'd, or NULL when there is none. */
char *exec_search_dirs(const char *name, const char *dirs);
/* exec_search_dirs over $PATH, or over "/usr/bin:/bin" when PATH is unset. */
char *exec_search(const char *name);

#endif
