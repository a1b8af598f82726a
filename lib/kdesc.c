#include "kdesc.h"

#include "crc32.h"
#include "diag.h"
#include "json.h"
#include "version.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const source_names[] = {
	[KDESC_SOURCE_TARBALL] = "tarball",
	[KDESC_SOURCE_GIT] = "git",
	[KDESC_SOURCE_LOCAL] = "local",
	[KDESC_SOURCE_IMAGE] = "image",
};

struct string_field {
	const char *name;
	size_t offset;
};

#define FIELD(name) { #name, offsetof(struct kdesc, name) }

/* Keys of the "source" object, in output order. */
static const struct string_field source_fields[] = {
	FIELD(git_hash),
	FIELD(ref),
	FIELD(url),
	FIELD(source_tree_path),
};

/* Top-level string keys up to "dirty", in output order. */
static const struct string_field main_fields[] = {
	FIELD(version),
	FIELD(arch),
	FIELD(source_dir),
	FIELD(image_path),
	FIELD(vmlinux_path),
	FIELD(config_path),
	FIELD(kconfig_hash),
	FIELD(config_hash),
};

/* Top-level string keys after "dirty". */
static const struct string_field late_fields[] = {
	FIELD(built_at),
	FIELD(key),
	FIELD(cache_path),
};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static char **field_slot(struct kdesc *desc, const struct string_field *field)
{
	return (char **)((char *)desc + field->offset);
}

static const char *field_value(const struct kdesc *desc, const struct string_field *field)
{
	return *(char *const *)((const char *)desc + field->offset);
}

void kdesc_init(struct kdesc *desc)
{
	memset(desc, 0, sizeof(*desc));
	desc->object = jv_invalid();
}

void kdesc_release(struct kdesc *desc)
{
	for (size_t i = 0; i < COUNT(source_fields); i++)
		free(*field_slot(desc, &source_fields[i]));
	for (size_t i = 0; i < COUNT(main_fields); i++)
		free(*field_slot(desc, &main_fields[i]));
	for (size_t i = 0; i < COUNT(late_fields); i++)
		free(*field_slot(desc, &late_fields[i]));
	jv_free(desc->object);
	kdesc_init(desc);
}

const char *kdesc_source_name(enum kdesc_source type)
{
	if ((size_t)type < COUNT(source_names))
		return source_names[type];
	return "unknown";
}

int kdesc_source_parse(const char *name, enum kdesc_source *out)
{
	for (size_t i = 0; i < COUNT(source_names); i++) {
		if (name && !strcmp(name, source_names[i])) {
			*out = (enum kdesc_source)i;
			return 0;
		}
	}
	return -1;
}

bool kdesc_hash_valid(const char *text)
{
	if (!text || strlen(text) != 8)
		return false;
	for (const char *p = text; *p; p++) {
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	}
	return true;
}

bool kdesc_time_valid(const char *text)
{
	static const char pattern[] = "dddd-dd-ddTdd:dd:ddZ";

	if (!text || strlen(text) != sizeof(pattern) - 1)
		return false;
	for (size_t i = 0; pattern[i]; i++) {
		if (pattern[i] == 'd' ? (text[i] < '0' || text[i] > '9') : text[i] != pattern[i])
			return false;
	}
	return true;
}

char *kdesc_time_now(char *buf)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* The cause of the last failed kdesc_from_json() or kdesc_key(). */
static char why_buf[256];

__attribute__((format(printf, 1, 2))) static const char *why_text(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why_buf, sizeof(why_buf), fmt, ap);
	va_end(ap);
	return why_buf;
}

/* Copy obj[name] into *slot: a string, null or absent (NULL). */
static int take_string(jv obj, const char *name, char **slot, const char **why)
{
	jv value = jv_object_get(jv_copy(obj), jv_string(name));
	jv_kind kind = jv_get_kind(value);
	int ret = 0;

	if (kind == JV_KIND_STRING)
		*slot = xstrdup(jv_string_value(value));
	else if (kind != JV_KIND_NULL && kind != JV_KIND_INVALID) {
		*why = why_text("'%s' must be a string or null, not %s", name, jv_kind_name(kind));
		ret = -1;
	}
	jv_free(value);
	return ret;
}

static int take_bool(jv obj, const char *name, bool *slot, const char **why)
{
	jv value = jv_object_get(jv_copy(obj), jv_string(name));
	jv_kind kind = jv_get_kind(value);
	int ret = 0;

	if (kind == JV_KIND_TRUE || kind == JV_KIND_FALSE)
		*slot = kind == JV_KIND_TRUE;
	else if (kind != JV_KIND_NULL && kind != JV_KIND_INVALID) {
		*why = why_text("'%s' must be true or false, not %s", name, jv_kind_name(kind));
		ret = -1;
	}
	jv_free(value);
	return ret;
}

static int check_schema_version(jv obj, const char **why)
{
	jv value = jv_object_get(jv_copy(obj), jv_string("schema_version"));
	jv_kind kind = jv_get_kind(value);
	double number = kind == JV_KIND_NUMBER ? jv_number_value(value) : 0;

	jv_free(value);
	if (kind == JV_KIND_INVALID) {
		*why = "'schema_version' is missing";
		return -1;
	}
	if (kind != JV_KIND_NUMBER) {
		*why = "'schema_version' must be a number";
		return -1;
	}
	/* The range keeps the cast to long defined, and no schema version is that large. */
	if (number > -1e9 && number < 1e9 && number != (double)(long)number) {
		*why = why_text("'schema_version' must be an integer, not %.10g", number);
		return -1;
	}
	if (number != KDESC_SCHEMA_VERSION) {
		*why = why_text("schema_version %g is not supported (this ktstr reads version %d)",
				number, KDESC_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

static int take_source(struct kdesc *desc, jv obj, const char **why)
{
	jv source = jv_object_get(jv_copy(obj), jv_string("source"));
	int ret = -1;

	if (jv_get_kind(source) != JV_KIND_OBJECT) {
		*why = jv_is_valid(source) ? "'source' must be an object" : "'source' is missing";
		goto free_source;
	}
	const char *type = json_str(source, "type");
	if (!type) {
		*why = "'source.type' is missing or not a string";
		goto free_source;
	}
	if (kdesc_source_parse(type, &desc->source_type) != 0) {
		*why = why_text("unknown source type '%.40s' (expected tarball, git, local or image)", type);
		goto free_source;
	}
	for (size_t i = 0; i < COUNT(source_fields); i++) {
		if (take_string(source, source_fields[i].name, field_slot(desc, &source_fields[i]), why))
			goto free_source;
	}
	ret = 0;
free_source:
	jv_free(source);
	return ret;
}

static int check_values(const struct kdesc *desc, const char **why)
{
	if (desc->arch && strcmp(desc->arch, "x86_64") && strcmp(desc->arch, "aarch64")) {
		*why = why_text("unsupported arch '%.40s' (expected x86_64 or aarch64)", desc->arch);
		return -1;
	}
	if (desc->kconfig_hash && !kdesc_hash_valid(desc->kconfig_hash)) {
		*why = "'kconfig_hash' must be 8 lowercase hex digits";
		return -1;
	}
	if (desc->config_hash && !kdesc_hash_valid(desc->config_hash)) {
		*why = "'config_hash' must be 8 lowercase hex digits";
		return -1;
	}
	if (desc->built_at && !kdesc_time_valid(desc->built_at)) {
		*why = "'built_at' must be a UTC time as YYYY-MM-DDTHH:MM:SSZ";
		return -1;
	}
	return 0;
}

int kdesc_from_json(struct kdesc *desc, jv obj, const char **why)
{
	kdesc_release(desc);
	if (jv_get_kind(obj) != JV_KIND_OBJECT) {
		*why = why_text("expected a JSON object, got %s", jv_kind_name(jv_get_kind(obj)));
		return -1;
	}
	if (check_schema_version(obj, why) || take_source(desc, obj, why))
		goto fail;
	for (size_t i = 0; i < COUNT(main_fields); i++) {
		if (take_string(obj, main_fields[i].name, field_slot(desc, &main_fields[i]), why))
			goto fail;
	}
	for (size_t i = 0; i < COUNT(late_fields); i++) {
		if (take_string(obj, late_fields[i].name, field_slot(desc, &late_fields[i]), why))
			goto fail;
	}
	bool cached = false;
	if (take_bool(obj, "dirty", &desc->dirty, why) || take_bool(obj, "cached", &cached, why))
		goto fail;
	if (json_has(obj, "cached"))
		desc->cached = cached ? KDESC_CACHED_YES : KDESC_CACHED_NO;
	if (check_values(desc, why))
		goto fail;
	desc->object = jv_copy(obj);
	return 0;
fail:
	kdesc_release(desc);
	return -1;
}

/* Copy every key of from that to lacks. */
static jv add_missing_keys(jv to, jv from)
{
	if (jv_get_kind(from) != JV_KIND_OBJECT) {
		jv_free(from);
		return to;
	}
	int iter = jv_object_iter(from);
	while (jv_object_iter_valid(from, iter)) {
		jv key = jv_object_iter_key(from, iter);
		if (!json_has(to, jv_string_value(key)))
			to = jv_object_set(to, jv_copy(key), jv_object_iter_value(from, iter));
		jv_free(key);
		iter = jv_object_iter_next(from, iter);
	}
	jv_free(from);
	return to;
}

jv kdesc_to_json(const struct kdesc *desc)
{
	jv obj = jv_object();
	jv source = jv_object();
	bool had = jv_is_valid(desc->object);

	obj = jv_object_set(obj, jv_string("schema_version"), jv_number(KDESC_SCHEMA_VERSION));
	source = jv_object_set(source, jv_string("type"), jv_string(kdesc_source_name(desc->source_type)));
	for (size_t i = 0; i < COUNT(source_fields); i++)
		source = jv_object_set(source, jv_string(source_fields[i].name),
				       json_string_or_null(field_value(desc, &source_fields[i])));
	if (had)
		source = add_missing_keys(source, jv_object_get(jv_copy(desc->object), jv_string("source")));
	obj = jv_object_set(obj, jv_string("source"), source);

	for (size_t i = 0; i < COUNT(main_fields); i++)
		obj = jv_object_set(obj, jv_string(main_fields[i].name),
				    json_string_or_null(field_value(desc, &main_fields[i])));
	obj = jv_object_set(obj, jv_string("dirty"), jv_bool(desc->dirty));
	obj = jv_object_set(obj, jv_string("built_at"), json_string_or_null(desc->built_at));

	/* The cache's fields appear once ktstr-cache has set them. */
	if (desc->key || (had && json_has(desc->object, "key")))
		obj = jv_object_set(obj, jv_string("key"), json_string_or_null(desc->key));
	if (desc->cache_path || (had && json_has(desc->object, "cache_path")))
		obj = jv_object_set(obj, jv_string("cache_path"), json_string_or_null(desc->cache_path));
	if (desc->cached != KDESC_CACHED_UNSET)
		obj = jv_object_set(obj, jv_string("cached"), jv_bool(desc->cached == KDESC_CACHED_YES));

	if (had)
		obj = add_missing_keys(obj, jv_copy(desc->object));
	return obj;
}

int kdesc_read(FILE *in, const char *name, struct kdesc *desc)
{
	char *text = NULL;
	size_t len = 0, cap = 0;
	enum json_error kind;
	char *msg = NULL;
	const char *why;
	int ret = -1;

	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 65536;
			text = xrealloc(text, cap);
		}
		size_t n = fread(text + len, 1, cap - len - 1, in);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(in)) {
		err_errno("read the kernel descriptor from %s", name);
		goto free_text;
	}
	text[len] = '\0';
	if (strspn(text, " \t\r\n") == len) {
		/* Inside the dispatcher's chain an empty input means that an earlier
		 * stage failed and already printed the reason, so a second message
		 * would mislead. */
		const char *in_chain = getenv("KTSTR_CHAIN");
		if (!in_chain || !*in_chain)
			err_msg("no kernel descriptor on %s: pipe in the JSON output of ktstr-fetch, "
				"ktstr-kconfig or ktstr-build", name);
		goto free_text;
	}
	jv obj = json_parse(text, len, &kind, &msg);
	if (!jv_is_valid(obj)) {
		err_msg("invalid kernel descriptor on %s: %s JSON: %s", name, json_error_name(kind), msg);
		goto free_msg;
	}
	if (kdesc_from_json(desc, obj, &why) == 0)
		ret = 0;
	else
		err_msg("invalid kernel descriptor on %s: %s", name, why);
	jv_free(obj);
free_msg:
	free(msg);
free_text:
	free(text);
	return ret;
}

/* Find "name" or "source.name" in the JSON form; jv_invalid() when absent. */
static jv lookup_field(jv obj, const char *field)
{
	if (!strncmp(field, "source.", 7)) {
		jv source = jv_object_get(obj, jv_string("source"));
		if (jv_get_kind(source) != JV_KIND_OBJECT) {
			jv_free(source);
			return jv_invalid();
		}
		return jv_object_get(source, jv_string(field + 7));
	}
	return jv_object_get(obj, jv_string(field));
}

static bool field_known(const char *field)
{
	if (!strcmp(field, "cached") || !strcmp(field, "dirty") || !strcmp(field, "schema_version"))
		return true;
	for (size_t i = 0; i < COUNT(main_fields); i++) {
		if (!strcmp(field, main_fields[i].name))
			return true;
	}
	for (size_t i = 0; i < COUNT(late_fields); i++) {
		if (!strcmp(field, late_fields[i].name))
			return true;
	}
	return false;
}

bool kdesc_field_valid(const struct kdesc *desc, const char *field)
{
	jv obj = kdesc_to_json(desc);
	jv value = lookup_field(obj, field);
	bool valid = jv_is_valid(value) || field_known(field);

	jv_free(value);
	return valid;
}

int kdesc_write(FILE *out, const struct kdesc *desc, const char *field)
{
	jv obj = kdesc_to_json(desc);
	int ret;

	if (!field) {
		ret = json_print(out, obj, true);
		return ret ? err_errno("write the kernel descriptor") : 0;
	}
	jv value = lookup_field(obj, field);
	if (!jv_is_valid(value)) {
		jv_free(value);
		if (!field_known(field))
			return err_msg("unknown kernel descriptor field '%s'", field);
		value = jv_null();
	}
	switch (jv_get_kind(value)) {
	case JV_KIND_STRING:
		ret = fprintf(out, "%s\n", jv_string_value(value)) < 0 ? -1 : 0;
		jv_free(value);
		break;
	case JV_KIND_NULL:
		ret = fputc('\n', out) == EOF ? -1 : 0;
		jv_free(value);
		break;
	default:
		ret = json_print(out, value, false);
		break;
	}
	return ret ? err_errno("write field '%s' of the kernel descriptor", field) : 0;
}

/* Characters allowed in the version and ref parts of a key. */
static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '+' || c == '~' || c == '-';
}

static bool commit_valid(const char *hash)
{
	if (!hash || strlen(hash) < 7)
		return false;
	for (const char *p = hash; *p; p++) {
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	}
	return true;
}

/* A git ref as a key part: characters outside key_char() become '_'. */
static char *ref_part(const char *ref)
{
	char *part = xstrdup(ref);

	for (char *p = part; *p; p++) {
		if (!key_char(*p))
			*p = '_';
	}
	/* ".." never occurs in a valid ref, but a key must not contain it. */
	for (char *dots; (dots = strstr(part, "..")); )
		dots[1] = '_';
	return part;
}

static const char *check_version_part(const struct kdesc *desc)
{
	struct kver parsed;

	if (!desc->version)
		return "'version' is missing";
	if (!*desc->version)
		return "'version' is empty";
	if (desc->source_type == KDESC_SOURCE_TARBALL && kver_parse(desc->version, &parsed) != 0)
		return why_text("'version' '%.40s' is not a kernel release such as 6.14.2 or 6.15-rc3",
				desc->version);
	for (const char *p = desc->version; *p; p++) {
		if (!key_char(*p))
			return why_text("'version' '%.40s' contains '%c'", desc->version, *p);
	}
	if (desc->version[0] == '.' || strstr(desc->version, ".."))
		return why_text("'version' '%.40s' starts with '.' or contains '..'", desc->version);
	return NULL;
}

bool kdesc_cacheable(const struct kdesc *desc, const char **why)
{
	if (desc->dirty) {
		*why = "the tree has uncommitted changes (commit or stash them to cache it)";
		return false;
	}
	if (desc->source_type == KDESC_SOURCE_LOCAL && !commit_valid(desc->git_hash)) {
		*why = "the tree is not in a git repository, so its content has no commit to key it by";
		return false;
	}
	return true;
}

char *kdesc_key(const struct kdesc *desc, const char **why)
{
	const char *problem;
	char crc[9];

	if (!desc->arch) {
		*why = "'arch' is missing";
		return NULL;
	}
	if (!kdesc_hash_valid(desc->kconfig_hash)) {
		*why = desc->kconfig_hash ? "'kconfig_hash' must be 8 lowercase hex digits" :
			"'kconfig_hash' is missing (run ktstr-kconfig first)";
		return NULL;
	}

	switch (desc->source_type) {
	case KDESC_SOURCE_TARBALL:
	case KDESC_SOURCE_IMAGE:
		if ((problem = check_version_part(desc))) {
			*why = problem;
			return NULL;
		}
		return xasprintf("%s-%s-%s-kc%s", desc->version, kdesc_source_name(desc->source_type),
				 desc->arch, desc->kconfig_hash);
	case KDESC_SOURCE_GIT: {
		if (!commit_valid(desc->git_hash)) {
			*why = "'source.git_hash' must be a commit id of at least 7 hex digits";
			return NULL;
		}
		if (!desc->ref || !*desc->ref)
			return xasprintf("git-%.7s-%s-kc%s", desc->git_hash, desc->arch, desc->kconfig_hash);
		char *ref = ref_part(desc->ref);
		char *key = xasprintf("%s-git-%.7s-%s-kc%s", ref, desc->git_hash, desc->arch,
				      desc->kconfig_hash);
		free(ref);
		return key;
	}
	case KDESC_SOURCE_LOCAL: {
		/* NOTE: two builds of one commit with different .config files get the
		 * same key, so the later store replaces the earlier entry. */
		if (!desc->dirty && commit_valid(desc->git_hash))
			return xasprintf("local-%.7s-%s-kc%s", desc->git_hash, desc->arch, desc->kconfig_hash);
		const char *tree = desc->source_tree_path ? desc->source_tree_path : desc->source_dir;
		if (!tree) {
			*why = "'source.source_tree_path' is missing";
			return NULL;
		}
		crc32_hex(crc32_buffer(tree, strlen(tree)), crc);
		return xasprintf("local-unknown-%s-%s-kc%s", crc, desc->arch, desc->kconfig_hash);
	}
	}
	*why = "unknown source type";
	return NULL;
}
