/* /ktstr/config: the run's settings, written by ktstr-vm into the per-run
 * part of the initramfs. */
#include "guest.h"

#include "fsutil.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/* Undo the host's escaping: "\n" is a newline and "\\" a backslash; any other
 * backslash is kept as written. */
static char *unescape_value(const char *text, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t used = 0;

	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\\' && i + 1 < len && (text[i + 1] == 'n' || text[i + 1] == '\\')) {
			out[used++] = text[i + 1] == 'n' ? '\n' : '\\';
			i++;
			continue;
		}
		out[used++] = text[i];
	}
	out[used] = '\0';
	return out;
}

int guest_config_parse(const char *text, struct guest_config *config)
{
	size_t cap = 0;

	*config = (struct guest_config){ NULL, NULL, 0 };
	while (*text) {
		const char *end = strchr(text, '\n');
		size_t line_len = end ? (size_t)(end - text) : strlen(text);
		const char *eq = memchr(text, '=', line_len);

		if (eq && eq != text) {
			if (config->len == cap) {
				cap = cap ? cap * 2 : 16;
				config->keys = xrealloc(config->keys, cap * sizeof(*config->keys));
				config->values = xrealloc(config->values, cap * sizeof(*config->values));
			}
			config->keys[config->len] = xstrndup(text, (size_t)(eq - text));
			config->values[config->len] = unescape_value(eq + 1, line_len - (size_t)(eq - text) - 1);
			config->len++;
		}
		text += line_len;
		if (*text == '\n')
			text++;
	}
	return 0;
}

int guest_config_load(const char *path, struct guest_config *config)
{
	char *text = fs_read_file(path, NULL);

	if (!text)
		return -1;
	guest_config_parse(text, config);
	free(text);
	return 0;
}

const char *guest_config_get(const struct guest_config *config, const char *key)
{
	for (size_t i = config->len; i > 0; i--) {
		if (!strcmp(config->keys[i - 1], key))
			return config->values[i - 1];
	}
	return NULL;
}

size_t guest_config_list(const struct guest_config *config, const char *key, const char ***values)
{
	size_t count = 0;

	*values = xcalloc(config->len + 1, sizeof(**values));
	for (size_t i = 0; i < config->len; i++) {
		if (!strcmp(config->keys[i], key))
			(*values)[count++] = config->values[i];
	}
	return count;
}
