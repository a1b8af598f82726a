#include "elfdeps.h"

#include "diag.h"
#include "fsutil.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glob.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LD_SO_CONF "/etc/ld.so.conf"
/* glibc's built-in search path on Debian x86_64 (ld.so --help lists it). */
static const char *const system_dirs[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
					   "/lib", "/usr/lib", NULL };
#define LIB_TOKEN_VALUE "lib/x86_64-linux-gnu"
#define PLATFORM_TOKEN_VALUE "x86_64"

/* The dynamic linking data of one ELF object. */
struct elf_object {
	int elf_class;
	int machine;
	bool dynamic;
	char *interp;
	struct strvec needed;
	char *rpath;
	char *runpath;
};

static bool elf_ready(void)
{
	static int state;

	if (!state)
		state = elf_version(EV_CURRENT) == EV_NONE ? -1 : 1;
	return state > 0;
}

static void object_release(struct elf_object *obj)
{
	free(obj->interp);
	free(obj->rpath);
	free(obj->runpath);
	strvec_release(&obj->needed);
}

static void read_dynamic(Elf *elf, struct elf_object *obj)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_DYNAMIC)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !shdr.sh_entsize)
			continue;
		obj->dynamic = true;
		for (size_t i = 0; i < shdr.sh_size / shdr.sh_entsize; i++) {
			GElf_Dyn dyn;
			const char *name;

			if (!gelf_getdyn(data, (int)i, &dyn))
				break;
			if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RPATH && dyn.d_tag != DT_RUNPATH)
				continue;
			name = elf_strptr(elf, shdr.sh_link, dyn.d_un.d_val);
			if (!name)
				continue;
			if (dyn.d_tag == DT_NEEDED)
				strvec_push(&obj->needed, name);
			else if (dyn.d_tag == DT_RPATH && !obj->rpath)
				obj->rpath = xstrdup(name);
			else if (dyn.d_tag == DT_RUNPATH && !obj->runpath)
				obj->runpath = xstrdup(name);
		}
	}
}

static void read_interp(Elf *elf, struct elf_object *obj)
{
	size_t count, size;
	const char *raw = elf_rawfile(elf, &size);

	if (!raw || elf_getphdrnum(elf, &count) != 0)
		return;
	for (size_t i = 0; i < count; i++) {
		GElf_Phdr phdr;

		if (!gelf_getphdr(elf, (int)i, &phdr) || phdr.p_type != PT_INTERP)
			continue;
		if (phdr.p_offset < size && phdr.p_filesz <= size - phdr.p_offset)
			obj->interp = xstrndup(raw + phdr.p_offset, phdr.p_filesz);
		return;
	}
}

/* Read path's ELF header and dynamic section.  Returns 1 when it is an ELF
 * executable or shared object, 0 when it is not ELF, -1 when unreadable. */
static int object_read(const char *path, struct elf_object *obj)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret = 0;
	Elf *elf;
	GElf_Ehdr ehdr;

	*obj = (struct elf_object){ .needed = STRVEC_INIT };
	if (fd < 0)
		return -1;
	if (!elf_ready()) {
		close(fd);
		return 0;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF && gelf_getehdr(elf, &ehdr) &&
	    (ehdr.e_type == ET_EXEC || ehdr.e_type == ET_DYN)) {
		obj->elf_class = gelf_getclass(elf);
		obj->machine = ehdr.e_machine;
		read_interp(elf, obj);
		read_dynamic(elf, obj);
		ret = 1;
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}

/* Whether path is an ELF shared object for the same class and machine. */
static bool compatible(const char *path, const struct elf_object *like)
{
	struct elf_object obj;
	bool ok = object_read(path, &obj) == 1 && obj.elf_class == like->elf_class &&
		  obj.machine == like->machine;

	object_release(&obj);
	return ok;
}

/* ---- /etc/ld.so.conf ---- */

static void read_ld_so_conf(const char *path, struct strvec *dirs, int depth)
{
	char *text = fs_read_file(path, NULL);
	char *saveptr = NULL;

	if (!text || depth > 8) {
		free(text);
		return;
	}
	for (char *line = strtok_r(text, "\n", &saveptr); line; line = strtok_r(NULL, "\n", &saveptr)) {
		line[strcspn(line, "#")] = '\0';
		line += strspn(line, " \t");
		size_t len = strlen(line);
		while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
			line[--len] = '\0';
		if (!len || !strncmp(line, "hwcap ", 6))
			continue;
		if (!strncmp(line, "include", 7) && (line[7] == ' ' || line[7] == '\t')) {
			char *pattern = line + 8 + strspn(line + 8, " \t");
			char *full = pattern[0] == '/' ? xstrdup(pattern) : xasprintf("/etc/%s", pattern);
			glob_t matches;

			if (glob(full, 0, NULL, &matches) == 0) {
				for (size_t i = 0; i < matches.gl_pathc; i++)
					read_ld_so_conf(matches.gl_pathv[i], dirs, depth + 1);
				globfree(&matches);
			}
			free(full);
			continue;
		}
		strvec_push(dirs, line);
	}
	free(text);
}

/* NOTE: the loader reads /etc/ld.so.cache, which ldconfig builds from these
 * same directories; a cache that is out of date with them can differ. */
static const struct strvec *ld_so_conf_dirs(void)
{
	static struct strvec dirs = STRVEC_INIT;
	static bool loaded;

	if (!loaded) {
		read_ld_so_conf(LD_SO_CONF, &dirs, 0);
		loaded = true;
	}
	return &dirs;
}

/* ---- the search ---- */

/* Expand $ORIGIN, $LIB and $PLATFORM (also in ${...} form) in one path entry. */
static char *expand_tokens(const char *entry, const char *origin)
{
	static const struct {
		const char *name;
		size_t len;
	} tokens[] = { { "ORIGIN", 6 }, { "LIB", 3 }, { "PLATFORM", 8 } };
	char *out = xstrdup("");

	for (const char *p = entry; *p; ) {
		const char *value = NULL;
		size_t skip = 0;

		if (*p == '$') {
			for (size_t i = 0; i < 3 && !value; i++) {
				size_t len = tokens[i].len;
				if (!strncmp(p + 1, tokens[i].name, len))
					skip = 1 + len;
				else if (p[1] == '{' && !strncmp(p + 2, tokens[i].name, len) && p[2 + len] == '}')
					skip = 3 + len;
				if (skip && i == 0)
					value = origin;
				else if (skip && i == 1)
					value = LIB_TOKEN_VALUE;
				else if (skip)
					value = PLATFORM_TOKEN_VALUE;
			}
		}
		char *next;
		if (value) {
			next = xasprintf("%s%s", out, value);
			p += skip;
		} else {
			next = xasprintf("%s%c", out, *p);
			p++;
		}
		free(out);
		out = next;
	}
	return out;
}

/* Search a colon-separated list for name; the path found, or NULL. */
static char *search_list(const char *list, const char *name, const char *origin,
			 const struct elf_object *like)
{
	char *copy, *saveptr = NULL, *found = NULL;

	if (!list)
		return NULL;
	copy = xstrdup(list);
	for (char *entry = strtok_r(copy, ":", &saveptr); entry && !found;
	     entry = strtok_r(NULL, ":", &saveptr)) {
		char *dir = expand_tokens(entry, origin);
		char *candidate = fs_path_join(dir, name);

		if (fs_is_file(candidate) && compatible(candidate, like))
			found = candidate;
		else
			free(candidate);
		free(dir);
	}
	free(copy);
	return found;
}

static char *search_dirs(const char *const *dirs, size_t count, const char *name,
			 const struct elf_object *like)
{
	for (size_t i = 0; i < count; i++) {
		char *candidate = fs_path_join(dirs[i], name);

		if (fs_is_file(candidate) && compatible(candidate, like))
			return candidate;
		free(candidate);
	}
	return NULL;
}

static char *find_library(const char *name, const struct elf_object *obj, const char *origin,
			  const struct elf_object *exe)
{
	const struct strvec *conf = ld_so_conf_dirs();
	char *found = NULL;

	if (strchr(name, '/'))
		return fs_is_file(name) ? xstrdup(name) : NULL;
	if (!obj->runpath) {
		found = search_list(obj->rpath, name, origin, obj);
		if (!found && exe && exe != obj && !exe->runpath)
			found = search_list(exe->rpath, name, origin, obj);
	}
	if (!found)
		found = search_list(getenv("LD_LIBRARY_PATH"), name, origin, obj);
	if (!found)
		found = search_list(obj->runpath, name, origin, obj);
	if (!found)
		found = search_dirs((const char *const *)conf->items, conf->len, name, obj);
	if (!found) {
		size_t count = 0;
		while (system_dirs[count])
			count++;
		found = search_dirs(system_dirs, count, name, obj);
	}
	return found;
}

static bool strvec_has(const struct strvec *vec, const char *s)
{
	for (size_t i = 0; i < vec->len; i++) {
		if (!strcmp(vec->items[i], s))
			return true;
	}
	return false;
}

static bool in_system_dirs(const char *dir)
{
	for (size_t i = 0; system_dirs[i]; i++) {
		if (!strcmp(system_dirs[i], dir))
			return true;
	}
	return false;
}

static void record_path(struct elfdeps *deps, const char *path, bool library)
{
	if (strvec_has(&deps->paths, path))
		return;
	strvec_push(&deps->paths, path);
	if (!library)
		return;
	char *dir = fs_dirname(path);
	if (!in_system_dirs(dir) && !strvec_has(&deps->search_dirs, dir))
		strvec_push(&deps->search_dirs, dir);
	free(dir);
}

/* Search the libraries of the object at path (found as path, read from its
 * real path), adding what it needs to deps and the names not found to missing. */
static int add_object(struct elfdeps *deps, const char *path, const struct elf_object *exe,
		      struct strvec *missing, int depth)
{
	struct elf_object obj;
	char *real = fs_realpath(path);
	int ret = 0;

	if (!real)
		return err_errno("cannot read '%s'", path);
	if (strvec_has(&deps->visited, real)) {
		free(real);
		return 0;
	}
	strvec_push(&deps->visited, real);
	int kind = object_read(real, &obj);
	if (kind < 0)
		ret = err_errno("cannot read '%s'", path);
	if (kind <= 0 || !obj.dynamic) {
		object_release(&obj);
		free(real);
		return ret;
	}

	char *origin = fs_dirname(path);
	if (obj.interp && *obj.interp) {
		if (fs_is_file(obj.interp))
			record_path(deps, obj.interp, false);
		else if (!strvec_has(missing, obj.interp))
			strvec_push(missing, obj.interp);
	}
	for (size_t i = 0; i < obj.needed.len && ret == 0; i++) {
		char *found = find_library(obj.needed.items[i], &obj, origin, exe ? exe : &obj);

		if (!found) {
			if (!strvec_has(missing, obj.needed.items[i]))
				strvec_push(missing, obj.needed.items[i]);
			continue;
		}
		record_path(deps, found, true);
		if (depth < 64)
			ret = add_object(deps, found, exe ? exe : &obj, missing, depth + 1);
		free(found);
	}
	free(origin);
	object_release(&obj);
	free(real);
	return ret;
}

int elfdeps_add(struct elfdeps *deps, const char *path)
{
	struct strvec missing = STRVEC_INIT;
	int ret = add_object(deps, path, NULL, &missing, 0);

	if (ret == 0 && missing.len) {
		char *list = xstrdup(missing.items[0]);
		for (size_t i = 1; i < missing.len; i++) {
			char *next = xasprintf("%s, %s", list, missing.items[i]);
			free(list);
			list = next;
		}
		ret = err_msg("cannot find the shared libraries of '%s': %s (set LD_LIBRARY_PATH?)", path,
			      list);
		free(list);
	}
	strvec_release(&missing);
	return ret;
}

void elfdeps_release(struct elfdeps *deps)
{
	strvec_release(&deps->paths);
	strvec_release(&deps->search_dirs);
	strvec_release(&deps->visited);
}
