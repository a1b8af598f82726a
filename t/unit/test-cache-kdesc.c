/* lib/kdesc: parsing, validation, output and cache keys of kernel descriptors. */
#include "tap.h"

#include "crc32.h"
#include "kdesc.h"
#include "json.h"
#include "xalloc.h"

#include <stdlib.h>

static const char full[] =
	"{\"schema_version\": 1,"
	" \"source\": {\"type\": \"tarball\", \"git_hash\": null, \"ref\": null,"
	"   \"url\": \"http://127.0.0.1/linux-6.14.2.tar.xz\", \"source_tree_path\": null, \"mirror\": 2},"
	" \"version\": \"6.14.2\", \"arch\": \"x86_64\", \"source_dir\": \"/tmp/linux-6.14.2\","
	" \"image_path\": \"/tmp/linux-6.14.2/arch/x86/boot/bzImage\", \"vmlinux_path\": null,"
	" \"config_path\": \"/tmp/linux-6.14.2/.config\", \"kconfig_hash\": \"1a2b3c4d\","
	" \"config_hash\": \"0badc0de\", \"dirty\": false, \"built_at\": \"2025-01-02T03:04:05Z\","
	" \"build_log\": \"/tmp/build.log\"}";

/* Parse text into desc; returns kdesc_from_json's result, the cause in *why. */
static int parse(const char *text, struct kdesc *desc, const char **why)
{
	jv obj = json_parse(text, strlen(text), NULL, NULL);
	int ret = kdesc_from_json(desc, obj, why);

	jv_free(obj);
	return ret;
}

/* Apply a change to the full descriptor with jq-like edits done by hand. */
static int parse_edited(const char *key, jv value, struct kdesc *desc, const char **why)
{
	jv obj = json_parse(full, strlen(full), NULL, NULL);

	obj = jv_is_valid(value) ? jv_object_set(obj, jv_string(key), value) :
		jv_object_delete(obj, jv_string(key));
	int ret = kdesc_from_json(desc, obj, why);
	jv_free(obj);
	return ret;
}

static void test_parse(void)
{
	struct kdesc desc;
	const char *why = NULL;

	kdesc_init(&desc);
	is_int(parse(full, &desc, &why), 0, "full descriptor parses");
	is_int(desc.source_type, KDESC_SOURCE_TARBALL, "source type tarball");
	is_str(desc.url, "http://127.0.0.1/linux-6.14.2.tar.xz", "source.url read");
	is_str(desc.git_hash, NULL, "null git_hash reads as NULL");
	is_str(desc.version, "6.14.2", "version read");
	is_str(desc.kconfig_hash, "1a2b3c4d", "kconfig_hash read");
	is_str(desc.built_at, "2025-01-02T03:04:05Z", "built_at read");
	is_int(desc.dirty, 0, "dirty read");
	is_int(desc.cached, KDESC_CACHED_UNSET, "cached unset when absent");

	is_int(parse("[1]", &desc, &why), -1, "array rejected");
	is_str(why, "expected a JSON object, got array", "array cause");
	is_int(parse_edited("schema_version", jv_invalid(), &desc, &why), -1, "missing schema_version rejected");
	is_str(why, "'schema_version' is missing", "missing schema_version cause");
	is_int(parse_edited("schema_version", jv_number(2), &desc, &why), -1, "schema_version 2 rejected");
	is_int(parse_edited("schema_version", jv_string("1"), &desc, &why), -1, "string schema_version rejected");
	is_int(parse_edited("source", jv_invalid(), &desc, &why), -1, "missing source rejected");
	is_str(why, "'source' is missing", "missing source cause");
	is_int(parse_edited("source", jv_parse("{\"type\": \"svn\"}"), &desc, &why), -1, "unknown source type rejected");
	is_int(parse_edited("source", jv_parse("{\"type\": \"git\", \"ref\": 5}"), &desc, &why), -1,
	       "numeric ref rejected");
	is_int(parse_edited("version", jv_number(6.14), &desc, &why), -1, "numeric version rejected");
	is_str(why, "'version' must be a string or null, not number", "numeric version cause");
	is_int(parse_edited("dirty", jv_string("no"), &desc, &why), -1, "string dirty rejected");
	is_int(parse_edited("arch", jv_string("riscv64"), &desc, &why), -1, "unknown arch rejected");
	is_int(parse_edited("kconfig_hash", jv_string("1A2B3C4D"), &desc, &why), -1, "uppercase hash rejected");
	is_int(parse_edited("config_hash", jv_string("abc"), &desc, &why), -1, "short hash rejected");
	is_int(parse_edited("built_at", jv_string("2025-01-02 03:04:05"), &desc, &why), -1,
	       "built_at without T and Z rejected");
	is_int(parse_edited("version", jv_null(), &desc, &why), 0, "null version accepted");
	is_int(parse_edited("cached", jv_false(), &desc, &why), 0, "cached false accepted");
	is_int(desc.cached, KDESC_CACHED_NO, "cached false read");
	kdesc_release(&desc);
}

static void test_round_trip(void)
{
	struct kdesc desc, again;
	const char *why;

	kdesc_init(&desc);
	kdesc_init(&again);
	parse(full, &desc, &why);
	jv out = kdesc_to_json(&desc);
	is_str(json_str(out, "build_log"), "/tmp/build.log", "unknown field kept");
	jv source = jv_object_get(jv_copy(out), jv_string("source"));
	long long mirror = 0;
	ok(json_int(source, "mirror", &mirror) && mirror == 2, "unknown source field kept");
	jv_free(source);
	ok(!json_has(out, "key") && !json_has(out, "cache_path") && !json_has(out, "cached"),
	   "cache fields absent before a store");
	is_int(kdesc_from_json(&again, out, &why), 0, "output parses again");
	is_str(again.config_path, desc.config_path, "config_path survives the round trip");
	is_str(again.built_at, desc.built_at, "built_at survives the round trip");
	jv_free(out);

	desc.key = xstrdup("6.14.2-tarball-x86_64-kc1a2b3c4d");
	desc.cached = KDESC_CACHED_NO;
	out = kdesc_to_json(&desc);
	is_str(json_str(out, "key"), "6.14.2-tarball-x86_64-kc1a2b3c4d", "key written once set");
	bool cached = true;
	ok(json_bool(out, "cached", &cached) && !cached, "cached false written once decided");
	jv_free(out);

	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	is_int(kdesc_write(mem, &desc, "source.url"), 0, "--field source.url");
	kdesc_write(mem, &desc, "vmlinux_path");
	kdesc_write(mem, &desc, "dirty");
	fclose(mem);
	is_str(text, "http://127.0.0.1/linux-6.14.2.tar.xz\n\nfalse\n", "fields print as text, null as empty line");
	free(text);
	mem = open_memstream(&text, &len);
	fclose(stderr);
	is_int(kdesc_write(mem, &desc, "nonsense"), -1, "unknown field rejected");
	fclose(mem);
	free(text);

	kdesc_release(&again);
	kdesc_release(&desc);
}

static void check_key(struct kdesc *desc, const char *want, const char *name)
{
	const char *why = "";
	char *key = kdesc_key(desc, &why);

	is_str(key, want, "%s", name);
	if (!key && want)
		printf("# why: %s\n", why);
	free(key);
}

static void set(char **slot, const char *value)
{
	free(*slot);
	*slot = value ? xstrdup(value) : NULL;
}

static void test_keys(void)
{
	struct kdesc desc;
	const char *why;
	char crc[9];

	kdesc_init(&desc);
	parse(full, &desc, &why);
	check_key(&desc, "6.14.2-tarball-x86_64-kc1a2b3c4d", "tarball key");
	set(&desc.version, "6.15-rc3");
	check_key(&desc, "6.15-rc3-tarball-x86_64-kc1a2b3c4d", "rc tarball key");
	set(&desc.version, "6.14.x");
	check_key(&desc, NULL, "tarball with a non-release version has no key");
	set(&desc.version, "6.14.2");
	set(&desc.kconfig_hash, NULL);
	check_key(&desc, NULL, "no kconfig_hash, no key");
	set(&desc.kconfig_hash, "1a2b3c4d");
	set(&desc.arch, NULL);
	check_key(&desc, NULL, "no arch, no key");
	set(&desc.arch, "x86_64");

	desc.source_type = KDESC_SOURCE_GIT;
	set(&desc.git_hash, "89abcdef0123456789abcdef0123456789abcdef");
	set(&desc.ref, "v6.14");
	check_key(&desc, "v6.14-git-89abcde-x86_64-kc1a2b3c4d", "git key");
	set(&desc.ref, "feature/sched..x");
	check_key(&desc, "feature_sched._x-git-89abcde-x86_64-kc1a2b3c4d", "git ref made safe for a key");
	set(&desc.ref, NULL);
	check_key(&desc, "git-89abcde-x86_64-kc1a2b3c4d", "git key without ref");
	set(&desc.git_hash, "89abc");
	check_key(&desc, NULL, "short commit rejected");

	desc.source_type = KDESC_SOURCE_LOCAL;
	set(&desc.git_hash, "0123456789abcdef0123456789abcdef01234567");
	set(&desc.source_tree_path, "/src/linux");
	check_key(&desc, "local-0123456-x86_64-kc1a2b3c4d", "clean local key");
	desc.dirty = true;
	char *want = xasprintf("local-unknown-%s-x86_64-kc1a2b3c4d",
			       crc32_hex(crc32_buffer("/src/linux", 10), crc));
	check_key(&desc, want, "dirty local key hashes the tree path");
	free(want);
	ok(!kdesc_cacheable(&desc, &why), "dirty tree is not cacheable");
	desc.dirty = false;
	ok(kdesc_cacheable(&desc, &why), "clean tree in git is cacheable");
	set(&desc.git_hash, NULL);
	ok(!kdesc_cacheable(&desc, &why), "tree outside git is not cacheable");
	set(&desc.source_tree_path, NULL);
	set(&desc.source_dir, NULL);
	check_key(&desc, NULL, "local tree without git or path has no key");

	desc.source_type = KDESC_SOURCE_IMAGE;
	set(&desc.version, "7.3.4+deb13-cloud-amd64");
	check_key(&desc, "7.3.4+deb13-cloud-amd64-image-x86_64-kc1a2b3c4d", "image key");
	set(&desc.version, "../x");
	check_key(&desc, NULL, "image version with '/' rejected");
	set(&desc.version, "..x");
	check_key(&desc, NULL, "image version with '..' rejected");
	kdesc_release(&desc);
}

static void test_formats(void)
{
	char now[21];

	ok(kdesc_hash_valid("0badc0de"), "hash of 8 lowercase hex digits");
	ok(!kdesc_hash_valid("0badc0d"), "7 digits rejected");
	ok(!kdesc_hash_valid("0badc0deX"), "9 characters rejected");
	ok(!kdesc_hash_valid(NULL), "NULL hash rejected");
	ok(kdesc_time_valid(kdesc_time_now(now)), "now is a valid built_at");
	ok(!kdesc_time_valid("2025-01-02T03:04:05"), "time without Z rejected");
	enum kdesc_source type;
	ok(kdesc_source_parse("image", &type) == 0 && type == KDESC_SOURCE_IMAGE, "image source parses");
	ok(kdesc_source_parse("Image", &type) != 0, "source names are case-sensitive");
	is_str(kdesc_source_name(KDESC_SOURCE_LOCAL), "local", "local source name");
}

int main(void)
{
	test_parse();
	test_keys();
	test_formats();
	/* Last: it closes stderr to silence an expected message. */
	test_round_trip();
	return done_testing();
}
