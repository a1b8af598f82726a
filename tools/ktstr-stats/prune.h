/* A sidecar's text without the values that ktstr-stats does not read. */
#ifndef KTSTR_STATS_PRUNE_H
#define KTSTR_STATS_PRUNE_H

#include <stddef.h>

/* A malloc'd copy of the JSON object in text with the values of the keys
 * that the report never reads replaced by null, and its length in *out_len.
 * NULL when text does not have the shape of a JSON object: parse the
 * original then, so that errors are reported on it. */
char *prune_sidecar(const char *text, size_t len, size_t *out_len);

#endif
