/* The PGP signature of the mirror's checksum lists, checked by gpgv(1)
 * against the keyring that KTSTR_KEYRING names.
 *
 * gpgv reads the clear-signed list on stdin and writes the signed text alone
 * on stdout.  Its status lines ("[GNUPG:] GOODSIG ...") and its messages go
 * to one memory file on stderr.  Only the signed text is handed back, so
 * lines added before or after the signed block never supply a checksum.
 */
#include "fetch.h"

#include "diag.h"
#include "fsutil.h"
#include "spawn.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reject a keyring that gpgv would misread.  gpgv 2.2.40 takes a missing
 * keyring for one without keys, and it cannot parse an ASCII-armored
 * export, so both would show up as an unknown signing key. */
static int check_keyring(const char *keyring)
{
	char head[256];
	int fd = open(keyring, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_errno("cannot read KTSTR_KEYRING '%s'", keyring);
	ssize_t n = read(fd, head, sizeof(head));
	int read_errno = errno;
	close(fd);
	if (n < 0) {
		errno = read_errno;
		return err_errno("cannot read KTSTR_KEYRING '%s'", keyring);
	}
	if (n == 0)
		return err_msg("KTSTR_KEYRING '%s' is empty: write the signing keys into it with "
			       "'gpg --export KEYID > FILE'", keyring);
	size_t skip = 0;
	while (skip < (size_t)n && strchr(" \t\r\n", head[skip]))
		skip++;
	if ((size_t)n - skip >= 5 && !memcmp(head + skip, "-----", 5))
		return err_msg("KTSTR_KEYRING '%s' is ASCII-armored, which gpgv cannot read: convert it "
			       "with 'gpg --dearmor < FILE > FILE.gpg'", keyring);
	/* Every OpenPGP packet starts with a byte whose top bit is set. */
	if (!((unsigned char)head[0] & 0x80))
		return err_msg("KTSTR_KEYRING '%s' is not an OpenPGP keyring: write one with "
			       "'gpg --export KEYID > FILE'", keyring);
	return 0;
}

/* Read the whole memory file fd into a NUL-terminated string. */
static char *read_memory_file(int fd)
{
	struct stat st;
	size_t size = fstat(fd, &st) == 0 && st.st_size > 0 ? (size_t)st.st_size : 0;
	char *text = xmalloc(size + 1);
	size_t done = 0;

	while (done < size) {
		ssize_t n = pread(fd, text + done, size - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	text[done] = '\0';
	return text;
}

/* Return whether gpgv's stderr contains the status line "[GNUPG:] keyword ...". */
static bool has_status(const char *report, const char *keyword)
{
	size_t len = strlen(keyword);

	for (const char *line = report; *line; ) {
		const char *end = strchrnul(line, '\n');
		if (!strncmp(line, "[GNUPG:] ", 9) && (size_t)(end - line) >= 9 + len &&
		    !strncmp(line + 9, keyword, len) && (line[9 + len] == ' ' || line + 9 + len == end))
			return true;
		line = *end ? end + 1 : end;
	}
	return false;
}

/* Print gpgv's own messages with -v, and copy the last one into last, a
 * buffer of size bytes that stays "" when gpgv printed none. */
static void scan_messages(const char *report, char *last, size_t size)
{
	last[0] = '\0';
	for (const char *line = report; *line; ) {
		const char *end = strchrnul(line, '\n');
		int len = (int)(end - line);
		if (len && strncmp(line, "[GNUPG:] ", 9) != 0) {
			debug_msg("%.*s", len, line);
			const char *text = !strncmp(line, "gpgv: ", 6) ? line + 6 : line;
			snprintf(last, size, "%.*s", (int)(end - text), text);
		}
		line = *end ? end + 1 : end;
	}
}

/* Print why gpgv did not accept the list; always returns -1. */
static int report_failure(const char *url, const char *keyring, int status, const char *report)
{
	char last[256];

	scan_messages(report, last, sizeof(last));
	if (status == KTSTR_EXIT_NOTFOUND)
		return err_msg("cannot check the signature of '%s': gpgv not found; install the "
			       "Debian package gpgv, or unset KTSTR_KEYRING", url);
	if (has_status(report, "BADSIG"))
		return err_msg("checksum list '%s' has a bad signature: its text is not what the key "
			       "signed", url);
	if (has_status(report, "NO_PUBKEY"))
		return err_msg("checksum list '%s' is not signed by a key in KTSTR_KEYRING '%s'", url,
			       keyring);
	if (has_status(report, "EXPKEYSIG"))
		return err_msg("checksum list '%s' is signed by an expired key", url);
	if (has_status(report, "REVKEYSIG"))
		return err_msg("checksum list '%s' is signed by a revoked key", url);
	if (has_status(report, "EXPSIG"))
		return err_msg("checksum list '%s' has an expired signature", url);
	if (has_status(report, "NODATA"))
		return err_msg("checksum list '%s' has no valid PGP signature, and KTSTR_KEYRING '%s' "
			       "requires one", url, keyring);
	if (last[0])
		return err_msg("signature check of the checksum list '%s' failed: %s (gpgv exited "
			       "with status %d)", url, last, status);
	if (status == 0)
		return err_msg("signature check of the checksum list '%s' failed: gpgv reported no "
			       "good signature", url);
	return err_msg("signature check of the checksum list '%s' failed: gpgv exited with "
		       "status %d", url, status);
}

int checksum_list_verify(const char *url, const char *text, size_t len, const char *keyring,
			 char **signed_text)
{
	struct spawn child = SPAWN_INIT;
	char *keyring_arg, *output = NULL, *report = NULL;
	int in_fd, report_fd, status, ret = -1;

	*signed_text = NULL;
	if (check_keyring(keyring) != 0)
		return -1;

	/* gpgv looks a name without a '/' up in its home directory, not here. */
	keyring_arg = strchr(keyring, '/') ? xstrdup(keyring) : xasprintf("./%s", keyring);
	const char *argv[] = { "gpgv", "--status-fd", "2", "--keyring", keyring_arg,
			       "--output", "-", NULL };

	in_fd = fs_memfd_with("sha256sums.asc", text, len);
	report_fd = memfd_create("gpgv-stderr", MFD_CLOEXEC);
	if (in_fd < 0 || report_fd < 0) {
		err_errno("cannot create a memory file for gpgv");
		goto close_files;
	}
	child.argv = argv;
	child.stdin_fd = in_fd;
	child.stderr_fd = report_fd;
	status = spawn_capture_child(&child, &output, NULL);
	if (status < 0)
		goto close_files;

	report = read_memory_file(report_fd);
	/* gpgv writes the text to stdout even when the signature is bad, so
	 * the exit status and a GOODSIG line both decide. */
	if (status != 0 || !has_status(report, "GOODSIG")) {
		report_failure(url, keyring, status, report);
		goto close_files;
	}
	char last[256];
	scan_messages(report, last, sizeof(last));
	debug_msg("the signature of '%s' is good (keyring '%s')", url, keyring);
	*signed_text = output;
	output = NULL;
	ret = 0;

close_files:
	if (in_fd >= 0)
		close(in_fd);
	if (report_fd >= 0)
		close(report_fd);
	free(report);
	free(output);
	free(keyring_arg);
	return ret;
}
