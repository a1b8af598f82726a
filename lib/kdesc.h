/* The kernel descriptor: the JSON object that the kernel chain passes on
 * (ktstr-fetch | ktstr-kconfig | ktstr-build | ktstr-cache store).
 *
 * Each step reads it on stdin, fills in its own fields and writes it on
 * stdout.  Fields this module does not know are kept and written back, so a
 * later step can add data without a schema change here.
 *
 *   {
 *     "schema_version": 1,
 *     "source": { "type": "tarball" | "git" | "local" | "image",
 *                 "git_hash": str|null, "ref": str|null, "url": str|null,
 *                 "source_tree_path": str|null },
 *     "version": str|null,       "arch": "x86_64" | "aarch64",
 *     "source_dir": str|null,    "image_path": str|null,
 *     "vmlinux_path": str|null,  "config_path": str|null,
 *     "kconfig_hash": str|null,  "config_hash": str|null,   (8 hex digits)
 *     "dirty": bool,             "built_at": "YYYY-MM-DDTHH:MM:SSZ"|null,
 *     "key": str|null, "cache_path": str|null, "cached": bool  (ktstr-cache)
 *   }
 */
#ifndef KTSTR_KDESC_H
#define KTSTR_KDESC_H

#include <jv.h>
#include <stdbool.h>
#include <stdio.h>

#define KDESC_SCHEMA_VERSION 1

enum kdesc_source {
	KDESC_SOURCE_TARBALL,
	KDESC_SOURCE_GIT,
	KDESC_SOURCE_LOCAL,
	KDESC_SOURCE_IMAGE,
};

/* Whether ktstr-cache stored the kernel; "cached" is written once decided. */
enum kdesc_cached {
	KDESC_CACHED_UNSET,
	KDESC_CACHED_NO,
	KDESC_CACHED_YES,
};

struct kdesc {
	enum kdesc_source source_type;
	char *git_hash;          /* full commit id of a git or local tree */
	char *ref;               /* git ref that was cloned */
	char *url;               /* tarball or git URL */
	char *source_tree_path;  /* a local tree, as the user named it */
	char *version;           /* "6.14.2", or a distribution release for images */
	char *arch;
	char *source_dir;        /* the tree that was configured and built */
	char *image_path;        /* boot image (bzImage) */
	char *vmlinux_path;
	char *config_path;       /* the kernel's .config */
	char *kconfig_hash;      /* CRC-32 of share/ktstr.kconfig; of the config for images */
	char *config_hash;       /* CRC-32 of the final .config */
	bool dirty;              /* local tree with uncommitted changes: never cached */
	char *built_at;
	char *key;               /* cache key, set by ktstr-cache */
	char *cache_path;        /* cache entry directory, set by ktstr-cache store */
	enum kdesc_cached cached;
	jv object;               /* the object as read, for fields of other steps */
};

void kdesc_init(struct kdesc *desc);
void kdesc_release(struct kdesc *desc);

const char *kdesc_source_name(enum kdesc_source type);
int kdesc_source_parse(const char *name, enum kdesc_source *out);

/* Fill desc from a JSON object (borrowed), checking types, the schema
 * version, the source type, and the hash and time formats.  No field other
 * than schema_version and source is required, because that depends on the
 * step.  On failure return -1 with a static cause in *why. */
int kdesc_from_json(struct kdesc *desc, jv obj, const char **why);
/* The descriptor as a JSON object: the fields read, with known ones updated. */
jv kdesc_to_json(const struct kdesc *desc);

/* Read one descriptor from a stream (stdin in a chain).  Prints
 * "invalid kernel descriptor on <name>: <cause>" and returns -1 on failure. */
int kdesc_read(FILE *in, const char *name, struct kdesc *desc);
/* Print the descriptor as pretty JSON, or with field != NULL only that
 * field's value as text (strings raw, null as an empty line; "source.type"
 * and the other source keys are reachable with a dot).  -1 after a message
 * for an unknown field or a write error. */
int kdesc_write(FILE *out, const struct kdesc *desc, const char *field);
/* Whether kdesc_write() can print field for desc: a known field, or one
 * that desc carries from another step. */
bool kdesc_field_valid(const struct kdesc *desc, const char *field);

/* The cache key of a descriptor (malloc'd), or NULL with a static cause in *why:
 *   tarball  <version>-tarball-<arch>-kc<kconfig_hash>
 *   git      <ref>-git-<short commit>-<arch>-kc<kconfig_hash>   ('/' in ref -> '_')
 *   local    local-<short commit>-<arch>-kc<kconfig_hash>
 *            local-unknown-<crc of source_tree_path>-<arch>-kc<kconfig_hash>
 *            when the tree is dirty or not in git (such keys are never stored)
 *   image    <version>-image-<arch>-kc<crc of the image's config> */
char *kdesc_key(const struct kdesc *desc, const char **why);

/* Whether the kernel may be cached: not when it was built from a local tree
 * with uncommitted changes or outside git.  On false, *why gets a static
 * cause. */
bool kdesc_cacheable(const struct kdesc *desc, const char **why);

/* 8 lowercase hex digits, as crc32_hex() prints. */
bool kdesc_hash_valid(const char *text);
/* "YYYY-MM-DDTHH:MM:SSZ". */
bool kdesc_time_valid(const char *text);
/* The current UTC time in that form; buf needs 21 bytes.  Returns buf. */
char *kdesc_time_now(char *buf);

#endif
