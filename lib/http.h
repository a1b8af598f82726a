/* HTTP downloads through libcurl, read as a stream.
 *
 * A stream is pulled: each http_stream_read() runs the transfer until some
 * bytes arrive, so a consumer such as libarchive can decompress and unpack
 * while the body is still coming in.  Transient failures (connection lost,
 * no data for stall_timeout_s, HTTP 408, 429 and 5xx) are retried up to
 * `retries` times with doubling pauses, and a retry requests the rest of the
 * body with a Range request, so the reader never sees the interruption.
 */
#ifndef KTSTR_HTTP_H
#define KTSTR_HTTP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct progress;

struct http_options {
	long connect_timeout_s;
	long stall_timeout_s;    /* an attempt fails after this long without data */
	unsigned retries;        /* further attempts after a transient failure */
	unsigned backoff_ms;     /* pause before the first retry, doubled each time */
	struct progress *bar;    /* optional: updated with bytes, cleared before warnings */
	volatile sig_atomic_t *cancel; /* optional: a signal handler sets it to stop */
};
#define HTTP_OPTIONS_DEFAULT { 30, 30, 4, 1000, NULL, NULL }
#define HTTP_BACKOFF_MAX_MS 30000u

/* Cause of a failed request: the HTTP status when the server responded with
 * an error (0 otherwise) and a one-line cause for messages. */
struct http_error {
	long status;
	char cause[256];
};

struct http_stream;

/* Start a GET of url from byte offset and wait for the response headers.
 * Returns NULL and fills err when the request fails for good, for example
 * with a 404. */
struct http_stream *http_stream_open(const char *url, uint64_t offset,
				     const struct http_options *opts, struct http_error *err);
/* Up to size bytes of the body: the count, 0 at its end, or -1 with err set
 * (the error given to http_stream_open). */
ssize_t http_stream_read(struct http_stream *stream, void *buf, size_t size);
/* The whole body has arrived. */
bool http_stream_finished(const struct http_stream *stream);
/* Size of the whole resource (not only the part from offset), 0 when unknown. */
uint64_t http_stream_size(const struct http_stream *stream);
/* The response's Content-Type, or "" when it had none. */
const char *http_stream_content_type(const struct http_stream *stream);
void http_stream_close(struct http_stream *stream);

/* Fetch a small document (releases.json, a checksum list) into a malloc'd
 * NUL-terminated buffer.  Returns 0, or -1 with err filled. */
int http_get(const char *url, const struct http_options *opts, char **body, size_t *len,
	     struct http_error *err);

#endif
