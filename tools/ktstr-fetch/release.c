/* Kernel releases: releases.json, the mirror's checksum lists, and turning
 * what the user typed into one exact release. */
#include "fetch.h"

#include "diag.h"
#include "json.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env_or(const char *name, const char *fallback)
{
	const char *value = getenv(name);

	return value && *value ? value : fallback;
}

const char *fetch_releases_url(void)
{
	return env_or("KTSTR_RELEASES_URL", FETCH_RELEASES_URL);
}

const char *fetch_mirror_url(void)
{
	return env_or("KTSTR_KERNEL_MIRROR", FETCH_KERNEL_MIRROR);
}

const char *fetch_rc_url(void)
{
	return env_or("KTSTR_RC_URL", FETCH_RC_URL);
}

const char *fetch_keyring(void)
{
	return env_or("KTSTR_KEYRING", NULL);
}

void release_list_release(struct release_list *list)
{
	free(list->items);
	list->items = NULL;
	list->len = 0;
}

static void release_list_add(struct release_list *list, const struct kver *ver)
{
	struct release *item;

	for (size_t i = 0; i < list->len; i++) {
		if (kver_cmp(&list->items[i].ver, ver) == 0 &&
		    list->items[i].ver.has_patch == ver->has_patch)
			return;
	}
	list->items = xrealloc(list->items, (list->len + 1) * sizeof(*list->items));
	item = &list->items[list->len++];
	item->ver = *ver;
	kver_format(ver, item->text, sizeof(item->text));
}

static int compare_releases(const void *a, const void *b)
{
	return kver_cmp(&((const struct release *)a)->ver, &((const struct release *)b)->ver);
}

/* Fill list from the text of releases.json; -1 with a static cause. */
static int parse_releases(const char *text, size_t len, struct release_list *list, char *latest,
			  const char **why, char **json_msg)
{
	enum json_error kind;
	jv doc = json_parse(text, len, &kind, json_msg);

	if (!jv_is_valid(doc)) {
		*why = kind == JSON_TRUNCATED ? "truncated JSON" : "malformed JSON";
		return -1;
	}
	if (jv_get_kind(doc) != JV_KIND_OBJECT) {
		jv_free(doc);
		*why = "expected a JSON object";
		return -1;
	}
	jv rows = jv_object_get(jv_copy(doc), jv_string("releases"));
	if (jv_get_kind(rows) != JV_KIND_ARRAY) {
		jv_free(rows);
		jv_free(doc);
		*why = "no 'releases' array";
		return -1;
	}
	int count = jv_array_length(jv_copy(rows));
	for (int i = 0; i < count; i++) {
		jv row = jv_array_get(jv_copy(rows), i);
		const char *moniker = json_str(row, "moniker");
		const char *version = json_str(row, "version");
		struct kver ver;

		/* linux-next snapshots are not releases; rows without a usable
		 * version are skipped rather than failing the whole list. */
		if (moniker && version && strcmp(moniker, "linux-next") != 0 &&
		    kver_parse(version, &ver) == 0)
			release_list_add(list, &ver);
		else
			debug_msg("releases.json: skipped row %d", i);
		jv_free(row);
	}
	jv_free(rows);

	latest[0] = '\0';
	jv stable = jv_object_get(jv_copy(doc), jv_string("latest_stable"));
	const char *stable_version = json_str(stable, "version");
	struct kver ver;
	if (stable_version && kver_parse(stable_version, &ver) == 0 && ver.rc == 0)
		kver_format(&ver, latest, sizeof(((struct release *)0)->text));
	jv_free(stable);
	jv_free(doc);
	return 0;
}

static int load_releases(const struct fetch_opts *opts, struct release_list *list, char *latest,
			 bool quiet)
{
	const char *url = fetch_releases_url();
	struct http_error err;
	char *text, *json_msg = NULL;
	const char *why;
	size_t len;

	if (http_get(url, &opts->http, &text, &len, &err) != 0) {
		if (!quiet)
			err_msg("download of releases.json '%s' failed: %s", url, err.cause);
		return -1;
	}
	int ret = parse_releases(text, len, list, latest, &why, &json_msg);
	if (ret != 0 && !quiet) {
		/* libjq quotes the whole document after the position; keep the
		 * position only, on one line. */
		char *quoted = json_msg ? strstr(json_msg, " (while parsing") : NULL;
		if (quoted)
			*quoted = '\0';
		for (char *p = json_msg; p && *p; p++) {
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		}
		if (json_msg)
			err_msg("invalid releases.json '%s': %s: %s", url, why, json_msg);
		else
			err_msg("invalid releases.json '%s': %s", url, why);
	}
	free(json_msg);
	free(text);
	return ret;
}

int releases_load(const struct fetch_opts *opts, struct release_list *list, char *latest)
{
	return load_releases(opts, list, latest, false);
}

char *checksum_list_url(unsigned major)
{
	return xasprintf("%s/v%u.x/sha256sums.asc", fetch_mirror_url(), major);
}

/* Walk the "<64 hex digits> <file name>" lines of a checksum list. */
static const char *next_checksum_line(const char *p, char *hex, char *name, size_t name_size)
{
	while (*p) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *next = end ? end + 1 : p + len;
		size_t digits = 0;

		while (digits < len && isxdigit((unsigned char)p[digits]))
			digits++;
		if (digits == SHA256_HEX_LEN && digits < len && (p[digits] == ' ' || p[digits] == '\t')) {
			const char *file = p + digits;
			while (*file == ' ' || *file == '\t' || *file == '*')
				file++;
			size_t file_len = len - (size_t)(file - p);
			while (file_len && (file[file_len - 1] == '\r' || file[file_len - 1] == ' '))
				file_len--;
			if (file_len && file_len < name_size) {
				for (size_t i = 0; i < SHA256_HEX_LEN; i++)
					hex[i] = (char)tolower((unsigned char)p[i]);
				hex[SHA256_HEX_LEN] = '\0';
				memcpy(name, file, file_len);
				name[file_len] = '\0';
				return next;
			}
		}
		p = next;
	}
	return NULL;
}

const char *checksum_find(const char *text, const char *file_name, char *hex_out)
{
	char hex[SHA256_HEX_LEN + 1], name[256];

	for (const char *p = text; (p = next_checksum_line(p, hex, name, sizeof(name)));) {
		if (!strcmp(name, file_name)) {
			memcpy(hex_out, hex, sizeof(hex));
			return hex_out;
		}
	}
	return NULL;
}

void checksum_list_releases(const char *text, struct release_list *list)
{
	char hex[SHA256_HEX_LEN + 1], name[256];

	for (const char *p = text; (p = next_checksum_line(p, hex, name, sizeof(name)));) {
		size_t len = strlen(name);
		struct kver ver;

		if (len < 14 || strncmp(name, "linux-", 6) || strcmp(name + len - 7, ".tar.xz"))
			continue;
		name[len - 7] = '\0';
		if (kver_parse(name + 6, &ver) == 0 && ver.rc == 0)
			release_list_add(list, &ver);
	}
}

/* Add the releases of major listed in the mirror's checksum list, quietly.
 * NOTE: the list's signature is not checked here, even with KTSTR_KEYRING,
 * because only release names are read.  tarball_fetch checks the signature
 * before it uses a checksum. */
static void add_mirror_releases(const struct fetch_opts *opts, unsigned major,
				struct release_list *list)
{
	char *url = checksum_list_url(major);
	struct http_error err;
	char *text;

	if (http_get(url, &opts->http, &text, NULL, &err) == 0) {
		checksum_list_releases(text, list);
		free(text);
	} else {
		debug_msg("no checksum list at '%s': %s", url, err.cause);
	}
	free(url);
}

/* The newest release of series in list, or NULL. */
static const struct release *newest_in_series(const struct release_list *list,
					      const struct kver *series)
{
	const struct release *best = NULL;

	for (size_t i = 0; i < list->len; i++) {
		if (kver_in_series(series, &list->items[i].ver) &&
		    (!best || kver_cmp(&list->items[i].ver, &best->ver) > 0))
			best = &list->items[i];
	}
	return best;
}

char *nearest_releases_hint(const struct fetch_opts *opts, const struct kver *wanted)
{
	struct release_list list = { NULL, 0 };
	char latest[32];
	char *hint;

	load_releases(opts, &list, latest, true);
	add_mirror_releases(opts, wanted->major, &list);
	if (list.len == 0)
		return xstrdup("");
	qsort(list.items, list.len, sizeof(*list.items), compare_releases);

	/* The wanted version itself may be listed while its tarball is
	 * missing; it is no alternative, so it is left out. */
	size_t below = 0, above = 0;
	while (below < list.len && kver_cmp(&list.items[below].ver, wanted) < 0)
		below++;
	above = below;
	while (above < list.len && kver_cmp(&list.items[above].ver, wanted) == 0)
		above++;
	size_t first = below >= 2 ? below - 2 : 0;
	size_t last = above + 2 <= list.len ? above + 2 : list.len;
	bool any = false;
	hint = xstrdup("; nearest known releases:");
	for (size_t i = first; i < last; i++) {
		if (i >= below && i < above)
			continue;
		char *longer = xasprintf("%s%s %s", hint, any ? "," : "", list.items[i].text);
		free(hint);
		hint = longer;
		any = true;
	}
	if (!any) {
		free(hint);
		hint = xstrdup("");
	}
	release_list_release(&list);
	return hint;
}

static int resolve_latest(const struct fetch_opts *opts, char *out)
{
	struct release_list list = { NULL, 0 };
	char latest[32];

	debug_msg("looking up the latest stable kernel in '%s'", fetch_releases_url());
	if (releases_load(opts, &list, latest) != 0)
		return -1;
	release_list_release(&list);
	if (!latest[0])
		return err_msg("invalid releases.json '%s': no 'latest_stable' release",
			       fetch_releases_url());
	snprintf(out, 32, "%s", latest);
	info_msg("latest stable kernel: %s", out);
	return 0;
}

static int resolve_series(const struct fetch_opts *opts, const struct kver *series,
			  const char *request, char *out)
{
	struct release_list list = { NULL, 0 };
	char latest[32];
	const struct release *best;

	if (releases_load(opts, &list, latest) != 0)
		return -1;
	best = newest_in_series(&list, series);
	if (!best) {
		/* A series past its end of life has left releases.json, but the
		 * mirror's checksum list still names every release of it. */
		add_mirror_releases(opts, series->major, &list);
		best = newest_in_series(&list, series);
	}
	if (!best) {
		char *hint = nearest_releases_hint(opts, series);
		char *url = checksum_list_url(series->major);
		err_msg("no release of the %s series in '%s' or '%s'%s", request,
			fetch_releases_url(), url, hint);
		free(url);
		free(hint);
		release_list_release(&list);
		return -1;
	}
	snprintf(out, 32, "%s", best->text);
	info_msg("newest release of the %s series: %s", request, out);
	release_list_release(&list);
	return 0;
}

int resolve_version(const struct fetch_opts *opts, const char *request, char *out)
{
	struct kver ver;

	if (!request)
		return resolve_latest(opts, out);
	if (kver_parse(request, &ver) != 0)
		return err_msg("invalid kernel version '%s': expected MAJOR.MINOR[.PATCH][-rcN], "
			       "such as 6.14.2, 6.15-rc3 or 6.12 for the newest 6.12.x", request);
	if (kver_is_series(&ver))
		return resolve_series(opts, &ver, request, out);
	/* kernel.org names the first release of a series 6.14, not 6.14.0. */
	if (ver.has_patch && ver.patch == 0)
		ver.has_patch = false;
	kver_format(&ver, out, 32);
	return 0;
}

char *tarball_url(const struct kver *ver, const char *text)
{
	if (ver->rc)
		return xasprintf("%s/linux-%s.tar.gz", fetch_rc_url(), text);
	return xasprintf("%s/v%u.x/linux-%s.tar.xz", fetch_mirror_url(), ver->major, text);
}
