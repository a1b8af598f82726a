/* lib/cache and lib/bzimage: keys, metadata, corrupt entries, lookups, locks. */
#include "tap.h"

#include "bzimage.h"
#include "cache.h"
#include "fsutil.h"
#include "json.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *root;

static void write_text(const char *dir, const char *name, const char *text)
{
	char *path = fs_path_join(dir, name);

	fs_mkdir_p(dir, 0755);
	fs_write_atomic(path, text, strlen(text), 0644);
	free(path);
}

/* An entry directory under root with metadata text and, optionally, an image. */
static void make_entry(const char *key, const char *metadata, bool image)
{
	char *dir = fs_path_join(root, key);

	fs_mkdir_p(dir, 0755);
	if (metadata)
		write_text(dir, CACHE_METADATA, metadata);
	if (image)
		write_text(dir, "bzImage", "image");
	free(dir);
}

static char *metadata(const char *type, const char *version, const char *built_at,
		      const char *kconfig_hash)
{
	return xasprintf("{\"version\": %s%s%s, \"source\": {\"type\": \"%s\"}, \"arch\": \"x86_64\","
			 " \"image_name\": \"bzImage\", \"config_hash\": null, \"built_at\": \"%s\","
			 " \"ktstr_kconfig_hash\": %s%s%s, \"has_vmlinux\": false,"
			 " \"vmlinux_stripped\": false}",
			 version ? "\"" : "", version ? version : "null", version ? "\"" : "", type,
			 built_at, kconfig_hash ? "\"" : "", kconfig_hash ? kconfig_hash : "null",
			 kconfig_hash ? "\"" : "");
}

static void add_entry(const char *key, const char *type, const char *version, const char *built_at)
{
	char *text = metadata(type, version, built_at, "1a2b3c4d");

	make_entry(key, text, true);
	free(text);
}

static void test_keys(void)
{
	const char *why = NULL;
	char longkey[CACHE_KEY_MAX + 2];

	ok(cache_key_valid("6.14.2-tarball-x86_64-kc1a2b3c4d", NULL), "tarball key valid");
	ok(cache_key_valid("7.3.4+deb13-cloud-amd64-image-x86_64-kc775360ea", NULL), "image key valid");
	ok(!cache_key_valid("", &why), "empty key rejected");
	is_str(why, "the key is empty", "empty key cause");
	ok(!cache_key_valid("a/b", NULL), "key with '/' rejected");
	ok(!cache_key_valid("a\\b", NULL), "key with '\\' rejected");
	ok(!cache_key_valid(".", NULL), "'.' rejected");
	ok(!cache_key_valid("..", NULL), "'..' rejected");
	ok(!cache_key_valid("a..b", NULL), "key containing '..' rejected");
	ok(!cache_key_valid(".tmp-6.14.2-tarball-x86_64-kc1a2b3c4d-12", NULL), "'.tmp-' key rejected");
	ok(!cache_key_valid("   ", NULL), "blank key rejected");
	ok(!cache_key_valid("a\nb", NULL), "key with a newline rejected");
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	ok(!cache_key_valid(longkey, NULL), "key over 200 bytes rejected");
	longkey[CACHE_KEY_MAX] = '\0';
	ok(cache_key_valid(longkey, NULL), "key of 200 bytes valid");
}

static int meta_parse(const char *text, struct cache_meta *meta, const char **why)
{
	jv obj = json_parse(text, strlen(text), NULL, NULL);
	int ret = cache_meta_from_json(meta, obj, why);

	jv_free(obj);
	return ret;
}

static void test_metadata(void)
{
	struct cache_meta meta;
	const char *why = NULL;
	char *text = metadata("tarball", "6.14.2", "2025-01-02T03:04:05Z", "1a2b3c4d");

	cache_meta_init(&meta);
	is_int(meta_parse(text, &meta, &why), 0, "upstream metadata without schema_version parses");
	is_str(meta.version, "6.14.2", "version read");
	is_str(meta.ktstr_kconfig_hash, "1a2b3c4d", "ktstr_kconfig_hash read");
	is_str(meta.ktstr_version, NULL, "missing ktstr_version is NULL");
	ok(!meta.has_config, "has_config defaults to false");
	free(text);

	is_int(meta_parse("{\"source\": {\"type\": \"tarball\"}, \"arch\": \"x86_64\", \"image_name\": "
			  "\"bzImage\", \"built_at\": \"x\", \"has_vmlinux\": false}", &meta, &why), -1,
	       "missing vmlinux_stripped rejected");
	is_str(why, "a required field is missing", "missing field cause");
	is_int(meta_parse("{\"source\": {\"type\": \"tarball\"}, \"arch\": \"x86_64\", \"image_name\": "
			  "\"bzImage\", \"built_at\": \"x\", \"has_vmlinux\": \"yes\", "
			  "\"vmlinux_stripped\": false}", &meta, &why), -1, "string has_vmlinux rejected");
	is_int(meta_parse("{\"source\": {\"type\": \"tarball\"}, \"arch\": \"x86_64\", \"image_name\": "
			  "\"../bzImage\", \"built_at\": \"x\", \"has_vmlinux\": false, "
			  "\"vmlinux_stripped\": false}", &meta, &why), -1, "image_name with a path rejected");
	is_int(meta_parse("{\"schema_version\": 2, \"source\": {\"type\": \"tarball\"}, \"arch\": "
			  "\"x86_64\", \"image_name\": \"bzImage\", \"built_at\": \"x\", "
			  "\"has_vmlinux\": false, \"vmlinux_stripped\": false}", &meta, &why), -1,
	       "newer schema_version rejected");

	struct kdesc desc;
	kdesc_init(&desc);
	desc.source_type = KDESC_SOURCE_IMAGE;
	desc.version = xstrdup("7.3.4+deb13-cloud-amd64");
	desc.arch = xstrdup("x86_64");
	desc.kconfig_hash = xstrdup("775360ea");
	jv built = cache_meta_build(&desc, "bzImage", true, true, true);
	is_int(cache_meta_from_json(&meta, built, &why), 0, "built metadata parses back");
	is_str(meta.ktstr_kconfig_hash, NULL, "image metadata has no fragment hash");
	is_str(meta.config_hash, "775360ea", "image config CRC becomes config_hash");
	is_str(meta.ktstr_version, KTSTR_VERSION, "ktstr_version recorded");
	ok(meta.has_vmlinux && meta.vmlinux_stripped && meta.has_config, "flags recorded");
	ok(kdesc_time_valid(meta.built_at), "built_at defaults to now");
	jv_free(built);
	kdesc_release(&desc);
	cache_meta_release(&meta);
}

static void check_corrupt(const char *key, enum cache_error want, const char *name)
{
	struct cache_entry entry;

	is_int(cache_entry_load(root, key, &entry), want == CACHE_OK ? 0 : 1, "%s: load result", name);
	is_str(cache_error_name(entry.error), cache_error_name(want), "%s: error kind", name);
	cache_entry_release(&entry);
}

static void test_corrupt(void)
{
	char *good = metadata("tarball", "6.1.1", "2025-01-01T00:00:00Z", "1a2b3c4d");
	char *dir;

	make_entry("c-missing", NULL, true);
	make_entry("c-malformed", "{\"version\": nope}", true);
	make_entry("c-truncated", "{\"version\": \"6.1\", ", true);
	make_entry("c-drift", "{\"version\": \"6.1\"}", true);
	make_entry("c-noimage", good, false);
	make_entry("c-unreadable", NULL, true);
	/* A directory in place of metadata.json cannot be read, even by root. */
	dir = xasprintf("%s/c-unreadable/%s", root, CACHE_METADATA);
	mkdir(dir, 0755);
	free(dir);

	check_corrupt("c-missing", CACHE_MISSING, "no metadata.json");
	check_corrupt("c-malformed", CACHE_MALFORMED, "invalid JSON");
	check_corrupt("c-truncated", CACHE_TRUNCATED, "truncated JSON");
	check_corrupt("c-drift", CACHE_SCHEMA_DRIFT, "JSON of another shape");
	check_corrupt("c-noimage", CACHE_IMAGE_MISSING, "image gone");
	check_corrupt("c-unreadable", CACHE_UNREADABLE, "unreadable metadata");
	free(good);
}

static void test_scan_and_find(void)
{
	struct cache_list list;
	struct cache_entry entry;

	add_entry("6.14.2-tarball-x86_64-kc1a2b3c4d", "tarball", "6.14.2", "2025-02-01T00:00:00Z");
	add_entry("6.14.10-tarball-x86_64-kc1a2b3c4d", "tarball", "6.14.10", "2025-01-01T00:00:00Z");
	add_entry("6.15-rc3-tarball-x86_64-kc1a2b3c4d", "tarball", "6.15-rc3", "2025-04-01T00:00:00Z");
	add_entry("7.3.4+deb13-cloud-amd64-image-x86_64-kc775360ea", "image", "7.3.4+deb13-cloud-amd64",
		  "2025-03-01T00:00:00Z");
	add_entry("local-0123456-x86_64-kc1a2b3c4d", "local", NULL, "2025-05-01T00:00:00Z");
	add_entry(".tmp-6.9.1-tarball-x86_64-kc1a2b3c4d-99", "tarball", "6.9.1", "2025-06-01T00:00:00Z");
	write_text(root, "stray-file", "not an entry");

	is_int(cache_scan(root, &list), 0, "scan succeeds");
	is_int(list.len, 11, "dot directories and files are not entries");
	is_str(list.items[0].key, "local-0123456-x86_64-kc1a2b3c4d", "newest built_at first");
	is_str(list.items[4].key, "6.14.10-tarball-x86_64-kc1a2b3c4d", "oldest valid entry last among valid");
	ok(list.items[5].error && list.items[10].error, "corrupt entries last");
	is_str(list.items[5].key, "c-drift", "corrupt entries sorted by key");
	cache_list_release(&list);

	is_int(cache_find(root, "6.14.2-tarball-x86_64-kc1a2b3c4d", &entry), 0, "find by key");
	cache_entry_release(&entry);
	is_int(cache_find(root, "6.14.2", &entry), 0, "find by version");
	is_str(entry.key, "6.14.2-tarball-x86_64-kc1a2b3c4d", "version picks its entry");
	cache_entry_release(&entry);
	is_int(cache_find(root, "6.14", &entry), 0, "find by series");
	is_str(entry.key, "6.14.10-tarball-x86_64-kc1a2b3c4d", "series picks the highest release");
	cache_entry_release(&entry);
	is_int(cache_find(root, "6.15", &entry), 1, "an rc is not a release of its series");
	cache_entry_release(&entry);
	is_int(cache_find(root, "7.3", &entry), 0, "series finds a distribution image");
	is_str(entry.key, "7.3.4+deb13-cloud-amd64-image-x86_64-kc775360ea", "image matched by its release");
	cache_entry_release(&entry);
	is_int(cache_find(root, "c-drift", &entry), 1, "a corrupt key is not found");
	is_int(entry.error, CACHE_SCHEMA_DRIFT, "the corrupt entry comes back with its error");
	cache_entry_release(&entry);
	is_int(cache_find(root, "6.9.1", &entry), 1, "temporary directories are never found");
	cache_entry_release(&entry);
	is_int(cache_find_newest(root, false, &entry), 0, "newest found");
	is_str(entry.key, "local-0123456-x86_64-kc1a2b3c4d", "newest is the latest built_at");
	cache_entry_release(&entry);
	is_int(cache_find_newest(root, true, &entry), 1, "no entry has a sched_ext config");
	cache_entry_release(&entry);

	/* A fragment whose hash differs from 1a2b3c4d makes those entries stale. */
	char *share = getenv("KTSTR_SHARE_DIR");
	write_text(share, "ktstr.kconfig", "CONFIG_SCHED_CLASS_EXT=y\n");
	is_int(cache_find_newest(root, false, &entry), 0, "newest found with a fragment");
	is_str(entry.key, "7.3.4+deb13-cloud-amd64-image-x86_64-kc775360ea",
	       "an untracked image wins over newer stale entries");
	cache_entry_release(&entry);
	char *fragment = fs_path_join(share, "ktstr.kconfig");
	unlink(fragment);
	free(fragment);

	char *missing = fs_path_join(root, "no-such-root");
	is_int(cache_scan(missing, &list), 0, "a missing root is an empty cache");
	is_int(list.len, 0, "missing root has no entries");
	free(missing);
}

static void test_status(void)
{
	struct cache_entry entry;

	cache_entry_load(root, "6.14.2-tarball-x86_64-kc1a2b3c4d", &entry);
	is_int(cache_entry_kconfig_status(&entry, "1a2b3c4d"), CACHE_KCONFIG_MATCHES, "same hash matches");
	is_int(cache_entry_kconfig_status(&entry, "ffffffff"), CACHE_KCONFIG_STALE, "other hash is stale");
	is_int(cache_entry_kconfig_status(&entry, NULL), CACHE_KCONFIG_UNKNOWN, "no fragment: unknown");
	ok(!cache_entry_stale_ktstr(&entry), "no ktstr_version is not stale");
	cache_entry_release(&entry);
	cache_entry_load(root, "7.3.4+deb13-cloud-amd64-image-x86_64-kc775360ea", &entry);
	is_int(cache_entry_kconfig_status(&entry, "ffffffff"), CACHE_KCONFIG_UNTRACKED, "image is untracked");
	jv obj = cache_entry_to_json(&entry, "ffffffff");
	is_str(json_str(obj, "kconfig_status"), "untracked", "JSON kconfig_status");
	ok(json_str(obj, "image_path") && strstr(json_str(obj, "image_path"), "/bzImage"), "JSON image_path");
	jv_free(obj);
	cache_entry_release(&entry);
}

static void test_hold(void)
{
	char *image = xasprintf("%s/6.14.2-tarball-x86_64-kc1a2b3c4d/bzImage", root);
	char *outside = fs_path_join(root, "stray-file");

	int fd = cache_hold_image(image);
	ok(fd >= 0, "image inside an entry is held");
	int writer = cache_lock_entry(root, "6.14.2-tarball-x86_64-kc1a2b3c4d", LOCK_MODE_EXCLUSIVE, 0);
	ok(writer < 0 && errno == EWOULDBLOCK, "a writer cannot lock a held entry");
	int reader = cache_hold_image(image);
	ok(reader >= 0, "two readers share the entry");
	cache_release_image(reader);
	cache_release_image(fd);
	writer = cache_lock_entry(root, "6.14.2-tarball-x86_64-kc1a2b3c4d", LOCK_MODE_EXCLUSIVE, 0);
	ok(writer >= 0, "released entry can be locked by a writer");
	lock_release(writer);
	is_int(cache_hold_image(outside), CACHE_NOT_HELD, "file outside an entry is not held");
	is_int(cache_hold_image("/nonexistent/bzImage"), CACHE_NOT_HELD, "missing file is not held");
	free(outside);
	free(image);
}

static void test_bzimage(void)
{
	unsigned char image[0x1000] = { 0 };
	struct bzimage_info info;
	char *path = fs_path_join(root, "fake-bzImage");

	memcpy(image + 0x202, "HdrS", 4);
	image[0x206] = 0x0f;
	image[0x207] = 0x02;
	image[0x20e] = 0x00;   /* the string sits at 0x300 + 0x200 = 0x500 */
	image[0x20f] = 0x03;
	strcpy((char *)image + 0x500, "6.14.2-test (builder@host) #1 SMP");
	fs_write_atomic(path, image, sizeof(image), 0644);
	is_int(bzimage_read(path, &info), 0, "bzImage header read");
	is_int(info.protocol, 0x20f, "boot protocol version");
	is_str(info.release, "6.14.2-test", "release is the first word of the version string");

	image[0x20e] = image[0x20f] = 0;
	fs_write_atomic(path, image, sizeof(image), 0644);
	bzimage_read(path, &info);
	is_str(info.release, "", "no version offset, no release");

	memcpy(image + 0x202, "ELF!", 4);
	fs_write_atomic(path, image, sizeof(image), 0644);
	is_int(bzimage_read(path, &info), 1, "no HdrS magic: not a bzImage");
	fs_write_atomic(path, "short", 5, 0644);
	is_int(bzimage_read(path, &info), 1, "short file is not a bzImage");
	is_int(bzimage_read("/nonexistent", &info), -1, "missing file is an error");
	free(path);
}

int main(void)
{
	char template[] = "/tmp/test-cache.XXXXXX";

	root = mkdtemp(template);
	if (!root) {
		perror("mkdtemp");
		return 1;
	}
	/* No kconfig fragment unless a test writes one. */
	char *share = fs_path_join(root, ".share");
	setenv("KTSTR_SHARE_DIR", share, 1);
	free(share);

	test_keys();
	test_metadata();
	test_corrupt();
	test_scan_and_find();
	test_status();
	test_hold();
	test_bzimage();
	fs_rm_rf(root);
	return done_testing();
}
