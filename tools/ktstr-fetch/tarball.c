/* Download a release tarball and unpack it while it arrives.
 *
 * The bytes go three ways at once.  libarchive decompresses and extracts them
 * into a temporary directory, a SHA-256 digest is computed over them, and
 * they are written to "<dest>/.linux-<version>.<ext>.part", so that a later
 * run can resume a download that was cut off.  Only when the whole tarball has arrived,
 * unpacked cleanly and matched its published checksum is the tree renamed
 * to "<dest>/linux-<version>".
 */
#include "fetch.h"

#include "diag.h"
#include "fsutil.h"
#include "json.h"
#include "progress.h"
#include "xalloc.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern volatile sig_atomic_t fetch_interrupted;

struct download {
	const char *url;
	struct http_stream *stream;
	struct http_error err;
	int part_fd;         /* the partial file, appended to */
	int replay_fd;       /* the partial file read back before the network, or -1 */
	struct sha256 hash;
	uint64_t bytes;      /* bytes passed on so far */
	struct progress *bar;
	bool network_failed;
	char io_error[256];  /* a local read or write failure */
	char buf[1 << 17];
};

/* End the transfer thread and erase the progress bar, so that a message
 * printed next is not drawn over. */
static void stop_transfer(struct download *dl)
{
	http_stream_close(dl->stream);
	dl->stream = NULL;
	progress_end(dl->bar);
}

/* The next block of the tarball: the count, 0 at the end, -1 on failure. */
static ssize_t next_block(struct download *dl, const void **block)
{
	ssize_t n;

	if (fetch_interrupted) {
		snprintf(dl->io_error, sizeof(dl->io_error), "interrupted");
		return -1;
	}
	if (dl->replay_fd >= 0) {
		n = read(dl->replay_fd, dl->buf, sizeof(dl->buf));
		if (n < 0) {
			snprintf(dl->io_error, sizeof(dl->io_error), "cannot read the partial download: %s",
				 strerror(errno));
			return -1;
		}
		if (n > 0) {
			sha256_update(&dl->hash, dl->buf, (size_t)n);
			dl->bytes += (uint64_t)n;
			*block = dl->buf;
			return n;
		}
		close(dl->replay_fd);
		dl->replay_fd = -1;
	}
	n = http_stream_read(dl->stream, dl->buf, sizeof(dl->buf));
	if (n < 0) {
		dl->network_failed = true;
		return -1;
	}
	if (n > 0 && fs_write_all(dl->part_fd, dl->buf, (size_t)n) != 0) {
		snprintf(dl->io_error, sizeof(dl->io_error), "cannot write the partial download: %s",
			 strerror(errno));
		return -1;
	}
	sha256_update(&dl->hash, dl->buf, (size_t)n);
	dl->bytes += (uint64_t)n;
	*block = dl->buf;
	return n;
}

static la_ssize_t archive_read_cb(struct archive *archive, void *arg, const void **block)
{
	struct download *dl = arg;
	ssize_t n = next_block(dl, block);

	if (n < 0) {
		archive_set_error(archive, EIO, "%s", dl->network_failed ? dl->err.cause : dl->io_error);
		return -1;
	}
	return n;
}

/* Check that a path inside the archive stays inside the destination: not
 * absolute and without ".." components.  Returns a static cause or NULL. */
static const char *unsafe_path(const char *path)
{
	if (path[0] == '/')
		return "an absolute path";
	for (const char *p = path; *p; ) {
		size_t len = strcspn(p, "/");
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return "a '..' component";
		p += len;
		p += strspn(p, "/");
	}
	return NULL;
}

/* A symbolic link at member whose target, taken from member's directory,
 * climbs above the destination. */
static bool symlink_escapes(const char *member, const char *target)
{
	int depth = 0;
	const char *p;

	if (target[0] == '/')
		return true;
	/* Directories that contain the link itself. */
	for (p = member; *p; ) {
		size_t len = strcspn(p, "/");
		bool last = p[len] == '\0' || p[len + strspn(p + len, "/")] == '\0';
		if (!last && !(len == 1 && p[0] == '.'))
			depth++;
		p += len;
		p += strspn(p, "/");
	}
	for (p = target; *p; ) {
		size_t len = strcspn(p, "/");
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return true;
		} else if (len && !(len == 1 && p[0] == '.')) {
			depth++;
		}
		p += len;
		p += strspn(p, "/");
	}
	return false;
}

/* The symbolic links unpacked so far, as normalized member paths.  A later
 * member under one of them would be written wherever the link points, so
 * such members are rejected: a tarball made by tar(1) never has them. */
struct link_set {
	char **paths;
	size_t len;
};

/* path without "." components, repeated or trailing slashes: "a/./b/" -> "a/b". */
static char *normalize(const char *path)
{
	char *out = xmalloc(strlen(path) + 1);
	size_t len = 0;

	for (const char *p = path; *p; ) {
		size_t part = strcspn(p, "/");
		if (part && !(part == 1 && p[0] == '.')) {
			if (len)
				out[len++] = '/';
			memcpy(out + len, p, part);
			len += part;
		}
		p += part;
		p += strspn(p, "/");
	}
	out[len] = '\0';
	return out;
}

/* The unpacked symbolic link that path lies under, or NULL. */
static const char *under_link(const struct link_set *links, const char *path)
{
	char *norm = normalize(path);
	const char *found = NULL;

	for (size_t i = 0; i < links->len && !found; i++) {
		size_t len = strlen(links->paths[i]);
		if (!strncmp(norm, links->paths[i], len) && norm[len] == '/')
			found = links->paths[i];
	}
	free(norm);
	return found;
}

static void link_set_release(struct link_set *links)
{
	for (size_t i = 0; i < links->len; i++)
		free(links->paths[i]);
	free(links->paths);
}

/* Refuse members that could write outside the destination.  Returns a
 * malloc'd description of the problem, or NULL when the member is safe.
 * These checks are done here, on names alone, because libarchive's own
 * ARCHIVE_EXTRACT_SECURE_SYMLINKS opens every directory of every path and
 * made unpacking a kernel tree several times slower. */
static char *check_member(struct archive_entry *entry, struct link_set *links)
{
	const char *path = archive_entry_pathname(entry);
	const char *hardlink = archive_entry_hardlink(entry);
	const char *why;

	if (!path || !*path)
		return xstrdup("a member without a name");
	if ((why = unsafe_path(path)))
		return xasprintf("member '%s' has %s", path, why);
	if (hardlink && (why = unsafe_path(hardlink)))
		return xasprintf("member '%s' is a hard link to '%s', which has %s", path, hardlink, why);
	const char *link = under_link(links, path);
	if (link)
		return xasprintf("member '%s' lies under the symbolic link '%s'", path, link);
	if (hardlink && (link = under_link(links, hardlink)))
		return xasprintf("member '%s' is a hard link under the symbolic link '%s'", path, link);

	switch (archive_entry_filetype(entry)) {
	case AE_IFREG:
	case AE_IFDIR:
		return NULL;
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(entry);
		if (!target || symlink_escapes(path, target))
			return xasprintf("member '%s' is a symbolic link to '%s', outside the destination",
					 path, target ? target : "");
		links->paths = xrealloc(links->paths, (links->len + 1) * sizeof(*links->paths));
		links->paths[links->len++] = normalize(path);
		return NULL;
	}
	default:
		return xasprintf("member '%s' is a device, FIFO or socket, which a kernel tree never contains",
				 path);
	}
}

static int copy_entry_data(struct archive *in, struct archive *out)
{
	const void *block;
	size_t size;
	la_int64_t offset;

	for (;;) {
		int r = archive_read_data_block(in, &block, &size, &offset);
		if (r == ARCHIVE_EOF)
			return ARCHIVE_OK;
		if (r < ARCHIVE_WARN)
			return r;
		if (archive_write_data_block(out, block, size, offset) < ARCHIVE_WARN)
			return ARCHIVE_FATAL;
	}
}

/* Unpack the whole stream into the current directory.  Returns 0, or -1
 * after a message. */
static int unpack_here(struct download *dl, const char *url)
{
	struct archive *in = archive_read_new();
	struct archive *out = archive_write_disk_new();
	struct archive_entry *entry;
	struct link_set links = { NULL, 0 };
	int ret = -1;

	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
					       ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	if (archive_read_open(in, dl, NULL, archive_read_cb, NULL) != ARCHIVE_OK)
		goto report_read;
	for (;;) {
		int r = archive_read_next_header(in, &entry);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			goto report_read;
		char *unsafe = check_member(entry, &links);
		if (unsafe) {
			stop_transfer(dl);
			err_msg("unsafe tarball '%s': %s", url, unsafe);
			free(unsafe);
			goto free_archives;
		}
		if (archive_write_header(out, entry) < ARCHIVE_WARN)
			goto report_write;
		if (archive_entry_size(entry) > 0 && copy_entry_data(in, out) != ARCHIVE_OK) {
			if (archive_errno(in) || archive_error_string(in))
				goto report_read;
			goto report_write;
		}
		if (archive_write_finish_entry(out) < ARCHIVE_WARN)
			goto report_write;
	}
	ret = 0;
	goto free_archives;

report_read:;
	bool complete = dl->stream && http_stream_finished(dl->stream);
	stop_transfer(dl);
	if (dl->network_failed)
		err_msg("download '%s' failed: %s", url, dl->err.cause);
	else if (dl->io_error[0])
		err_msg("download '%s' failed: %s", url, dl->io_error);
	else if (complete)
		err_msg("unpacking '%s' failed: %s (the whole file arrived, %" PRIu64
			" bytes, so the tarball is truncated or corrupt)", url,
			archive_error_string(in), dl->bytes);
	else
		err_msg("unpacking '%s' failed: %s", url, archive_error_string(in));
	goto free_archives;
report_write:
	stop_transfer(dl);
	err_msg("unpacking '%s' failed: %s", url, archive_error_string(out));
free_archives:
	link_set_release(&links);
	archive_read_free(in);
	archive_write_free(out);
	return ret;
}

/* Read what libarchive left unread (padding after the tar end), so that
 * the digest covers every byte of the file. */
static int drain(struct download *dl, const char *url)
{
	const void *block;
	ssize_t n;

	while ((n = next_block(dl, &block)) > 0)
		;
	if (n < 0) {
		stop_transfer(dl);
		return err_msg("download '%s' failed: %s", url,
			       dl->network_failed ? dl->err.cause : dl->io_error);
	}
	return 0;
}

/* Fetch the published SHA-256 of file_name into hex.  With KTSTR_KEYRING
 * set, the list's signature is checked first and only its signed text is
 * searched.  Returns 1 when found, 0 when the mirror publishes none (after a
 * warning), -1 after an error. */
static int published_checksum(const struct fetch_opts *opts, const struct kver *ver,
			      const char *file_name, char *hex, char **list_url, char **missing)
{
	static bool noted_unsigned;
	const char *keyring = fetch_keyring();
	struct http_error err;
	char *text;
	size_t len;

	*list_url = checksum_list_url(ver->major);
	if (http_get(*list_url, &opts->http, &text, &len, &err) != 0) {
		if (err.status >= 400 && err.status < 500 && keyring)
			return err_msg("no checksum list at '%s' (%s), and KTSTR_KEYRING requires a "
				       "signed checksum for every release tarball", *list_url, err.cause);
		if (err.status >= 400 && err.status < 500) {
			warn_msg("no checksum list at '%s' (%s); the download cannot be verified",
				 *list_url, err.cause);
			return 0;
		}
		return err_msg("download of the checksum list '%s' failed: %s", *list_url, err.cause);
	}
	if (keyring) {
		char *signed_text;
		int verified = checksum_list_verify(*list_url, text, len, keyring, &signed_text);

		free(text);
		if (verified != 0)
			return -1;
		text = signed_text;
	} else if (!noted_unsigned) {
		debug_msg("note: KTSTR_KEYRING is not set, so the PGP signature of '%s' is not checked",
			  *list_url);
		noted_unsigned = true;
	}
	bool found = checksum_find(text, file_name, hex) != NULL;
	free(text);
	if (!found) {
		/* Said only once the tarball turns out to exist: for a version
		 * that does not, the 404 is the whole story. */
		*missing = xasprintf("the checksum list '%s' has no entry for '%s'", *list_url,
				     file_name);
		return 0;
	}
	return 1;
}

static int write_marker(const char *tree, const char *version, const char *url, const char *sha256,
			bool verified)
{
	char *path = fs_path_join(tree, FETCH_MARKER);
	jv marker = jv_object();

	marker = jv_object_set(marker, jv_string("version"), jv_string(version));
	marker = jv_object_set(marker, jv_string("url"), jv_string(url));
	marker = jv_object_set(marker, jv_string("sha256"), jv_string(sha256));
	marker = jv_object_set(marker, jv_string("verified"), jv_bool(verified));
	int ret = json_write_file(path, marker);
	if (ret != 0)
		err_errno("write '%s'", path);
	free(path);
	return ret;
}

/* A tree unpacked from url by an earlier run, complete and reusable. */
static bool already_unpacked(const char *tree, const char *url)
{
	char *path = fs_path_join(tree, FETCH_MARKER);
	jv marker = json_read_file(path, NULL, NULL);
	const char *recorded = json_str(marker, "url");
	bool same = recorded && !strcmp(recorded, url);

	jv_free(marker);
	free(path);
	return same;
}

void fetch_sweep_temporaries(const char *dest, const char *name)
{
	DIR *dir = opendir(dest);
	struct dirent *ent;
	char *prefix = xasprintf(".%s.tmp-", name);
	size_t prefix_len = strlen(prefix);

	if (!dir) {
		free(prefix);
		return;
	}
	while ((ent = readdir(dir))) {
		char *end;
		if (strncmp(ent->d_name, prefix, prefix_len))
			continue;
		long pid = strtol(ent->d_name + prefix_len, &end, 10);
		if (*end || pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
			char *path = fs_path_join(dest, ent->d_name);
			debug_msg("removing '%s', left by a run that was killed", path);
			fs_rm_rf(path);
			free(path);
		}
	}
	closedir(dir);
	free(prefix);
}

static void describe_start(const struct download *dl, struct progress *bar, const char *file_name)
{
	uint64_t size = http_stream_size(dl->stream);
	char *label = xasprintf("downloading %s", file_name);

	progress_begin(bar, label, size);
	free(label);
	if (bar->active) {
		progress_update(bar, dl->bytes);
		return;
	}
	if (size)
		info_msg("downloading %s (%.1f MB)", dl->url, (double)size / 1e6);
	else
		info_msg("downloading %s", dl->url);
}

int tarball_fetch(const struct fetch_opts *opts, const char *version, const char *url,
		  struct kdesc *desc)
{
	struct kver ver;
	struct download dl;
	struct progress bar = PROGRESS_INIT;
	struct http_options http = opts->http;
	char expected[SHA256_HEX_LEN + 1] = "", actual[SHA256_HEX_LEN + 1];
	char *list_url = NULL, *missing_checksum = NULL;
	char *name = xasprintf("linux-%s", version);
	const char *file_name = strrchr(url, '/') ? strrchr(url, '/') + 1 : url;
	char *final = fs_path_join(opts->dest, name);
	char *part = xasprintf("%s/.%s.part", opts->dest, file_name);
	char *tmp = xasprintf("%s/.%s.tmp-%ld", opts->dest, name, (long)getpid());
	char *unpacked = fs_path_join(tmp, name);
	int have_checksum = 0, ret = -1, cwd = -1;
	bool keep_part = false;

	kver_parse(version, &ver);
	memset(&dl, 0, sizeof(dl));
	dl.url = url;
	dl.bar = &bar;
	dl.part_fd = dl.replay_fd = -1;

	if (fs_exists(final)) {
		if (!already_unpacked(final, url)) {
			err_msg("cannot unpack into '%s': it already exists; remove it or choose another --dest",
				final);
			goto free_paths;
		}
		info_msg("'%s' is already unpacked; reusing it", final);
		goto describe;
	}
	fetch_sweep_temporaries(opts->dest, name);

	if (!ver.rc) {
		have_checksum = published_checksum(opts, &ver, file_name, expected, &list_url,
						   &missing_checksum);
		if (have_checksum < 0)
			goto free_paths;
	} else {
		debug_msg("release candidates have no published checksums; '%s' is not verified", url);
	}

	/* Resume a partial download only when a checksum will prove that the
	 * bytes kept from the earlier run belong to the same file. */
	struct stat part_st;
	if (have_checksum != 1 || stat(part, &part_st) != 0)
		part_st.st_size = 0;
	dl.part_fd = open(part, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (part_st.st_size ? 0 : O_TRUNC),
			  0644);
	if (dl.part_fd < 0) {
		err_errno("cannot create '%s'", part);
		goto free_paths;
	}
	if (part_st.st_size) {
		dl.replay_fd = open(part, O_RDONLY | O_CLOEXEC);
		if (dl.replay_fd < 0) {
			err_errno("cannot read '%s'", part);
			goto close_part;
		}
		info_msg("resuming the download of %s after %.1f MB", file_name, part_st.st_size / 1e6);
	}

	http.bar = &bar;
	dl.stream = http_stream_open(url, (uint64_t)part_st.st_size, &http, &dl.err);
	if (!dl.stream) {
		if (dl.err.status == 404) {
			char *hint = nearest_releases_hint(opts, &ver);
			if (ver.rc)
				err_msg("kernel %s not found at '%s' (HTTP 404): release-candidate tarballs "
					"are removed after the release, so clone the tag with --git%s",
					version, url, hint);
			else
				err_msg("kernel %s not found at '%s' (HTTP 404)%s", version, url, hint);
			free(hint);
		} else {
			err_msg("download '%s' failed: %s", url, dl.err.cause);
			keep_part = have_checksum == 1 && dl.err.status == 0;
		}
		goto close_part;
	}
	if (strstr(http_stream_content_type(dl.stream), "text/html")) {
		err_msg("download '%s' failed: the server sent an HTML page instead of a tarball", url);
		goto close_stream;
	}
	if (missing_checksum && fetch_keyring()) {
		err_msg("%s, and KTSTR_KEYRING requires a signed checksum for every release tarball",
			missing_checksum);
		goto close_stream;
	}
	if (missing_checksum)
		warn_msg("%s; the download cannot be verified", missing_checksum);
	sha256_init(&dl.hash);
	describe_start(&dl, &bar, file_name);

	if (fs_mkdir_p(tmp, 0755) != 0) {
		err_errno("cannot create '%s'", tmp);
		goto free_hash;
	}
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || chdir(tmp) != 0) {
		err_errno("cannot enter '%s'", tmp);
		goto remove_tmp;
	}
	int unpacked_ok = unpack_here(&dl, url);
	if (fchdir(cwd) != 0) {
		err_errno("cannot return to the working directory");
		goto remove_tmp;
	}
	if (unpacked_ok != 0 || drain(&dl, url) != 0) {
		/* Bytes that arrived intact are worth keeping for a resume. */
		keep_part = have_checksum == 1 && (dl.network_failed || fetch_interrupted);
		goto remove_tmp;
	}
	stop_transfer(&dl);

	sha256_final_hex(&dl.hash, actual);
	if (have_checksum == 1 && strcmp(expected, actual) != 0) {
		err_msg("checksum mismatch for '%s': '%s' lists %s, the download has %s", url, list_url,
			expected, actual);
		goto remove_tmp;
	}
	if (!fs_is_dir(unpacked)) {
		err_msg("unpacking '%s' failed: the tarball has no top-level directory '%s'", url, name);
		goto remove_tmp;
	}
	if (write_marker(unpacked, version, url, actual, have_checksum == 1) != 0)
		goto remove_tmp;
	if (rename(unpacked, final) != 0) {
		err_errno("cannot move '%s' to '%s'", unpacked, final);
		goto remove_tmp;
	}
	info_msg("unpacked %s into '%s'%s", file_name, final,
		 have_checksum == 1 ? " (SHA-256 verified)" : "");
	ret = 0;

remove_tmp:
	fs_rm_rf(tmp);
free_hash:
	if (dl.hash.ctx)
		sha256_release(&dl.hash);
close_stream:
	http_stream_close(dl.stream);
close_part:
	progress_end(&bar);
	if (cwd >= 0)
		close(cwd);
	if (dl.replay_fd >= 0)
		close(dl.replay_fd);
	if (dl.part_fd >= 0)
		close(dl.part_fd);
	if (ret == 0 || !keep_part)
		unlink(part);
	else
		info_msg("kept the partial download '%s'; running again resumes it", part);
	if (ret != 0)
		goto free_paths;
describe:
	free(desc->source_dir);
	desc->source_dir = fs_realpath(final);
	ret = desc->source_dir ? 0 : err_errno("cannot resolve '%s'", final);
free_paths:
	free(missing_checksum);
	free(list_url);
	free(unpacked);
	free(tmp);
	free(part);
	free(final);
	free(name);
	return ret;
}
