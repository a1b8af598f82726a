#include "profile.h"

#include "json.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- Parsing ---- */

static void release_flag(struct profile_flag *flag)
{
	free(flag->name);
	strvec_release(&flag->args);
	free(flag->requires);
}

void profile_flags_release(struct profile_flags *flags)
{
	for (size_t i = 0; i < flags->count; i++)
		release_flag(&flags->items[i]);
	free(flags->items);
	flags->items = NULL;
	flags->count = 0;
}

static const char *name_problem(const char *name)
{
	if (!*name)
		return "is empty";
	if (!strcmp(name, PROFILE_DEFAULT))
		return "is reserved for the profile without flags";
	for (const char *p = name; *p; p++) {
		if (*p == '+' || *p == ',' || *p == ' ' || *p == '\t' || *p == '\n')
			return "contains '+', ',' or white space";
	}
	return NULL;
}

static ssize_t find_flag(const struct profile_flags *flags, const char *name, size_t len)
{
	for (size_t i = 0; i < flags->count; i++) {
		if (strlen(flags->items[i].name) == len && !strncmp(flags->items[i].name, name, len))
			return (ssize_t)i;
	}
	return -1;
}

/* Fill out with the strings of the array at key; a missing key is an empty
 * array.  Returns -1 when the value is not an array of strings. */
static int string_array(jv obj, const char *key, struct strvec *out)
{
	jv value = jv_object_get(jv_copy(obj), jv_string(key));
	int rc = 0;

	if (jv_get_kind(value) == JV_KIND_INVALID || jv_get_kind(value) == JV_KIND_NULL) {
		jv_free(value);
		return 0;
	}
	if (jv_get_kind(value) != JV_KIND_ARRAY) {
		jv_free(value);
		return -1;
	}
	jv_array_foreach(value, i, item) {
		if (jv_get_kind(item) != JV_KIND_STRING)
			rc = -1;
		else
			strvec_push(out, jv_string_value(item));
		jv_free(item);
	}
	jv_free(value);
	return rc;
}

enum visit { UNSEEN, ACTIVE, DONE };

/* Depth-first search for a requirement cycle from flag i; on finding one,
 * store "a -> b -> a" in *error. */
static bool find_cycle(const struct profile_flags *flags, size_t i, enum visit *state, size_t *path,
		       size_t depth, char **error)
{
	state[i] = ACTIVE;
	path[depth] = i;
	for (size_t r = 0; r < flags->items[i].nr_requires; r++) {
		size_t next = flags->items[i].requires[r];

		if (state[next] == ACTIVE) {
			size_t from = 0;
			char *text;

			while (path[from] != next)
				from++;
			text = xstrdup(flags->items[next].name);
			for (size_t k = from + 1; k <= depth; k++) {
				char *longer = xasprintf("%s -> %s", text, flags->items[path[k]].name);
				free(text);
				text = longer;
			}
			*error = xasprintf("requirements form a cycle: %s -> %s", text, flags->items[next].name);
			free(text);
			return true;
		}
		if (state[next] == UNSEEN && find_cycle(flags, next, state, path, depth + 1, error))
			return true;
	}
	state[i] = DONE;
	return false;
}

static int parse_flag(jv item, size_t index, struct profile_flags *flags, struct strvec *requires,
		      char **error)
{
	struct profile_flag *flag = &flags->items[flags->count];
	const char *name, *problem;

	if (jv_get_kind(item) != JV_KIND_OBJECT) {
		*error = xasprintf("element %zu is not an object", index + 1);
		return -1;
	}
	name = json_str(item, "name");
	if (!name) {
		*error = xasprintf("element %zu has no string 'name'", index + 1);
		return -1;
	}
	problem = name_problem(name);
	if (problem) {
		*error = xasprintf("flag name '%s' %s", name, problem);
		return -1;
	}
	if (find_flag(flags, name, strlen(name)) >= 0) {
		*error = xasprintf("flag '%s' is listed twice", name);
		return -1;
	}

	memset(flag, 0, sizeof(*flag));
	flag->name = xstrdup(name);
	flags->count++;
	if (string_array(item, "args", &flag->args) != 0) {
		*error = xasprintf("flag '%s': 'args' is not an array of strings", name);
		return -1;
	}
	if (string_array(item, "requires", requires) != 0) {
		*error = xasprintf("flag '%s': 'requires' is not an array of strings", name);
		return -1;
	}
	return 0;
}

int profile_flags_parse(const char *text, size_t len, struct profile_flags *flags, char **error)
{
	struct strvec *requires = NULL;
	enum visit *state = NULL;
	size_t *path = NULL;
	char *parse_error = NULL;
	size_t count;
	int rc = -1;

	flags->items = NULL;
	flags->count = 0;
	*error = NULL;

	jv doc = json_parse(text, len, NULL, &parse_error);
	if (!jv_is_valid(doc)) {
		/* libjq appends the whole input ("while parsing '...'"), which can
		 * span lines; the position is enough. */
		char *quote = strstr(parse_error, " (while parsing");
		if (quote)
			*quote = '\0';
		*error = xasprintf("not JSON: %s", parse_error);
		goto free_doc;
	}
	if (jv_get_kind(doc) != JV_KIND_ARRAY) {
		*error = xstrdup("not a JSON array of flags");
		goto free_doc;
	}

	count = (size_t)jv_array_length(jv_copy(doc));
	if (count > PROFILE_NAMEABLE_FLAGS) {
		*error = xasprintf("%zu flags listed, at most %d are supported", count, PROFILE_NAMEABLE_FLAGS);
		goto free_doc;
	}
	flags->items = xcalloc(count ? count : 1, sizeof(*flags->items));
	requires = xcalloc(count ? count : 1, sizeof(*requires));
	for (size_t i = 0; i < count; i++) {
		jv item = jv_array_get(jv_copy(doc), (int)i);
		int item_rc = parse_flag(item, i, flags, &requires[i], error);

		jv_free(item);
		if (item_rc != 0)
			goto free_requires;
	}

	for (size_t i = 0; i < count; i++) {
		struct profile_flag *flag = &flags->items[i];

		flag->requires = xcalloc(requires[i].len ? requires[i].len : 1, sizeof(*flag->requires));
		for (size_t r = 0; r < requires[i].len; r++) {
			const char *needed = requires[i].items[r];
			ssize_t at = find_flag(flags, needed, strlen(needed));

			if (at < 0) {
				*error = xasprintf("flag '%s' requires '%s', which is not listed", flag->name, needed);
				goto free_requires;
			}
			flag->requires[flag->nr_requires++] = (size_t)at;
		}
	}

	state = xcalloc(count ? count : 1, sizeof(*state));
	path = xcalloc(count ? count : 1, sizeof(*path));
	for (size_t i = 0; i < count; i++) {
		if (state[i] == UNSEEN && find_cycle(flags, i, state, path, 0, error))
			goto free_requires;
	}
	rc = 0;

free_requires:
	free(path);
	free(state);
	for (size_t i = 0; requires && i < count; i++)
		strvec_release(&requires[i]);
	free(requires);
free_doc:
	jv_free(doc);
	free(parse_error);
	if (rc != 0)
		profile_flags_release(flags);
	return rc;
}

/* ---- Profiles ---- */

static bool mask_valid(const struct profile_flags *flags, uint64_t mask)
{
	for (size_t i = 0; i < flags->count; i++) {
		if (!(mask & (UINT64_C(1) << i)))
			continue;
		for (size_t r = 0; r < flags->items[i].nr_requires; r++) {
			if (!(mask & (UINT64_C(1) << flags->items[i].requires[r])))
				return false;
		}
	}
	return true;
}

static void fill_profile(const struct profile_flags *flags, uint64_t mask, struct profile *profile)
{
	struct strvec names = STRVEC_INIT;

	memset(profile, 0, sizeof(*profile));
	profile->mask = mask;
	for (size_t i = 0; i < flags->count; i++) {
		if (!(mask & (UINT64_C(1) << i)))
			continue;
		strvec_push(&profile->flags, flags->items[i].name);
		for (size_t a = 0; a < flags->items[i].args.len; a++)
			strvec_push(&profile->args, flags->items[i].args.items[a]);
		strvec_push(&names, flags->items[i].name);
	}
	if (names.len == 0) {
		profile->name = xstrdup(PROFILE_DEFAULT);
	} else {
		size_t total = 0;

		for (size_t i = 0; i < names.len; i++)
			total += strlen(names.items[i]) + 1;
		profile->name = xmalloc(total);
		profile->name[0] = '\0';
		for (size_t i = 0; i < names.len; i++) {
			if (i)
				strcat(profile->name, "+");
			strcat(profile->name, names.items[i]);
		}
	}
	strvec_release(&names);
}

int profile_power_set(const struct profile_flags *flags, struct profile **profiles, size_t *count,
		      char **error)
{
	size_t cap = 8, n = 0;
	struct profile *list;

	*error = NULL;
	if (flags->count > PROFILE_MAX_FLAGS) {
		*error = xasprintf("%zu flags make 2^%zu combinations, more than --all-profiles enumerates "
				 "(at most %d flags); pick profiles with --profiles",
				 flags->count, flags->count, PROFILE_MAX_FLAGS);
		return -1;
	}
	list = xmalloc(cap * sizeof(*list));
	for (uint64_t mask = 0; mask < (UINT64_C(1) << flags->count); mask++) {
		if (!mask_valid(flags, mask))
			continue;
		if (n == cap) {
			cap *= 2;
			list = xrealloc(list, cap * sizeof(*list));
		}
		fill_profile(flags, mask, &list[n++]);
	}
	*profiles = list;
	*count = n;
	return 0;
}

void profile_default(struct profile **profiles, size_t *count)
{
	struct profile_flags none = PROFILE_FLAGS_INIT;

	*profiles = xmalloc(sizeof(**profiles));
	fill_profile(&none, 0, *profiles);
	*count = 1;
}

char *profile_names(const struct profile_flags *flags)
{
	struct profile *all;
	size_t count;
	char *error = NULL, *text;

	if (profile_power_set(flags, &all, &count, &error) != 0) {
		free(error);
		return xstrdup("(too many to list)");
	}
	text = xstrdup("");
	for (size_t i = 0; i < count; i++) {
		char *longer = xasprintf("%s%s%s", text, i ? ", " : "", all[i].name);

		free(text);
		text = longer;
	}
	profile_free(all, count);
	return text;
}

/* The mask of one profile name, or -1 with *error set. */
static int parse_profile_name(const struct profile_flags *flags, const char *name, size_t len,
			      uint64_t *mask, char **error)
{
	*mask = 0;
	if (len == strlen(PROFILE_DEFAULT) && !strncmp(name, PROFILE_DEFAULT, len))
		return 0;
	if (len == 0) {
		*error = xstrdup("empty profile name");
		return -1;
	}

	const char *part = name, *end = name + len;
	while (part <= end) {
		const char *plus = memchr(part, '+', (size_t)(end - part));
		size_t part_len = plus ? (size_t)(plus - part) : (size_t)(end - part);
		ssize_t at = find_flag(flags, part, part_len);

		if (at < 0) {
			char *names = profile_names(flags);

			*error = xasprintf("unknown profile '%.*s': no flag '%.*s' (profiles: %s)", (int)len, name,
					 (int)part_len, part, names);
			free(names);
			return -1;
		}
		*mask |= UINT64_C(1) << at;
		if (!plus)
			break;
		part = plus + 1;
	}

	if (!mask_valid(flags, *mask)) {
		for (size_t i = 0; i < flags->count; i++) {
			if (!(*mask & (UINT64_C(1) << i)))
				continue;
			for (size_t r = 0; r < flags->items[i].nr_requires; r++) {
				size_t needed = flags->items[i].requires[r];

				if (!(*mask & (UINT64_C(1) << needed))) {
					*error = xasprintf("invalid profile '%.*s': flag '%s' requires '%s'", (int)len,
							 name, flags->items[i].name, flags->items[needed].name);
					return -1;
				}
			}
		}
	}
	return 0;
}

int profile_select(const struct profile_flags *flags, const char *list, struct profile **profiles,
		   size_t *count, char **error)
{
	struct profile *chosen = NULL;
	size_t n = 0;
	const char *item = list;

	*error = NULL;
	for (;;) {
		const char *comma = strchr(item, ',');
		size_t len = comma ? (size_t)(comma - item) : strlen(item);
		uint64_t mask;
		bool seen = false;

		if (parse_profile_name(flags, item, len, &mask, error) != 0) {
			profile_free(chosen, n);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			seen = seen || chosen[i].mask == mask;
		if (!seen) {
			chosen = xrealloc(chosen, (n + 1) * sizeof(*chosen));
			fill_profile(flags, mask, &chosen[n++]);
		}
		if (!comma)
			break;
		item = comma + 1;
	}
	*profiles = chosen;
	*count = n;
	return 0;
}

void profile_free(struct profile *profiles, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(profiles[i].name);
		strvec_release(&profiles[i].flags);
		strvec_release(&profiles[i].args);
	}
	free(profiles);
}

/* ---- Asking the scheduler ---- */

/* Output larger than this is not a flag list. */
#define QUERY_MAX_OUTPUT (1 << 20)

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read the child's stdout until EOF, the size limit or the deadline.
 * Returns 0 at EOF, 1 past the deadline, 2 over the size limit. */
static int read_until(int fd, double deadline, char **out, size_t *len)
{
	size_t cap = 4096, used = 0;
	char *buf = xmalloc(cap);
	int rc = 0;

	for (;;) {
		double left = deadline - now_seconds();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (left <= 0) {
			rc = 1;
			break;
		}
		int ready = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready == 0)
			continue;
		if (used + 1 >= cap) {
			if (cap >= QUERY_MAX_OUTPUT) {
				rc = 2;
				break;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t n = read(fd, buf + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	return rc;
}

/* Wait for the child until the deadline; on expiry kill its process group.
 * Returns the shell-style status and sets *timed_out. */
static int wait_until(struct spawn *child, double deadline, bool *timed_out)
{
	*timed_out = false;
	for (;;) {
		int wait_status;
		pid_t done = waitpid(child->pid, &wait_status, WNOHANG);

		if (done == child->pid) {
			child->pid = -1;
			return spawn_status(wait_status);
		}
		if (done < 0 && errno != EINTR)
			return -1;
		if (now_seconds() >= deadline) {
			*timed_out = true;
			kill(-child->pid, SIGKILL);
			return spawn_wait(child);
		}
		struct timespec pause = { 0, 20 * 1000 * 1000 };
		nanosleep(&pause, NULL);
	}
}

static bool all_space(const char *text)
{
	return text[strspn(text, " \t\r\n")] == '\0';
}

enum profile_query_result profile_query(const char *binary, struct profile_flags *flags, char **error)
{
	const char *argv[] = { binary, PROFILE_LIST_FLAGS_ARG, NULL };
	struct spawn child = SPAWN_INIT;
	enum profile_query_result result = PROFILE_QUERY_FAILED;
	double deadline = now_seconds() + PROFILE_QUERY_TIMEOUT_SEC;
	char *out = NULL, *list_error = NULL;
	size_t len = 0;
	int fds[2], read_rc, status;
	bool timed_out;

	*error = NULL;
	flags->items = NULL;
	flags->count = 0;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		*error = xasprintf("cannot create a pipe: %s", strerror(errno));
		return result;
	}
	child.argv = argv;
	child.stdin_fd = SPAWN_DEVNULL;
	child.stdout_fd = fds[1];
	child.stderr_fd = SPAWN_DEVNULL;
	child.new_session = true;
	if (spawn_start(&child) != 0) {
		*error = xstrdup("cannot start it");
		close(fds[0]);
		close(fds[1]);
		return result;
	}
	close(fds[1]);

	read_rc = read_until(fds[0], deadline, &out, &len);
	close(fds[0]);
	if (read_rc == 2)
		deadline = now_seconds();
	status = wait_until(&child, deadline, &timed_out);

	if (read_rc == 2) {
		*error = xasprintf("printed more than %d bytes", QUERY_MAX_OUTPUT);
	} else if (timed_out || read_rc == 1) {
		*error = xasprintf("did not exit within %d s", PROFILE_QUERY_TIMEOUT_SEC);
	} else if (status < 0) {
		*error = xstrdup("cannot wait for it");
	} else if (status == 126 || status == 127) {
		*error = xasprintf("cannot run it (exit status %d)", status);
	} else if (status > 128) {
		*error = xasprintf("crashed: killed by signal %d (%s)", status - 128, strsignal(status - 128));
	} else if (status != 0) {
		*error = xasprintf("exit status %d", status);
		result = PROFILE_QUERY_UNSUPPORTED;
	} else if (all_space(out)) {
		*error = xstrdup("printed nothing");
		result = PROFILE_QUERY_UNSUPPORTED;
	} else if (profile_flags_parse(out, len, flags, &list_error) != 0) {
		*error = xasprintf("invalid output: %s", list_error);
	} else {
		result = PROFILE_QUERY_OK;
	}
	free(list_error);
	free(out);
	return result;
}
