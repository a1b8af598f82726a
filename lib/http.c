#include "http.h"

#include "diag.h"
#include "progress.h"
#include "xalloc.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Body bytes buffered ahead of the reader: above HIGH the transfer pauses,
 * and it goes on once the reader has brought the buffer down to LOW. */
#define BUFFER_HIGH (32u << 20)
#define BUFFER_LOW (8u << 20)

/* After the response headers, a thread runs the transfer while the reader
 * (libarchive, decompressing and writing files) works, as the stages of
 * `curl | tar` overlap.  lock guards the buffer and the finished, failed
 * and paused flags. */
struct http_stream {
	char *url;
	struct http_options opts;
	struct http_error *err;
	CURLM *multi;
	CURL *easy;
	char curl_error[CURL_ERROR_SIZE];

	/* Body bytes received and not yet read. */
	char *buf;
	size_t buf_len;
	size_t buf_pos;
	size_t buf_cap;

	uint64_t offset;      /* where the caller asked the body to start */
	uint64_t received;    /* body bytes past offset, over all attempts */
	uint64_t size;        /* size of the whole resource, 0 when unknown */
	unsigned retries_used;
	bool finished;
	bool failed;

	pthread_mutex_t lock;
	pthread_cond_t data_ready;   /* bytes arrived, or the transfer ended */
	pthread_cond_t space_ready;  /* the reader drained the buffer to BUFFER_LOW */
	pthread_t thread;
	bool thread_started;
	bool paused;                 /* on_body returned CURL_WRITEFUNC_PAUSE */
	atomic_bool stop;            /* http_stream_close wants the thread to end */

	/* State of the current attempt, reset by start_attempt(). */
	uint64_t attempt_start;  /* absolute position this attempt must deliver first */
	uint64_t skip;           /* leading body bytes already delivered before */
	bool body_started;
	long status;
	char content_type[128];
	bool has_length;
	uint64_t content_length;
	bool has_range;
	uint64_t range_start;
	uint64_t range_total;    /* 0 when the server gave "*" */
	struct timespec last_data; /* when this attempt last received bytes */
	char attempt_error[256]; /* set by a callback that stopped the transfer */
	bool attempt_permanent;  /* that error cannot be cured by a retry */
};

static void ensure_curl_ready(void)
{
	static bool ready;

	if (ready)
		return;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		die("cannot initialise libcurl");
	ready = true;
}

static bool header_is(const char *line, size_t len, const char *name, const char **value)
{
	size_t name_len = strlen(name);

	if (len <= name_len || strncasecmp(line, name, name_len) != 0 || line[name_len] != ':')
		return false;
	*value = line + name_len + 1;
	while (**value == ' ' || **value == '\t')
		(*value)++;
	return true;
}

static size_t on_header(char *data, size_t size, size_t count, void *arg)
{
	struct http_stream *stream = arg;
	size_t len = size * count;
	char line[512];
	const char *value;

	if (len >= sizeof(line))
		return len;
	memcpy(line, data, len);
	line[len] = '\0';
	line[strcspn(line, "\r\n")] = '\0';

	/* A status line starts a new response (after a redirect or a 100). */
	if (!strncmp(line, "HTTP/", 5)) {
		const char *space = strchr(line, ' ');
		stream->status = space ? strtol(space + 1, NULL, 10) : 0;
		stream->content_type[0] = '\0';
		stream->has_length = false;
		stream->has_range = false;
		return len;
	}
	if (header_is(line, strlen(line), "Content-Type", &value)) {
		snprintf(stream->content_type, sizeof(stream->content_type), "%s", value);
	} else if (header_is(line, strlen(line), "Content-Length", &value)) {
		stream->content_length = strtoull(value, NULL, 10);
		stream->has_length = true;
	} else if (header_is(line, strlen(line), "Content-Range", &value)) {
		unsigned long long start = 0, end = 0, total = 0;
		if (sscanf(value, "bytes %llu-%llu/%llu", &start, &end, &total) == 3) {
			stream->has_range = true;
			stream->range_start = start;
			stream->range_total = total;
		} else if (sscanf(value, "bytes */%llu", &total) == 1) {
			stream->range_total = total;
		}
	}
	return len;
}

/* Stop the transfer from a callback: curl then reports a write error. */
static size_t fail_attempt(struct http_stream *stream, bool permanent, const char *cause)
{
	snprintf(stream->attempt_error, sizeof(stream->attempt_error), "%s", cause);
	stream->attempt_permanent = permanent;
	return 0;
}

/* Decide, at the first body byte of an attempt, which bytes are new. */
static int start_body(struct http_stream *stream)
{
	uint64_t size = 0;

	stream->body_started = true;
	if (stream->status == 206) {
		if (!stream->has_range || stream->range_start > stream->attempt_start)
			return -1;
		stream->skip = stream->attempt_start - stream->range_start;
		size = stream->range_total;
	} else {
		/* A full body, either because no range was asked for or because
		 * the server ignores ranges: drop what was already delivered. */
		stream->skip = stream->attempt_start;
		if (stream->has_length)
			size = stream->content_length;
	}
	if (stream->size && size && size != stream->size)
		return -2;
	if (size)
		stream->size = size;
	return 0;
}

static size_t on_body(char *data, size_t size, size_t count, void *arg)
{
	struct http_stream *stream = arg;
	size_t len = size * count;

	clock_gettime(CLOCK_MONOTONIC, &stream->last_data);

	pthread_mutex_lock(&stream->lock);
	if (stream->thread_started && stream->buf_len - stream->buf_pos >= BUFFER_HIGH) {
		/* curl keeps this chunk and hands it over again after unpausing. */
		stream->paused = true;
		pthread_mutex_unlock(&stream->lock);
		return CURL_WRITEFUNC_PAUSE;
	}
	pthread_mutex_unlock(&stream->lock);

	if (!stream->body_started) {
		int ret = start_body(stream);
		if (ret == -1)
			return fail_attempt(stream, true, "the server answered a range request with other bytes");
		if (ret == -2)
			return fail_attempt(stream, true, "the file changed size on the server during the download");
	}
	if (stream->skip >= len) {
		stream->skip -= len;
		return len;
	}
	data += stream->skip;
	size_t fresh = len - (size_t)stream->skip;
	stream->skip = 0;

	pthread_mutex_lock(&stream->lock);
	if (stream->buf_pos && stream->buf_pos >= stream->buf_len / 2) {
		memmove(stream->buf, stream->buf + stream->buf_pos, stream->buf_len - stream->buf_pos);
		stream->buf_len -= stream->buf_pos;
		stream->buf_pos = 0;
	}
	if (stream->buf_len + fresh > stream->buf_cap) {
		stream->buf_cap = (stream->buf_len + fresh) * 2;
		stream->buf = xrealloc(stream->buf, stream->buf_cap);
	}
	memcpy(stream->buf + stream->buf_len, data, fresh);
	stream->buf_len += fresh;
	stream->received += fresh;
	pthread_cond_signal(&stream->data_ready);
	pthread_mutex_unlock(&stream->lock);
	if (stream->opts.bar)
		progress_update(stream->opts.bar, stream->offset + stream->received);
	return len;
}

static int start_attempt(struct http_stream *stream)
{
	char range[64];

	clock_gettime(CLOCK_MONOTONIC, &stream->last_data);
	stream->attempt_start = stream->offset + stream->received;
	stream->skip = 0;
	stream->body_started = false;
	stream->status = 0;
	stream->content_type[0] = '\0';
	stream->has_length = false;
	stream->has_range = false;
	stream->range_total = 0;
	stream->attempt_error[0] = '\0';
	stream->attempt_permanent = false;
	stream->curl_error[0] = '\0';

	if (stream->attempt_start) {
		snprintf(range, sizeof(range), "%" PRIu64 "-", stream->attempt_start);
		curl_easy_setopt(stream->easy, CURLOPT_RANGE, range);
	} else {
		curl_easy_setopt(stream->easy, CURLOPT_RANGE, NULL);
	}
	if (curl_multi_add_handle(stream->multi, stream->easy) != CURLM_OK)
		return -1;
	return 0;
}

static bool cancelled(struct http_stream *stream);

/* Called by libcurl about once a second, data or not: end an attempt that
 * has received nothing for stall_timeout_s, or that the user interrupted. */
static int on_progress(void *arg, curl_off_t dl_total, curl_off_t dl_now, curl_off_t ul_total,
		       curl_off_t ul_now)
{
	struct http_stream *stream = arg;
	struct timespec now;
	char cause[64];

	clock_gettime(CLOCK_MONOTONIC, &now);
	/* A paused transfer waits for the reader, not for the server. */
	if (stream->paused) {
		stream->last_data = now;
		return 0;
	}
	if (cancelled(stream)) {
		fail_attempt(stream, true, "interrupted");
		return 1;
	}
	long long quiet_ms = (now.tv_sec - stream->last_data.tv_sec) * 1000LL +
			     (now.tv_nsec - stream->last_data.tv_nsec) / 1000000;
	if (quiet_ms >= stream->opts.stall_timeout_s * 1000LL) {
		snprintf(cause, sizeof(cause), "no data received for %ld s", stream->opts.stall_timeout_s);
		fail_attempt(stream, false, cause);
		return 1;
	}
	return 0;
}

static CURL *new_easy(struct http_stream *stream)
{
	CURL *easy = curl_easy_init();

	if (!easy)
		return NULL;
	curl_easy_setopt(easy, CURLOPT_URL, stream->url);
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(easy, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "ktstr/" KTSTR_VERSION);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, stream->opts.connect_timeout_s);
	/* libcurl's own low-speed limit averages over a window of several
	 * seconds, so a stall is timed here instead, from the last byte. */
	curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(easy, CURLOPT_XFERINFODATA, stream);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, stream->curl_error);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, stream);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, stream);
	curl_easy_setopt(easy, CURLOPT_VERBOSE, diag_verbose > 1 ? 1L : 0L);
	return easy;
}

static bool status_is_transient(long status)
{
	return status == 408 || status == 429 || status >= 500;
}

static bool code_is_transient(CURLcode code)
{
	switch (code) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

/* Describe a finished attempt; returns true when a retry may cure it. */
static bool describe_failure(struct http_stream *stream, CURLcode code, long status,
			     char *cause, size_t size)
{
	if (stream->attempt_error[0]) {
		snprintf(cause, size, "%s", stream->attempt_error);
		return !stream->attempt_permanent;
	}
	if (code == CURLE_HTTP_RETURNED_ERROR) {
		snprintf(cause, size, "HTTP %ld", status);
		return status_is_transient(status);
	}
	if (code == CURLE_OK) {
		snprintf(cause, size, "the connection closed after %" PRIu64 " of %" PRIu64 " bytes",
			 stream->offset + stream->received, stream->size);
		return true;
	}
	snprintf(cause, size, "%s", stream->curl_error[0] ? stream->curl_error : curl_easy_strerror(code));
	return code_is_transient(code);
}

static bool cancelled(struct http_stream *stream)
{
	return (stream->opts.cancel && *stream->opts.cancel) || atomic_load(&stream->stop);
}

static void pause_ms(struct http_stream *stream, unsigned ms)
{
	struct timespec pause = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&pause, &pause) != 0 && !cancelled(stream))
		;
}

static void set_error(struct http_stream *stream, long status, const char *cause)
{
	pthread_mutex_lock(&stream->lock);
	stream->failed = true;
	stream->err->status = status;
	snprintf(stream->err->cause, sizeof(stream->err->cause), "%s", cause);
	pthread_cond_broadcast(&stream->data_ready);
	pthread_mutex_unlock(&stream->lock);
}

static void set_finished(struct http_stream *stream)
{
	pthread_mutex_lock(&stream->lock);
	stream->finished = true;
	pthread_cond_broadcast(&stream->data_ready);
	pthread_mutex_unlock(&stream->lock);
}

/* Handle the end of an attempt: done, retry, or fail for good. */
static void finish_attempt(struct http_stream *stream, CURLcode code)
{
	long status = 0;
	char cause[256];

	curl_easy_getinfo(stream->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(stream->multi, stream->easy);

	if (code == CURLE_OK && (!stream->size || stream->offset + stream->received >= stream->size)) {
		set_finished(stream);
		return;
	}
	/* Asking for the bytes after the end of a complete file. */
	if (code == CURLE_HTTP_RETURNED_ERROR && status == 416 && stream->range_total &&
	    stream->range_total == stream->attempt_start) {
		stream->size = stream->range_total;
		set_finished(stream);
		return;
	}

	bool transient = describe_failure(stream, code, status, cause, sizeof(cause));
	if (!transient || stream->retries_used >= stream->opts.retries) {
		if (transient && stream->retries_used) {
			size_t used = strlen(cause);
			snprintf(cause + used, sizeof(cause) - used, " (gave up after %u retries)",
				 stream->retries_used);
		}
		set_error(stream, code == CURLE_HTTP_RETURNED_ERROR ? status : 0, cause);
		return;
	}

	unsigned wait_ms = stream->opts.backoff_ms;
	for (unsigned i = 0; i < stream->retries_used && wait_ms < HTTP_BACKOFF_MAX_MS; i++)
		wait_ms *= 2;
	if (wait_ms > HTTP_BACKOFF_MAX_MS)
		wait_ms = HTTP_BACKOFF_MAX_MS;
	stream->retries_used++;
	if (stream->opts.bar)
		progress_clear(stream->opts.bar);
	if (stream->offset + stream->received)
		warn_msg("download '%s' interrupted at byte %" PRIu64 ": %s; retry %u of %u in %.1f s",
			 stream->url, stream->offset + stream->received, cause, stream->retries_used,
			 stream->opts.retries, wait_ms / 1000.0);
	else
		warn_msg("download '%s' failed: %s; retry %u of %u in %.1f s", stream->url, cause,
			 stream->retries_used, stream->opts.retries, wait_ms / 1000.0);
	pause_ms(stream, wait_ms);
	if (cancelled(stream)) {
		set_error(stream, 0, "interrupted");
		return;
	}
	if (start_attempt(stream) != 0)
		set_error(stream, 0, "cannot restart the transfer");
}

/* Run the transfer until it makes progress, ends or fails. */
static void pump(struct http_stream *stream)
{
	int running = 0;
	int queued;
	CURLMsg *msg;

	if (cancelled(stream)) {
		set_error(stream, 0, "interrupted");
		return;
	}
	if (curl_multi_perform(stream->multi, &running) != CURLM_OK) {
		set_error(stream, 0, "libcurl failed to run the transfer");
		return;
	}
	while ((msg = curl_multi_info_read(stream->multi, &queued))) {
		if (msg->msg == CURLMSG_DONE) {
			finish_attempt(stream, msg->data.result);
			return;
		}
	}
	if (running)
		curl_multi_poll(stream->multi, NULL, 0, 100, NULL);
}

/* The transfer thread: run curl until the body ends, fails or the stream
 * is closed, pausing while the buffer is full. */
static void *run_transfer(void *arg)
{
	struct http_stream *stream = arg;

	for (;;) {
		pthread_mutex_lock(&stream->lock);
		while (stream->paused && !atomic_load(&stream->stop) &&
		       stream->buf_len - stream->buf_pos > BUFFER_LOW)
			pthread_cond_wait(&stream->space_ready, &stream->lock);
		bool done = stream->finished || stream->failed || atomic_load(&stream->stop);
		bool resume = stream->paused && !done;
		stream->paused = false;
		pthread_mutex_unlock(&stream->lock);
		if (done)
			break;
		if (resume)
			curl_easy_pause(stream->easy, CURLPAUSE_CONT);
		pump(stream);
	}
	return NULL;
}

struct http_stream *http_stream_open(const char *url, uint64_t offset,
				     const struct http_options *opts, struct http_error *err)
{
	struct http_stream *stream = xcalloc(1, sizeof(*stream));

	ensure_curl_ready();
	memset(err, 0, sizeof(*err));
	stream->url = xstrdup(url);
	stream->opts = *opts;
	stream->err = err;
	stream->offset = offset;
	pthread_mutex_init(&stream->lock, NULL);
	pthread_cond_init(&stream->data_ready, NULL);
	pthread_cond_init(&stream->space_ready, NULL);
	atomic_init(&stream->stop, false);
	stream->multi = curl_multi_init();
	stream->easy = stream->multi ? new_easy(stream) : NULL;
	if (!stream->easy || start_attempt(stream) != 0) {
		snprintf(err->cause, sizeof(err->cause), "cannot set up a libcurl transfer");
		http_stream_close(stream);
		return NULL;
	}
	while (!stream->body_started && !stream->finished && !stream->failed)
		pump(stream);
	if (stream->failed) {
		http_stream_close(stream);
		return NULL;
	}
	return stream;
}

ssize_t http_stream_read(struct http_stream *stream, void *buf, size_t size)
{
	pthread_mutex_lock(&stream->lock);
	/* Started here, not in http_stream_open, so that the caller can set up
	 * its progress bar before the thread updates it. */
	if (!stream->thread_started && !stream->finished && !stream->failed) {
		if (pthread_create(&stream->thread, NULL, run_transfer, stream) != 0) {
			pthread_mutex_unlock(&stream->lock);
			set_error(stream, 0, "cannot start the download thread");
			return -1;
		}
		stream->thread_started = true;
	}
	while (stream->buf_pos == stream->buf_len && !stream->finished && !stream->failed)
		pthread_cond_wait(&stream->data_ready, &stream->lock);
	if (stream->buf_pos == stream->buf_len) {
		ssize_t end = stream->failed ? -1 : 0;
		pthread_mutex_unlock(&stream->lock);
		return end;
	}
	size_t avail = stream->buf_len - stream->buf_pos;
	size_t n = avail < size ? avail : size;
	memcpy(buf, stream->buf + stream->buf_pos, n);
	stream->buf_pos += n;
	if (stream->paused && stream->buf_len - stream->buf_pos <= BUFFER_LOW)
		pthread_cond_signal(&stream->space_ready);
	pthread_mutex_unlock(&stream->lock);
	return (ssize_t)n;
}

bool http_stream_finished(const struct http_stream *stream)
{
	struct http_stream *locked = (struct http_stream *)stream;

	pthread_mutex_lock(&locked->lock);
	bool finished = stream->finished;
	pthread_mutex_unlock(&locked->lock);
	return finished;
}

uint64_t http_stream_size(const struct http_stream *stream)
{
	return stream->size;
}

const char *http_stream_content_type(const struct http_stream *stream)
{
	return stream->content_type;
}

void http_stream_close(struct http_stream *stream)
{
	if (!stream)
		return;
	if (stream->thread_started) {
		pthread_mutex_lock(&stream->lock);
		atomic_store(&stream->stop, true);
		pthread_cond_broadcast(&stream->space_ready);
		pthread_mutex_unlock(&stream->lock);
		pthread_join(stream->thread, NULL);
	}
	if (stream->easy) {
		curl_multi_remove_handle(stream->multi, stream->easy);
		curl_easy_cleanup(stream->easy);
	}
	if (stream->multi)
		curl_multi_cleanup(stream->multi);
	pthread_cond_destroy(&stream->space_ready);
	pthread_cond_destroy(&stream->data_ready);
	pthread_mutex_destroy(&stream->lock);
	free(stream->buf);
	free(stream->url);
	free(stream);
}

int http_get(const char *url, const struct http_options *opts, char **body, size_t *len,
	     struct http_error *err)
{
	struct http_stream *stream = http_stream_open(url, 0, opts, err);
	size_t used = 0, cap = 16384;
	char *text;

	if (!stream)
		return -1;
	text = xmalloc(cap);
	for (;;) {
		if (cap - used < 8192) {
			cap *= 2;
			text = xrealloc(text, cap);
		}
		ssize_t n = http_stream_read(stream, text + used, cap - used - 1);
		if (n < 0) {
			free(text);
			http_stream_close(stream);
			return -1;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	http_stream_close(stream);
	text[used] = '\0';
	*body = text;
	if (len)
		*len = used;
	return 0;
}
