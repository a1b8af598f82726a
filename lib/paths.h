/* Paths of ktstr's programs, data and caches.
 *
 * An installed tree and the build directory have the same shape, so every
 * path is found relative to the running program:
 *   <prefix>/bin/ktstr-*   <prefix>/libexec/ktstr/   <prefix>/share/ktstr/
 */
#ifndef KTSTR_PATHS_H
#define KTSTR_PATHS_H

/* Directory of the running executable (from /proc/self/exe); never NULL. */
const char *paths_exe_dir(void);
/* <prefix>/share/ktstr/<name>, or $KTSTR_SHARE_DIR/<name> when set. Malloc'd. */
char *paths_share_file(const char *name);
/* <prefix>/libexec/ktstr/<name>, or $KTSTR_LIBEXEC_DIR/<name> when set. Malloc'd. */
char *paths_libexec_file(const char *name);
/* A sibling program: <exe dir>/<name> when it is executable there, else the
 * bare name for a PATH lookup.  Malloc'd. */
char *paths_tool(const char *name);

/* Root of the kernel image cache: $KTSTR_CACHE_DIR, else
 * $XDG_CACHE_HOME/ktstr/kernels, else $HOME/.cache/ktstr/kernels.
 * Returns NULL after printing why (HOME unset, empty, "/" or relative). */
char *paths_cache_root(void);
/* A ktstr cache directory other than the kernel cache, e.g. "initramfs":
 * $XDG_CACHE_HOME/ktstr/<name> or $HOME/.cache/ktstr/<name>.  NULL as above. */
char *paths_user_cache(const char *name);

#endif
