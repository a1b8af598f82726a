#include "exec_search.h"
#include "fsutil.h"
#include "tap.h"
#include "xalloc.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *make_file(const char *dir, const char *name, mode_t mode)
{
	char *path = fs_path_join(dir, name);

	fs_write_atomic(path, "#!/bin/sh\n", 10, mode);
	chmod(path, mode);
	return path;
}

int main(void)
{
	char scratch[] = "/tmp/ktstr-exec-search.XXXXXX";
	char *found;

	if (!mkdtemp(scratch)) {
		printf("Bail out! cannot create a scratch directory\n");
		return 1;
	}
	char *first = fs_path_join(scratch, "first");
	char *second = fs_path_join(scratch, "second");
	fs_mkdir_p(first, 0755);
	fs_mkdir_p(second, 0755);
	char *tool_second = make_file(second, "tool", 0755);
	char *plain_first = make_file(first, "tool", 0644);
	make_file(first, "only-first", 0755);
	char *subdir = fs_path_join(second, "dir-tool");
	fs_mkdir_p(subdir, 0755);
	char *dirs = xasprintf("%s:%s", first, second);

	found = exec_search_dirs("tool", dirs);
	is_str(found, tool_second, "non-executable file earlier in the list is skipped");
	free(found);

	found = exec_search_dirs("dir-tool", dirs);
	is_str(found, NULL, "directory with the name is not a program");
	free(found);

	found = exec_search_dirs("missing", dirs);
	is_str(found, NULL, "missing program gives NULL");
	free(found);

	found = exec_search_dirs("", dirs);
	is_str(found, NULL, "empty name gives NULL");
	free(found);

	found = exec_search_dirs(tool_second, "/nonexistent");
	is_str(found, tool_second, "name with a slash is checked as it is");
	free(found);

	found = exec_search_dirs(plain_first, dirs);
	is_str(found, NULL, "path to a non-executable file gives NULL");
	free(found);

	if (chdir(second) == 0) {
		found = exec_search_dirs("tool", "/nonexistent::/also-missing");
		is_str(found, "./tool", "empty entry means the working directory");
		free(found);
	}

	setenv("PATH", dirs, 1);
	found = exec_search("only-first");
	ok(found && !strcmp(fs_basename(found), "only-first"), "exec_search reads PATH");
	free(found);

	fs_rm_rf(scratch);
	return done_testing();
}
