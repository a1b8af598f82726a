#include "exec_search.h"

#include "xalloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_executable_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *exec_search_dirs(const char *name, const char *dirs)
{
	if (!*name)
		return NULL;
	if (strchr(name, '/'))
		return is_executable_file(name) ? xstrdup(name) : NULL;

	const char *entry = dirs;
	for (;;) {
		const char *end = strchrnul(entry, ':');
		int len = (int)(end - entry);
		char *candidate = len ? xasprintf("%.*s/%s", len, entry, name) : xasprintf("./%s", name);

		if (is_executable_file(candidate))
			return candidate;
		free(candidate);
		if (!*end)
			return NULL;
		entry = end + 1;
	}
}

char *exec_search(const char *name)
{
	const char *path = getenv("PATH");

	return exec_search_dirs(name, path ? path : "/usr/bin:/bin");
}
