/* Sidecar files: the JSON record of one ktstr VM run (ktstr-sidecar(5)).
 *
 * ktstr-vm writes one sidecar per scheduler or scenario run; ktstr-stats and
 * ktstr-verifier read them.  This module resolves the directory they live in,
 * names the files and classifies a parsed document before a reader uses it.
 */
#ifndef KTSTR_SIDECAR_H
#define KTSTR_SIDECAR_H

#include <jv.h>
#include <stdbool.h>

/* The schema_version that ktstr writes; readers reject larger values. */
#define SIDECAR_SCHEMA_VERSION 1
/* Every sidecar file name ends with this suffix. */
#define SIDECAR_SUFFIX ".ktstr.json"

/* The git checkout that contains a directory. */
struct sidecar_project {
	char *top;      /* top-level directory of the work tree */
	char *branch;   /* branch as git names it ("feature/x"), NULL on a detached HEAD */
	char *commit;   /* 7-digit abbreviated HEAD, NULL before the first commit */
};
#define SIDECAR_PROJECT_INIT { NULL, NULL, NULL }

/* Find the git repository that contains dir (NULL: the working directory).
 * Returns 0 and fills project, or -1 without printing when dir is not in a
 * repository or git cannot run. */
int sidecar_project_probe(const char *dir, struct sidecar_project *project);
void sidecar_project_release(struct sidecar_project *project);

/* The run directory name "<branch>-<commit>": every '/' in the branch becomes
 * '-', a detached HEAD is "detached", a missing commit "unknown", and project
 * NULL (outside a repository) gives "unknown-unknown".  Malloc'd. */
char *sidecar_run_name(const struct sidecar_project *project);

/* The sidecar directory for runs started in the working directory:
 * $KTSTR_SIDECAR_DIR when set and not empty, as it is; otherwise
 * <top>/target/ktstr/<run name>, with $CARGO_TARGET_DIR in place of
 * <top>/target when set.  Outside a repository <top> is the working directory
 * and the first call prints one warning.  Malloc'd; the directory is not
 * created. */
char *sidecar_dir(void);

/* The file name "<test_name>-<topology>-<profile>-<run_id>.ktstr.json", with
 * '/' in any part replaced by '-' so that the name stays in one directory.
 * Malloc'd. */
char *sidecar_file_name(const char *test_name, const char *topology, const char *profile,
			const char *run_id);
/* Whether a directory entry name is a sidecar: it ends with SIDECAR_SUFFIX
 * and does not start with '.' (temporary files of an atomic write). */
bool sidecar_is_file_name(const char *name);

enum sidecar_kind {
	SIDECAR_KTSTR,    /* ours: schema_version 1 .. SIDECAR_SCHEMA_VERSION */
	SIDECAR_UPSTREAM, /* no schema_version: the upstream Rust ktstr's layout */
	SIDECAR_FUTURE,   /* schema_version newer than this build reads */
	SIDECAR_FOREIGN,  /* not an object, or lacks the keys every sidecar has */
};

/* Classify a parsed document (borrowed).  Every kind but SIDECAR_KTSTR and
 * SIDECAR_UPSTREAM stores a static description of the cause in *cause when
 * cause is not NULL. */
enum sidecar_kind sidecar_classify(jv doc, const char **cause);

#endif
