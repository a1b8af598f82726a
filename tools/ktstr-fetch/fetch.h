/* ktstr-fetch: find a kernel release and get its source. */
#ifndef KTSTR_FETCH_H
#define KTSTR_FETCH_H

#include "http.h"
#include "sha256.h"
#include "kdesc.h"
#include "version.h"

#include <stdbool.h>
#include <stddef.h>

/* Locations on kernel.org.  The environment can override each of them. */
#define FETCH_RELEASES_URL "https://www.kernel.org/releases.json"
#define FETCH_KERNEL_MIRROR "https://cdn.kernel.org/pub/linux/kernel"
#define FETCH_RC_URL "https://git.kernel.org/torvalds/t"

/* A file in the unpacked or cloned tree that records what was fetched; a
 * tree that has it is complete and can be reused. */
#define FETCH_MARKER ".ktstr-fetch.json"

struct fetch_opts {
	const char *dest;          /* parent directory of the tree */
	bool resolve_only;
	struct http_options http;
};

/* The base URLs in effect (environment or default). */
const char *fetch_releases_url(void);
const char *fetch_mirror_url(void);
const char *fetch_rc_url(void);
/* The OpenPGP keyring named by KTSTR_KEYRING, or NULL when unset or empty. */
const char *fetch_keyring(void);

/* A release version with its string form as kernel.org writes it. */
struct release {
	struct kver ver;
	char text[32];
};

/* Releases listed in releases.json (moniker and version of each row). */
struct release_list {
	struct release *items;
	size_t len;
};
void release_list_release(struct release_list *list);

/* Download and parse releases.json into list, and its latest_stable
 * version into latest (a buffer of 32 bytes; "" when absent).  -1 after a
 * message. */
int releases_load(const struct fetch_opts *opts, struct release_list *list, char *latest);

/* The checksum list of a major version: "<mirror>/v6.x/sha256sums.asc". */
char *checksum_list_url(unsigned major);
/* Check the PGP signature of a clear-signed checksum list (len bytes of
 * text, downloaded from url) with gpgv against keyring.  On success returns
 * 0 and the signed text alone, without the armor or anything outside it, in
 * *signed_text (malloc'd).  -1 after a message. */
int checksum_list_verify(const char *url, const char *text, size_t len, const char *keyring,
			 char **signed_text);
/* The SHA-256 listed for file name in a checksum list's text, or NULL. */
const char *checksum_find(const char *text, const char *file_name, char *hex_out);
/* Every linux-M.N[.P].tar.xz named in a checksum list's text. */
void checksum_list_releases(const char *text, struct release_list *list);

/* Resolve the user's version (NULL for the latest stable release) into an
 * exact release string in out (32 bytes).  -1 after a message. */
int resolve_version(const struct fetch_opts *opts, const char *request, char *out);
/* "; nearest known releases: a, b, c" for messages about a missing version,
 * or "" when none are known.  Malloc'd. */
char *nearest_releases_hint(const struct fetch_opts *opts, const struct kver *wanted);

/* The tarball URL of an exact version. */
char *tarball_url(const struct kver *ver, const char *text);

/* Download url (the tarball of version) and unpack it under opts->dest as
 * linux-<version>; fills desc->source_dir.  -1 after a message. */
int tarball_fetch(const struct fetch_opts *opts, const char *version, const char *url,
		  struct kdesc *desc);

/* Resolve ref in the repository at url to a commit id (malloc'd), without
 * cloning.  NULL after a message. */
char *git_resolve(const char *url, const char *ref);
/* Shallow-clone ref of url under opts->dest; fills source_dir, git_hash and
 * version.  -1 after a message. */
int git_fetch(const struct fetch_opts *opts, const char *url, const char *ref, struct kdesc *desc);

/* Describe a kernel tree on disk: source_dir, git_hash, dirty and version.
 * -1 after a message. */
int local_describe(const char *path, struct kdesc *desc);

/* Remove leftovers of runs that were killed: "<dest>/.<name>.tmp-<pid>"
 * directories whose process is gone. */
void fetch_sweep_temporaries(const char *dest, const char *name);

#endif
