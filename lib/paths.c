#include "paths.h"

#include "diag.h"
#include "fsutil.h"
#include "xalloc.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *paths_exe_dir(void)
{
	static char *dir;
	char buf[PATH_MAX];

	if (dir)
		return dir;
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0) {
		dir = xstrdup(".");
		return dir;
	}
	buf[n] = '\0';
	dir = fs_dirname(buf);
	return dir;
}

static char *under_prefix(const char *env_name, const char *subdir, const char *name)
{
	const char *override = getenv(env_name);

	if (override && *override)
		return fs_path_join(override, name);
	return xasprintf("%s/../%s/%s", paths_exe_dir(), subdir, name);
}

char *paths_share_file(const char *name)
{
	return under_prefix("KTSTR_SHARE_DIR", "share/ktstr", name);
}

char *paths_libexec_file(const char *name)
{
	return under_prefix("KTSTR_LIBEXEC_DIR", "libexec/ktstr", name);
}

char *paths_tool(const char *name)
{
	char *sibling = fs_path_join(paths_exe_dir(), name);

	if (access(sibling, X_OK) == 0)
		return sibling;
	free(sibling);
	return xstrdup(name);
}

/* The user's cache base ($XDG_CACHE_HOME or $HOME/.cache), or NULL after a message. */
static char *cache_base(const char *what)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (xdg && *xdg)
		return xstrdup(xdg);
	if (!home) {
		err_msg("cannot locate the %s: HOME is not set; set KTSTR_CACHE_DIR or XDG_CACHE_HOME", what);
		return NULL;
	}
	if (!*home) {
		err_msg("cannot locate the %s: HOME is empty (a container's 'ENV HOME='?); "
			"set KTSTR_CACHE_DIR or XDG_CACHE_HOME", what);
		return NULL;
	}
	if (home[0] != '/') {
		err_msg("cannot locate the %s: HOME '%s' is not an absolute path; "
			"set KTSTR_CACHE_DIR or XDG_CACHE_HOME", what, home);
		return NULL;
	}
	if (!strcmp(home, "/")) {
		err_msg("cannot locate the %s: HOME is '/'; set KTSTR_CACHE_DIR or XDG_CACHE_HOME", what);
		return NULL;
	}
	return fs_path_join(home, ".cache");
}

char *paths_cache_root(void)
{
	const char *explicit_root = getenv("KTSTR_CACHE_DIR");

	if (explicit_root && *explicit_root)
		return xstrdup(explicit_root);
	char *base = cache_base("kernel cache");
	if (!base)
		return NULL;
	char *root = xasprintf("%s/ktstr/kernels", base);
	free(base);
	return root;
}

char *paths_user_cache(const char *name)
{
	char *base = cache_base("ktstr cache");

	if (!base)
		return NULL;
	char *dir = xasprintf("%s/ktstr/%s", base, name);
	free(base);
	return dir;
}
