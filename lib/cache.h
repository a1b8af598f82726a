/* The kernel image cache: entries, their metadata, lookups and locks.
 *
 * Layout under the root (paths_cache_root()):
 *   <key>/bzImage          boot image (the name is metadata's image_name)
 *   <key>/vmlinux          optional, stripped of DWARF when possible
 *   <key>/config           optional, the kernel's .config
 *   <key>/metadata.json    written last; an entry without it is corrupt
 *   .locks/<key>.lock      flock(2): shared while a VM boots the image,
 *                          exclusive while a store or clean changes the entry
 *   .tmp-<key>-<pid>/      a store or removal in progress
 * Children whose name starts with '.' are never entries.
 */
#ifndef KTSTR_CACHE_H
#define KTSTR_CACHE_H

#include "kdesc.h"
#include "lock.h"

#include <jv.h>
#include <stdbool.h>
#include <stddef.h>

#define CACHE_SCHEMA_VERSION 1
#define CACHE_METADATA "metadata.json"
#define CACHE_VMLINUX "vmlinux"
#define CACHE_CONFIG "config"
#define CACHE_LOCK_DIR ".locks"
#define CACHE_TEMP_PREFIX ".tmp-"
/* kernel build unpacks releases and clones git refs into <root>/.build/<key>/
 * while it holds <root>/.locks/build-<key>.lock. */
#define CACHE_BUILD_DIR ".build"
#define CACHE_BUILD_LOCK_PREFIX "build-"
/* Maximum key length: it leaves room for ".tmp-", "-<pid>" and ".lock"
 * within NAME_MAX. */
#define CACHE_KEY_MAX 200

/* Reasons for a corrupt entry; cache_error_name() gives the --json error_kind. */
enum cache_error {
	CACHE_OK,
	CACHE_MISSING,       /* metadata.json does not exist */
	CACHE_UNREADABLE,    /* it could not be read */
	CACHE_MALFORMED,     /* its text is not JSON */
	CACHE_TRUNCATED,     /* its text ends inside a JSON value */
	CACHE_SCHEMA_DRIFT,  /* JSON of another shape, or a newer schema_version */
	CACHE_IMAGE_MISSING, /* the boot image it names is not in the entry */
};

enum cache_kconfig_status {
	CACHE_KCONFIG_MATCHES,   /* built with the current share/ktstr.kconfig */
	CACHE_KCONFIG_STALE,     /* built with another version of it */
	CACHE_KCONFIG_UNTRACKED, /* a prebuilt image, or no hash recorded */
	CACHE_KCONFIG_UNKNOWN,   /* share/ktstr.kconfig is missing here */
};

/* metadata.json: the field names of upstream ktstr, plus has_config,
 * ktstr_version and schema_version. */
struct cache_meta {
	char *version;
	enum kdesc_source source_type;
	char *arch;
	char *image_name;
	char *config_hash;
	char *built_at;
	char *ktstr_kconfig_hash;
	char *ktstr_version;
	bool has_vmlinux;
	bool vmlinux_stripped;
	bool has_config;
	jv object;           /* every field as read, for --json */
};

struct cache_entry {
	char *key;
	char *path;          /* <root>/<key> */
	char *image_path;    /* <path>/<image_name>, NULL when corrupt */
	struct cache_meta meta;
	enum cache_error error;
	char *error_text;    /* the cause, when corrupt */
};

struct cache_list {
	struct cache_entry *items;
	size_t len;
};

const char *cache_error_name(enum cache_error error);
const char *cache_kconfig_status_name(enum cache_kconfig_status status);

/* A key that can name an entry: not empty or blank, at most CACHE_KEY_MAX
 * bytes, no '/', '\', control character or "..", not starting with '.'.
 * On false, *why (optional) gets a static cause. */
bool cache_key_valid(const char *key, const char **why);

void cache_meta_init(struct cache_meta *meta);
void cache_meta_release(struct cache_meta *meta);
/* Fill meta from metadata.json's object (borrowed); -1 and a static cause
 * in *why when a required field is missing or a field has the wrong type. */
int cache_meta_from_json(struct cache_meta *meta, jv obj, const char **why);
/* metadata.json for a descriptor being stored.  image_name is the file name
 * of the image in the entry; built_at is desc->built_at, or now when null. */
jv cache_meta_build(const struct kdesc *desc, const char *image_name, bool has_vmlinux,
		    bool vmlinux_stripped, bool has_config);

void cache_entry_release(struct cache_entry *entry);
/* Read <root>/<key> into entry.  Returns 0 when it is valid, or 1 when it is
 * corrupt, with the reason in entry->error and entry->error_text. */
int cache_entry_load(const char *root, const char *key, struct cache_entry *entry);
/* <path>/vmlinux or <path>/config when the entry has one, else NULL.  Malloc'd. */
char *cache_entry_vmlinux(const struct cache_entry *entry);
char *cache_entry_config(const struct cache_entry *entry);
/* The entry's stored config sets CONFIG_SCHED_CLASS_EXT=y. */
bool cache_entry_has_sched_ext(const struct cache_entry *entry);
enum cache_kconfig_status cache_entry_kconfig_status(const struct cache_entry *entry,
						     const char *current_hash);
/* Built by a ktstr whose version differs from this one. */
bool cache_entry_stale_ktstr(const struct cache_entry *entry);
/* The entry for list --json and lookup --json. */
jv cache_entry_to_json(const struct cache_entry *entry, const char *current_hash);

/* Every entry under root: valid ones newest built_at first, then corrupt
 * ones by key.  A missing root is an empty cache.  -1 after a message when
 * the root cannot be read. */
int cache_scan(const char *root, struct cache_list *list);
void cache_list_release(struct cache_list *list);
/* Move list->items[index] into *entry, leaving an empty slot behind. */
void cache_list_take(struct cache_list *list, size_t index, struct cache_entry *entry);

/* CRC-32 of share/ktstr.kconfig (malloc'd), or NULL when it is missing. */
char *cache_kconfig_hash(void);

/* Resolve id to a valid entry, trying in turn: the entry whose key is id;
 * when id is a major.minor series such as 6.12, the tarball or image entry
 * of its highest release; the tarball and image entries whose version is id.
 * Among several matches an entry built with the current kconfig fragment
 * wins over a stale one, then the newest.
 * Returns 0 with *entry filled, or 1 when nothing matches.  A corrupt entry
 * whose key is id, or, when no valid entry matches, one stored for that
 * version or series, comes back with entry->error set.  -1 after a message. */
int cache_find(const char *root, const char *id, struct cache_entry *entry);
/* The newest valid entry, with sched_ext only those whose stored config has
 * CONFIG_SCHED_CLASS_EXT=y; current-kconfig entries win over stale ones.
 * Returns as cache_find. */
int cache_find_newest(const char *root, bool sched_ext, struct cache_entry *entry);

/* Lock <root>/.locks/<key>.lock, creating the directory.  Returns the fd or
 * -1 with errno set (EWOULDBLOCK: held elsewhere past timeout_ms). */
int cache_lock_entry(const char *root, const char *key, enum lock_mode mode, int timeout_ms);

#define CACHE_NOT_HELD (-1)
#define CACHE_HOLD_FAILED (-2)
/* Take a shared lock on the cache entry that contains image_path, so that
 * 'ktstr-cache clean' and a replacing store leave it alone while a VM boots
 * it.  Release it with cache_release_image().
 * Returns the lock fd.  Returns CACHE_NOT_HELD, printing nothing, when the
 * image is not inside a cache entry or the cache is read-only.  Returns
 * CACHE_HOLD_FAILED after a message when a writer kept the entry locked for
 * 10 s or the entry disappeared while waiting. */
int cache_hold_image(const char *image_path);
void cache_release_image(int fd);

#endif
