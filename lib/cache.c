#include "cache.h"

#include "crc32.h"
#include "diag.h"
#include "fsutil.h"
#include "json.h"
#include "paths.h"
#include "version.h"
#include "xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *cache_error_name(enum cache_error error)
{
	switch (error) {
	case CACHE_OK:
		return "ok";
	case CACHE_MISSING:
		return "missing";
	case CACHE_UNREADABLE:
		return "unreadable";
	case CACHE_MALFORMED:
		return "malformed";
	case CACHE_TRUNCATED:
		return "truncated";
	case CACHE_SCHEMA_DRIFT:
		return "schema_drift";
	case CACHE_IMAGE_MISSING:
		return "image_missing";
	}
	return "unknown";
}

const char *cache_kconfig_status_name(enum cache_kconfig_status status)
{
	switch (status) {
	case CACHE_KCONFIG_MATCHES:
		return "matches";
	case CACHE_KCONFIG_STALE:
		return "stale";
	case CACHE_KCONFIG_UNTRACKED:
		return "untracked";
	case CACHE_KCONFIG_UNKNOWN:
		return "unknown";
	}
	return "unknown";
}

bool cache_key_valid(const char *key, const char **why)
{
	const char *cause = NULL;

	if (!key || !*key)
		cause = "the key is empty";
	else if (strlen(key) > CACHE_KEY_MAX)
		cause = "the key is longer than 200 bytes";
	else if (key[0] == '.')
		cause = "a key must not start with '.'";
	else if (strchr(key, '/') || strchr(key, '\\'))
		cause = "a key must not contain '/' or '\\'";
	else if (strstr(key, ".."))
		cause = "a key must not contain '..'";
	for (const char *p = key; !cause && *p; p++) {
		if (iscntrl((unsigned char)*p) || *p == ' ')
			cause = "a key must not contain spaces or control characters";
	}
	if (cause && why)
		*why = cause;
	return !cause;
}

void cache_meta_init(struct cache_meta *meta)
{
	memset(meta, 0, sizeof(*meta));
	meta->object = jv_invalid();
}

void cache_meta_release(struct cache_meta *meta)
{
	free(meta->version);
	free(meta->arch);
	free(meta->image_name);
	free(meta->config_hash);
	free(meta->built_at);
	free(meta->ktstr_kconfig_hash);
	free(meta->ktstr_version);
	jv_free(meta->object);
	cache_meta_init(meta);
}

/* Read obj[name]: a string, or (unless required) null or absent. */
static int meta_string(jv obj, const char *name, bool required, char **out, const char **why)
{
	jv value = jv_object_get(jv_copy(obj), jv_string(name));
	jv_kind kind = jv_get_kind(value);
	int ret = 0;

	if (kind == JV_KIND_STRING) {
		*out = xstrdup(jv_string_value(value));
	} else if (required || (kind != JV_KIND_NULL && kind != JV_KIND_INVALID)) {
		ret = -1;
		*why = kind == JV_KIND_INVALID ? "a required field is missing" : "a field has the wrong type";
	}
	jv_free(value);
	return ret;
}

static int meta_bool(jv obj, const char *name, bool required, bool *out, const char **why)
{
	jv value = jv_object_get(jv_copy(obj), jv_string(name));
	jv_kind kind = jv_get_kind(value);
	int ret = 0;

	if (kind == JV_KIND_TRUE || kind == JV_KIND_FALSE) {
		*out = kind == JV_KIND_TRUE;
	} else if (required || kind != JV_KIND_INVALID) {
		ret = -1;
		*why = kind == JV_KIND_INVALID ? "a required field is missing" : "a field has the wrong type";
	}
	jv_free(value);
	return ret;
}

static int meta_source(struct cache_meta *meta, jv obj, const char **why)
{
	jv source = jv_object_get(jv_copy(obj), jv_string("source"));
	const char *type = json_str(source, "type");
	int ret = -1;

	if (jv_get_kind(source) != JV_KIND_OBJECT)
		*why = jv_is_valid(source) ? "'source' is not an object" : "'source' is missing";
	else if (!type)
		*why = "'source.type' is missing";
	else if (kdesc_source_parse(type, &meta->source_type) != 0)
		*why = "'source.type' is not tarball, git, local or image";
	else
		ret = 0;
	jv_free(source);
	return ret;
}

int cache_meta_from_json(struct cache_meta *meta, jv obj, const char **why)
{
	cache_meta_release(meta);
	if (jv_get_kind(obj) != JV_KIND_OBJECT) {
		*why = "not a JSON object";
		return -1;
	}

	/* Upstream ktstr writes no schema_version; its entries read as version 1. */
	jv schema = jv_object_get(jv_copy(obj), jv_string("schema_version"));
	jv_kind schema_kind = jv_get_kind(schema);
	double schema_number = schema_kind == JV_KIND_NUMBER ? jv_number_value(schema) : 0;
	jv_free(schema);
	if (schema_kind != JV_KIND_INVALID && schema_kind != JV_KIND_NUMBER) {
		*why = "'schema_version' is not a number";
		return -1;
	}
	/* The range keeps the cast to long defined, and no schema version is that large. */
	if (schema_kind == JV_KIND_NUMBER && schema_number > -1e9 && schema_number < 1e9 &&
	    schema_number != (double)(long)schema_number) {
		*why = "'schema_version' must be an integer";
		return -1;
	}
	if (schema_kind == JV_KIND_NUMBER && schema_number != CACHE_SCHEMA_VERSION) {
		*why = "written by another ktstr with a different schema_version";
		return -1;
	}

	if (meta_source(meta, obj, why) ||
	    meta_string(obj, "arch", true, &meta->arch, why) ||
	    meta_string(obj, "image_name", true, &meta->image_name, why) ||
	    meta_string(obj, "built_at", true, &meta->built_at, why) ||
	    meta_bool(obj, "has_vmlinux", true, &meta->has_vmlinux, why) ||
	    meta_bool(obj, "vmlinux_stripped", true, &meta->vmlinux_stripped, why) ||
	    meta_string(obj, "version", false, &meta->version, why) ||
	    meta_string(obj, "config_hash", false, &meta->config_hash, why) ||
	    meta_string(obj, "ktstr_kconfig_hash", false, &meta->ktstr_kconfig_hash, why) ||
	    meta_string(obj, "ktstr_version", false, &meta->ktstr_version, why) ||
	    meta_bool(obj, "has_config", false, &meta->has_config, why))
		goto fail;
	if (!*meta->image_name || strchr(meta->image_name, '/') || !strcmp(meta->image_name, ".") ||
	    !strcmp(meta->image_name, "..")) {
		*why = "'image_name' is not a plain file name";
		goto fail;
	}
	meta->object = jv_copy(obj);
	return 0;
fail:
	cache_meta_release(meta);
	return -1;
}

jv cache_meta_build(const struct kdesc *desc, const char *image_name, bool has_vmlinux,
		    bool vmlinux_stripped, bool has_config)
{
	bool image = desc->source_type == KDESC_SOURCE_IMAGE;
	char now[21];
	jv source = jv_object();
	jv obj = jv_object();

	source = jv_object_set(source, jv_string("type"), jv_string(kdesc_source_name(desc->source_type)));
	source = jv_object_set(source, jv_string("git_hash"), json_string_or_null(desc->git_hash));
	source = jv_object_set(source, jv_string("ref"), json_string_or_null(desc->ref));
	source = jv_object_set(source, jv_string("url"), json_string_or_null(desc->url));
	source = jv_object_set(source, jv_string("source_tree_path"),
			       json_string_or_null(desc->source_tree_path));

	obj = jv_object_set(obj, jv_string("version"), json_string_or_null(desc->version));
	obj = jv_object_set(obj, jv_string("source"), source);
	obj = jv_object_set(obj, jv_string("arch"), jv_string(desc->arch));
	obj = jv_object_set(obj, jv_string("image_name"), jv_string(image_name));
	/* An image's kconfig_hash is the CRC of its own config: that is its
	 * config_hash, and it has no fragment hash to go stale. */
	obj = jv_object_set(obj, jv_string("config_hash"),
			    json_string_or_null(image ? desc->kconfig_hash : desc->config_hash));
	obj = jv_object_set(obj, jv_string("built_at"),
			    jv_string(desc->built_at ? desc->built_at : kdesc_time_now(now)));
	obj = jv_object_set(obj, jv_string("ktstr_kconfig_hash"),
			    image ? jv_null() : json_string_or_null(desc->kconfig_hash));
	obj = jv_object_set(obj, jv_string("has_vmlinux"), jv_bool(has_vmlinux));
	obj = jv_object_set(obj, jv_string("vmlinux_stripped"), jv_bool(vmlinux_stripped));
	obj = jv_object_set(obj, jv_string("has_config"), jv_bool(has_config));
	obj = jv_object_set(obj, jv_string("ktstr_version"), jv_string(KTSTR_VERSION));
	obj = jv_object_set(obj, jv_string("schema_version"), jv_number(CACHE_SCHEMA_VERSION));
	return obj;
}

void cache_entry_release(struct cache_entry *entry)
{
	free(entry->key);
	free(entry->path);
	free(entry->image_path);
	free(entry->error_text);
	cache_meta_release(&entry->meta);
	memset(entry, 0, sizeof(*entry));
	cache_meta_init(&entry->meta);
}

static enum cache_error cache_error_of_json(enum json_error kind)
{
	switch (kind) {
	case JSON_OK:
		return CACHE_OK;
	case JSON_MISSING:
		return CACHE_MISSING;
	case JSON_UNREADABLE:
		return CACHE_UNREADABLE;
	case JSON_MALFORMED:
		return CACHE_MALFORMED;
	case JSON_TRUNCATED:
		return CACHE_TRUNCATED;
	}
	return CACHE_MALFORMED;
}

/* json_read_file(), except that a NUL byte makes the text malformed: jq
 * 1.6 parses "\0\377" as the number 0, which would read as "not a JSON
 * object" and hide that the file is garbage. */
static jv read_metadata(const char *path, enum json_error *kind, char **msg)
{
	size_t len;
	char *text = fs_read_file(path, &len);

	if (!text) {
		*kind = errno == ENOENT ? JSON_MISSING : JSON_UNREADABLE;
		*msg = xstrdup(strerror(errno));
		return jv_invalid();
	}
	jv value;
	if (memchr(text, '\0', len)) {
		*kind = JSON_MALFORMED;
		*msg = xstrdup("malformed JSON: the file contains a NUL byte");
		value = jv_invalid();
	} else {
		value = json_parse(text, len, kind, msg);
	}
	free(text);
	return value;
}

int cache_entry_load(const char *root, const char *key, struct cache_entry *entry)
{
	enum json_error kind;
	char *msg = NULL;
	const char *why;

	memset(entry, 0, sizeof(*entry));
	cache_meta_init(&entry->meta);
	entry->key = xstrdup(key);
	entry->path = fs_path_join(root, key);

	char *meta_path = fs_path_join(entry->path, CACHE_METADATA);
	jv obj = read_metadata(meta_path, &kind, &msg);
	free(meta_path);
	if (!jv_is_valid(obj)) {
		entry->error = cache_error_of_json(kind);
		entry->error_text = kind == JSON_MISSING ? xstrdup("metadata.json is missing") :
			xasprintf("metadata.json: %s", msg);
		free(msg);
		return 1;
	}
	if (cache_meta_from_json(&entry->meta, obj, &why) != 0) {
		entry->error = CACHE_SCHEMA_DRIFT;
		entry->error_text = xasprintf("metadata.json: %s", why);
		jv_free(obj);
		return 1;
	}
	jv_free(obj);

	char *image = fs_path_join(entry->path, entry->meta.image_name);
	if (!fs_is_file(image)) {
		entry->error = CACHE_IMAGE_MISSING;
		entry->error_text = xasprintf("boot image '%s' is missing", entry->meta.image_name);
		free(image);
		return 1;
	}
	entry->image_path = image;
	return 0;
}

char *cache_entry_vmlinux(const struct cache_entry *entry)
{
	if (entry->error || !entry->meta.has_vmlinux)
		return NULL;
	return fs_path_join(entry->path, CACHE_VMLINUX);
}

char *cache_entry_config(const struct cache_entry *entry)
{
	if (entry->error || !entry->meta.has_config)
		return NULL;
	return fs_path_join(entry->path, CACHE_CONFIG);
}

bool cache_entry_has_sched_ext(const struct cache_entry *entry)
{
	char *path = cache_entry_config(entry);
	char *text = path ? fs_read_file(path, NULL) : NULL;
	bool found = false;

	for (const char *line = text; line && *line; ) {
		const char *end = strchrnul(line, '\n');
		if ((size_t)(end - line) == strlen("CONFIG_SCHED_CLASS_EXT=y") &&
		    !strncmp(line, "CONFIG_SCHED_CLASS_EXT=y", (size_t)(end - line))) {
			found = true;
			break;
		}
		line = *end ? end + 1 : end;
	}
	free(text);
	free(path);
	return found;
}

enum cache_kconfig_status cache_entry_kconfig_status(const struct cache_entry *entry,
						     const char *current_hash)
{
	if (entry->meta.source_type == KDESC_SOURCE_IMAGE || !entry->meta.ktstr_kconfig_hash)
		return CACHE_KCONFIG_UNTRACKED;
	if (!current_hash)
		return CACHE_KCONFIG_UNKNOWN;
	if (strcmp(entry->meta.ktstr_kconfig_hash, current_hash))
		return CACHE_KCONFIG_STALE;
	return CACHE_KCONFIG_MATCHES;
}

bool cache_entry_stale_ktstr(const struct cache_entry *entry)
{
	return entry->meta.ktstr_version && strcmp(entry->meta.ktstr_version, KTSTR_VERSION);
}

jv cache_entry_to_json(const struct cache_entry *entry, const char *current_hash)
{
	jv obj = jv_object();

	obj = jv_object_set(obj, jv_string("key"), jv_string(entry->key));
	obj = jv_object_set(obj, jv_string("path"), jv_string(entry->path));
	if (entry->error) {
		obj = jv_object_set(obj, jv_string("error"), jv_string(entry->error_text));
		obj = jv_object_set(obj, jv_string("error_kind"), jv_string(cache_error_name(entry->error)));
		return obj;
	}

	jv meta = jv_copy(entry->meta.object);
	int iter = jv_object_iter(meta);
	while (jv_object_iter_valid(meta, iter)) {
		jv name = jv_object_iter_key(meta, iter);
		if (!json_has(obj, jv_string_value(name)))
			obj = jv_object_set(obj, jv_copy(name), jv_object_iter_value(meta, iter));
		jv_free(name);
		iter = jv_object_iter_next(meta, iter);
	}
	jv_free(meta);

	char *vmlinux = cache_entry_vmlinux(entry);
	char *config = cache_entry_config(entry);
	obj = jv_object_set(obj, jv_string("image_path"), jv_string(entry->image_path));
	obj = jv_object_set(obj, jv_string("vmlinux_path"), json_string_or_null(vmlinux));
	obj = jv_object_set(obj, jv_string("config_path"), json_string_or_null(config));
	obj = jv_object_set(obj, jv_string("kconfig_status"),
			    jv_string(cache_kconfig_status_name(cache_entry_kconfig_status(entry, current_hash))));
	obj = jv_object_set(obj, jv_string("stale_ktstr"), jv_bool(cache_entry_stale_ktstr(entry)));
	free(vmlinux);
	free(config);
	return obj;
}

static int compare_entries(const void *a, const void *b)
{
	const struct cache_entry *x = a, *y = b;

	if (!x->error != !y->error)
		return x->error ? 1 : -1;
	if (!x->error) {
		int c = strcmp(y->meta.built_at, x->meta.built_at);
		if (c)
			return c;
	}
	return strcmp(x->key, y->key);
}

int cache_scan(const char *root, struct cache_list *list)
{
	size_t cap = 0;
	DIR *dir = opendir(root);

	list->items = NULL;
	list->len = 0;
	if (!dir) {
		if (errno == ENOENT)
			return 0;
		return err_errno("cannot read cache root '%s'", root);
	}
	struct dirent *ent;
	while ((errno = 0, ent = readdir(dir))) {
		if (ent->d_name[0] == '.' || !cache_key_valid(ent->d_name, NULL))
			continue;
		char *path = fs_path_join(root, ent->d_name);
		bool is_dir = fs_is_dir(path);
		free(path);
		if (!is_dir)
			continue;
		if (list->len == cap) {
			cap = cap ? cap * 2 : 16;
			list->items = xrealloc(list->items, cap * sizeof(*list->items));
		}
		cache_entry_load(root, ent->d_name, &list->items[list->len++]);
	}
	int saved = errno;
	closedir(dir);
	if (saved) {
		errno = saved;
		cache_list_release(list);
		return err_errno("cannot read cache root '%s'", root);
	}
	if (list->len > 1)
		qsort(list->items, list->len, sizeof(*list->items), compare_entries);
	return 0;
}

void cache_list_release(struct cache_list *list)
{
	for (size_t i = 0; i < list->len; i++)
		cache_entry_release(&list->items[i]);
	free(list->items);
	list->items = NULL;
	list->len = 0;
}

void cache_list_take(struct cache_list *list, size_t index, struct cache_entry *entry)
{
	*entry = list->items[index];
	memset(&list->items[index], 0, sizeof(list->items[index]));
	cache_meta_init(&list->items[index].meta);
}

char *cache_kconfig_hash(void)
{
	char *path = paths_share_file("ktstr.kconfig");
	uint32_t crc;
	char hex[9];
	char *hash = NULL;

	if (crc32_file(path, &crc) == 0)
		hash = xstrdup(crc32_hex(crc, hex));
	else if (errno != ENOENT)
		warn_errno("cannot read '%s'; kconfig hashes are not compared", path);
	free(path);
	return hash;
}

/* The release a version string names: "6.14.2", or the leading release of a
 * distribution's version such as "7.3.4+deb13-cloud-amd64". */
static int release_of(const char *version, struct kver *out)
{
	if (!version)
		return -1;
	if (kver_parse(version, out) == 0)
		return 0;
	size_t len = strspn(version, "0123456789.");
	if (len == 0 || !strncmp(version + len, "-rc", 3))
		return -1;
	char *head = xstrndup(version, len);
	int ret = kver_parse(head, out);
	free(head);
	return ret;
}

struct candidate_rank {
	bool fresh;         /* not built with a stale kconfig fragment */
	bool has_release;
	struct kver release;
};

/* Whether a ranks above b; the list is newest first, so on a tie the
 * earlier entry stays. */
static bool rank_above(const struct candidate_rank *a, const struct candidate_rank *b)
{
	if (a->fresh != b->fresh)
		return a->fresh;
	if (a->has_release && b->has_release)
		return kver_cmp(&a->release, &b->release) > 0;
	return false;
}

enum match_mode { MATCH_VERSION, MATCH_SERIES, MATCH_ANY, MATCH_SCHED_EXT };

static bool entry_matches(const struct cache_entry *entry, enum match_mode mode, const char *id,
			  const struct kver *series, struct kver *release)
{
	bool versioned = entry->meta.source_type == KDESC_SOURCE_TARBALL ||
			 entry->meta.source_type == KDESC_SOURCE_IMAGE;

	if (entry->error)
		return false;
	switch (mode) {
	case MATCH_VERSION:
		return versioned && entry->meta.version && !strcmp(entry->meta.version, id);
	case MATCH_SERIES:
		return versioned && release_of(entry->meta.version, release) == 0 &&
		       kver_in_series(series, release);
	case MATCH_ANY:
		return true;
	case MATCH_SCHED_EXT:
		return cache_entry_has_sched_ext(entry);
	}
	return false;
}

/* Pick the best entry of list that matches; 0 with *entry filled, or 1. */
static int pick(struct cache_list *list, enum match_mode mode, const char *id,
		const struct kver *series, struct cache_entry *entry)
{
	char *current = cache_kconfig_hash();
	struct candidate_rank best_rank = { 0 }, rank;
	size_t best = list->len;

	for (size_t i = 0; i < list->len; i++) {
		struct cache_entry *item = &list->items[i];
		memset(&rank, 0, sizeof(rank));
		if (!entry_matches(item, mode, id, series, &rank.release))
			continue;
		rank.has_release = mode == MATCH_SERIES;
		rank.fresh = cache_entry_kconfig_status(item, current) != CACHE_KCONFIG_STALE;
		if (best == list->len || rank_above(&rank, &best_rank)) {
			best = i;
			best_rank = rank;
		}
	}
	free(current);
	if (best == list->len)
		return 1;
	cache_list_take(list, best, entry);
	return 0;
}

/* The version a corrupt entry was stored under: its metadata's when that
 * was read, else the part of a tarball or image key before the source. */
static char *corrupt_entry_version(const struct cache_entry *entry)
{
	static const char *const sources[] = { "-tarball-", "-image-" };

	if (entry->meta.version)
		return xstrdup(entry->meta.version);
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		const char *found = strstr(entry->key, sources[i]);
		if (found && found > entry->key)
			return xstrndup(entry->key, (size_t)(found - entry->key));
	}
	return NULL;
}

/* Take the first corrupt entry of list stored for version id, or for a
 * release of series when series is not NULL.  Returns 1 either way, which
 * is what cache_find() returns for a miss. */
static int take_corrupt_match(struct cache_list *list, const char *id, const struct kver *series,
			      struct cache_entry *entry)
{
	for (size_t i = 0; i < list->len; i++) {
		if (!list->items[i].error)
			continue;
		char *version = corrupt_entry_version(&list->items[i]);
		struct kver release;
		bool matches = version && (series ?
			release_of(version, &release) == 0 && kver_in_series(series, &release) :
			!strcmp(version, id));
		free(version);
		if (matches) {
			cache_list_take(list, i, entry);
			break;
		}
	}
	return 1;
}

int cache_find(const char *root, const char *id, struct cache_entry *entry)
{
	struct cache_list list;
	struct kver series;
	int ret = 1;

	memset(entry, 0, sizeof(*entry));
	cache_meta_init(&entry->meta);
	if (cache_scan(root, &list) != 0)
		return -1;

	for (size_t i = 0; i < list.len; i++) {
		if (!strcmp(list.items[i].key, id)) {
			cache_list_take(&list, i, entry);
			ret = entry->error ? 1 : 0;
			goto release_list;
		}
	}
	if (kver_parse(id, &series) == 0 && kver_is_series(&series)) {
		ret = pick(&list, MATCH_SERIES, id, &series, entry);
		if (ret == 1)
			ret = take_corrupt_match(&list, id, &series, entry);
		goto release_list;
	}
	ret = pick(&list, MATCH_VERSION, id, NULL, entry);
	if (ret == 1)
		ret = take_corrupt_match(&list, id, NULL, entry);
release_list:
	cache_list_release(&list);
	return ret;
}

int cache_find_newest(const char *root, bool sched_ext, struct cache_entry *entry)
{
	struct cache_list list;

	memset(entry, 0, sizeof(*entry));
	cache_meta_init(&entry->meta);
	if (cache_scan(root, &list) != 0)
		return -1;
	int ret = pick(&list, sched_ext ? MATCH_SCHED_EXT : MATCH_ANY, NULL, NULL, entry);
	cache_list_release(&list);
	return ret;
}

int cache_lock_entry(const char *root, const char *key, enum lock_mode mode, int timeout_ms)
{
	char *dir = fs_path_join(root, CACHE_LOCK_DIR);
	char *path = xasprintf("%s/%s.lock", dir, key);
	int fd = -1;

	if (fs_mkdir_p(dir, 0777) == 0)
		fd = lock_acquire(path, mode, timeout_ms);
	int saved = errno;
	free(path);
	free(dir);
	errno = saved;
	return fd;
}

int cache_hold_image(const char *image_path)
{
	char *image = fs_realpath(image_path);
	int ret = CACHE_NOT_HELD;

	if (!image)
		return CACHE_NOT_HELD;
	char *entry_dir = fs_dirname(image);
	char *root = fs_dirname(entry_dir);
	const char *key = fs_basename(entry_dir);
	char *metadata = fs_path_join(entry_dir, CACHE_METADATA);
	if (!cache_key_valid(key, NULL) || !fs_is_file(metadata))
		goto free_paths;

	/* A VM waits at most 10 s for a store or clean of the same entry. */
	int fd = cache_lock_entry(root, key, LOCK_MODE_SHARED, 10000);
	if (fd < 0) {
		if (errno == EACCES || errno == EROFS || errno == EPERM)
			goto free_paths;
		if (errno == EWOULDBLOCK)
			err_msg("cannot lock cached kernel '%s': a store or clean held it for 10 s", key);
		else
			err_errno("cannot lock cached kernel '%s'", key);
		ret = CACHE_HOLD_FAILED;
		goto free_paths;
	}
	if (!fs_is_file(image)) {
		err_msg("cached kernel '%s' was removed while waiting for its lock", key);
		lock_release(fd);
		ret = CACHE_HOLD_FAILED;
		goto free_paths;
	}
	ret = fd;
free_paths:
	free(metadata);
	free(root);
	free(entry_dir);
	free(image);
	return ret;
}

void cache_release_image(int fd)
{
	if (fd >= 0)
		lock_release(fd);
}
