#!/bin/sh
# ktstr-cache store, key and lookup on kernel descriptors of fake builds.
. "${0%/*}/lib/test-lib.sh"
. "$KTSTR_SRC/t/fixtures/cache/helpers.sh"

# A fragment of our own, so the kconfig status does not depend on share/.
export KTSTR_SHARE_DIR=$T/share
mkdir -p "$KTSTR_SHARE_DIR"
printf 'CONFIG_SCHED_CLASS_EXT=y\n' >"$KTSTR_SHARE_DIR/ktstr.kconfig"
current=$(crc32 "$KTSTR_SHARE_DIR/ktstr.kconfig")

fake_build "$T/b1"
desc 6.14.2 "$T/b1" >"$T/d1.json"

run_stdin "$T/d1.json" ktstr-cache key
is "$status" 0 'key exits 0'
is "$(cat "$out")" '6.14.2-tarball-x86_64-kc1a2b3c4d' 'tarball key has version, source, arch, kconfig hash'
check 'key creates no cache root' test ! -e "$KTSTR_CACHE_DIR"

run_stdin "$T/d1.json" ktstr-cache store
is "$status" 0 'store exits 0'
entry=$KTSTR_CACHE_DIR/6.14.2-tarball-x86_64-kc1a2b3c4d
is "$(jq -r .key "$out")" '6.14.2-tarball-x86_64-kc1a2b3c4d' 'store prints the key'
is "$(jq -r .cache_path "$out")" "$entry" 'store prints the entry directory'
is "$(jq -r .image_path "$out")" "$entry/bzImage" 'image_path now points into the cache'
is "$(jq -r .cached "$out")" true 'descriptor says cached'
is "$(jq -r .source.url "$out")" 'http://127.0.0.1/linux-6.14.2.tar.xz' 'source fields pass through'
check 'image copied' cmp -s "$T/b1/bzImage" "$entry/bzImage"
check 'config stored as config' cmp -s "$T/b1/.config" "$entry/config"
is "$(jq -r '[.version, .source.type, .arch, .image_name, .ktstr_kconfig_hash, .config_hash, .built_at, .has_vmlinux, .has_config, .schema_version] | join(" ")' "$entry/metadata.json")" \
	'6.14.2 tarball x86_64 bzImage 1a2b3c4d 0badc0de 2025-01-02T03:04:05Z false true 1' \
	'metadata.json uses the upstream field names'
like "$(cat "$err")" 'cached kernel 6.14.2-tarball-x86_64-kc1a2b3c4d' 'store reports the key on stderr'
check 'no temporary directory left' sh -c "! ls -a '$KTSTR_CACHE_DIR' | grep -q '^\.tmp-'"

# Unknown fields of other chain steps survive the store.
jq '. + {build_log: "/tmp/x.log"}' "$T/d1.json" | ktstr-cache store >"$T/extra.json" 2>/dev/null
is "$(jq -r .build_log "$T/extra.json")" /tmp/x.log 'unknown descriptor fields pass through'
like "$(jq -r .cached "$T/extra.json")" true 'second store of a key succeeds'

run_stdin "$T/d1.json" ktstr-cache store --field image_path
is "$(cat "$out")" "$entry/bzImage" '--field prints one value'
like "$(cat "$err")" 'already cached' 'a valid entry is kept without --force'

printf 'rebuilt image\n' >"$T/b1/bzImage"
run_stdin "$T/d1.json" ktstr-cache store --force
is "$status" 0 'store --force exits 0'
check '--force replaces the image' cmp -s "$T/b1/bzImage" "$entry/bzImage"
like "$(cat "$err")" 'replaced cached kernel' '--force says it replaced the entry'

# Lookups.
fake_build "$T/b2"
desc 6.14.10 "$T/b2" 1a2b3c4d 2025-01-01T00:00:00Z | ktstr-cache store >/dev/null 2>&1
fake_build "$T/b3"
desc 6.12.5 "$T/b3" 1a2b3c4d 2025-03-01T00:00:00Z | ktstr-cache store >/dev/null 2>&1

run ktstr-cache lookup 6.14.2-tarball-x86_64-kc1a2b3c4d
is "$(cat "$out")" "$entry/bzImage" 'lookup by key prints the image'
run ktstr-cache lookup 6.14.2
is "$(cat "$out")" "$entry/bzImage" 'lookup by exact version'
run ktstr-cache lookup 6.14
is "$(cat "$out")" "$KTSTR_CACHE_DIR/6.14.10-tarball-x86_64-kc1a2b3c4d/bzImage" \
	'series lookup picks the highest release, not the newest build'
run ktstr-cache lookup --json 6.12
is "$(jq -r '.key + " " + .kconfig_status' "$out")" '6.12.5-tarball-x86_64-kc1a2b3c4d stale' \
	'lookup --json prints the entry'
run ktstr-cache lookup --newest
is "$(cat "$out")" "$KTSTR_CACHE_DIR/6.12.5-tarball-x86_64-kc1a2b3c4d/bzImage" \
	'--newest takes the newest built_at'

expect_status 1 'missing version exits 1' ktstr-cache lookup 6.15.1
like "$(cat "$err")" "run 'cargo ktstr kernel build 6.15.1'" 'miss names the build command'
one_line_error 'miss is one line'
expect_status 1 'missing key exits 1' ktstr-cache lookup nosuch-key
like "$(cat "$err")" "kernel list" 'key miss points at kernel list'
expect_status 1 'version of a series with no entry exits 1' ktstr-cache lookup 5.10
expect_status 2 'lookup without ID is a usage error' ktstr-cache lookup
expect_status 2 '--sched-ext needs --newest' ktstr-cache lookup --sched-ext 6.14

# The fragment hash decides between two builds of one version.
fake_build "$T/b4"
desc 6.14.2 "$T/b4" "$current" 2024-01-01T00:00:00Z | ktstr-cache store >/dev/null 2>&1
run ktstr-cache lookup 6.14.2
is "$(cat "$out")" "$KTSTR_CACHE_DIR/6.14.2-tarball-x86_64-kc$current/bzImage" \
	'an entry built with the current fragment wins over a newer stale one'

# Dirty local trees are passed through, never cached.
fake_build "$T/tree"
local_desc "$T/tree" 0123456789abcdef0123456789abcdef01234567 true >"$T/dirty.json"
run_stdin "$T/dirty.json" ktstr-cache store
is "$status" 0 'dirty store exits 0'
is "$(jq -r .cached "$out")" false 'dirty descriptor is marked cached: false'
is "$(jq -r .image_path "$out")" "$T/tree/bzImage" 'dirty descriptor keeps its image path'
like "$(cat "$err")" 'uncommitted changes' 'dirty store says why it did not cache'
check 'dirty store created no entry' sh -c "! ls '$KTSTR_CACHE_DIR' | grep -q '^local-'"

jq '.source.git_hash = null | .dirty = false' "$T/dirty.json" >"$T/nogit.json"
run_stdin "$T/nogit.json" ktstr-cache store
is "$status" 0 'store of a tree outside git exits 0'
is "$(jq -r .cached "$out")" false 'a tree outside git is not cached'
like "$(cat "$err")" 'not in a git repository' 'store says the tree is not in git'

local_desc "$T/tree" 0123456789abcdef0123456789abcdef01234567 false >"$T/clean.json"
run_stdin "$T/clean.json" ktstr-cache key
is "$(cat "$out")" 'local-0123456-x86_64-kc1a2b3c4d' 'local key carries the short commit'
run_stdin "$T/clean.json" ktstr-cache store
is "$(jq -r .vmlinux_path "$out")" "$KTSTR_CACHE_DIR/local-0123456-x86_64-kc1a2b3c4d/vmlinux" \
	'vmlinux is stored'
like "$(cat "$err")" 'storing it unstripped' 'a vmlinux objcopy rejects is copied raw, with a warning'
is "$(jq -r .vmlinux_stripped "$KTSTR_CACHE_DIR/local-0123456-x86_64-kc1a2b3c4d/metadata.json")" false \
	'raw vmlinux is recorded as unstripped'

# An ELF file with DWARF stands in for a real vmlinux: objcopy strips it.
fake_build "$T/b5"
printf 'int answer = 42;\nint main(void) { return answer; }\n' >"$T/v.c"
cc -g -o "$T/b5/vmlinux" "$T/v.c"
desc 6.13.1 "$T/b5" | jq --arg v "$T/b5/vmlinux" '.vmlinux_path = $v' >"$T/d5.json"
run_stdin "$T/d5.json" ktstr-cache store
stored=$(jq -r .vmlinux_path "$out")
is "$(jq -r .vmlinux_stripped "$KTSTR_CACHE_DIR/6.13.1-tarball-x86_64-kc1a2b3c4d/metadata.json")" true \
	'an ELF vmlinux is recorded as stripped'
like "$(readelf -SW "$T/b5/vmlinux")" '\.debug_info' 'the input has DWARF'
unlike "$(readelf -SW "$stored")" '\.debug_' 'the stored vmlinux has none'
like "$(readelf -sW "$stored")" ' answer$' 'the stored vmlinux keeps its symbols'

jq '.source = {type: "git", git_hash: "89abcdef0123456789abcdef0123456789abcdef", ref: "feature/x", url: "http://127.0.0.1/linux.git", source_tree_path: null} | .version = null' \
	"$T/d1.json" | ktstr-cache key >"$T/gitkey" 2>&1
is "$(cat "$T/gitkey")" 'feature_x-git-89abcde-x86_64-kc1a2b3c4d' 'git key replaces / in the ref'

# Bad descriptors: one line, exit 2, nothing stored.
before=$(ls "$KTSTR_CACHE_DIR" | wc -l)
printf '{"schema_version": 1, "source": ' >"$T/trunc.json"
expect_status_stdin 2 'truncated descriptor exits 2' "$T/trunc.json" ktstr-cache store
like "$(cat "$err")" 'invalid kernel descriptor on standard input: truncated' 'truncated descriptor is named'
one_line_error 'truncated descriptor error is one line'
expect_status 2 'empty stdin exits 2' ktstr-cache store </dev/null
like "$(cat "$err")" 'no kernel descriptor on standard input' 'empty stdin is named'
jq 'del(.schema_version)' "$T/d1.json" >"$T/noschema.json"
expect_status_stdin 2 'descriptor without schema_version exits 2' "$T/noschema.json" ktstr-cache store
like "$(cat "$err")" "'schema_version' is missing" 'missing schema_version is named'
jq '.schema_version = 2' "$T/d1.json" >"$T/schema2.json"
expect_status_stdin 2 'newer schema_version exits 2' "$T/schema2.json" ktstr-cache store
jq '.kconfig_hash = "xyz"' "$T/d1.json" >"$T/badhash.json"
expect_status_stdin 2 'bad kconfig_hash exits 2' "$T/badhash.json" ktstr-cache store
like "$(cat "$err")" 'kconfig_hash' 'bad hash names the field'
jq '.image_path = null' "$T/d1.json" >"$T/noimage.json"
expect_status_stdin 2 'descriptor without image exits 2' "$T/noimage.json" ktstr-cache store
like "$(cat "$err")" 'no image_path' 'missing image_path is named'
jq --arg p "$T/nope/bzImage" '.image_path = $p' "$T/d1.json" >"$T/goneimage.json"
expect_status_stdin 2 'missing image file exits 2' "$T/goneimage.json" ktstr-cache store
like "$(cat "$err")" "boot image '$T/nope/bzImage'" 'missing image file is named'
one_line_error 'missing image error is one line'
jq '.version = "6.14.x"' "$T/d1.json" >"$T/badver.json"
expect_status_stdin 2 'tarball with a bad version exits 2' "$T/badver.json" ktstr-cache key
is "$(ls "$KTSTR_CACHE_DIR" | wc -l)" "$before" 'bad descriptors stored nothing'

# A cache root that cannot be created: a regular file is in the way.
: >"$T/file"
KTSTR_CACHE_DIR=$T/file/cache expect_status_stdin 2 'root under a file exits 2' "$T/d1.json" ktstr-cache store
like "$(cat "$err")" "cannot create cache root '$T/file/cache'" 'unwritable root is named'
one_line_error 'unwritable root error is one line'
KTSTR_CACHE_DIR=$T/file expect_status_stdin 2 'root that is a file exits 2' "$T/d1.json" ktstr-cache store
KTSTR_CACHE_DIR=$T/file expect_status 2 'lookup in a file root exits 2' ktstr-cache lookup 6.14.2
like "$(cat "$err")" "cache root '$T/file'" 'lookup names the bad root'

# A lock directory that is a regular file: the message names that path.
mkdir -p "$T/lockfile"
: >"$T/lockfile/.locks"
KTSTR_CACHE_DIR=$T/lockfile expect_status_stdin 2 '.locks as a file exits 2' "$T/d1.json" ktstr-cache store
like "$(cat "$err")" "'$T/lockfile/.locks': Not a directory" '.locks as a file is named'
one_line_error '.locks error is one line'

# An unknown --field is rejected before anything is stored.
KTSTR_CACHE_DIR=$T/fieldcache expect_status_stdin 2 'unknown --field exits 2' "$T/d1.json" \
	ktstr-cache store --field bogus
like "$(cat "$err")" "unknown kernel descriptor field 'bogus'; nothing was stored" 'unknown --field is named'
unlike "$(cat "$err")" 'cached kernel' 'unknown --field stores nothing'
check 'unknown --field leaves no entry' test ! -e "$T/fieldcache/6.14.2-tarball-x86_64-kc1a2b3c4d"
jq '. + {build_log: "/tmp/x.log"}' "$T/d1.json" >"$T/extra-field.json"
KTSTR_CACHE_DIR=$T/fieldcache run_stdin "$T/extra-field.json" ktstr-cache store --field build_log
is "$(cat "$out")" /tmp/x.log '--field reaches a field of another step'

# Descriptor values that are present but unusable get their own causes.
jq '.schema_version = 1.0000001' "$T/d1.json" >"$T/schemafrac.json"
expect_status_stdin 2 'fractional schema_version exits 2' "$T/schemafrac.json" ktstr-cache key
like "$(cat "$err")" "'schema_version' must be an integer, not 1.0000001" 'fractional schema_version is named'
jq '.version = ""' "$T/d1.json" >"$T/emptyver.json"
expect_status_stdin 2 'empty version exits 2' "$T/emptyver.json" ktstr-cache key
like "$(cat "$err")" "'version' is empty" 'empty version is named as empty'

# metadata.json with a NUL byte is malformed JSON (jq alone reads it as 0).
mkdir -p "$T/nulcache/nul-entry"
printf '\000\377' >"$T/nulcache/nul-entry/metadata.json"
KTSTR_CACHE_DIR=$T/nulcache expect_status 1 'lookup of a NUL metadata entry exits 1' ktstr-cache lookup nul-entry
like "$(cat "$err")" 'malformed JSON' 'NUL metadata reads as malformed JSON'
unlike "$(cat "$err")" 'not a JSON object' 'NUL metadata is not called a non-object'
mkdir -p "$T/nulcache/frac-entry"
printf '{"schema_version": 1.0000001}\n' >"$T/nulcache/frac-entry/metadata.json"
KTSTR_CACHE_DIR=$T/nulcache expect_status 1 'lookup of a fractional schema exits 1' ktstr-cache lookup frac-entry
like "$(cat "$err")" "'schema_version' must be an integer" 'fractional metadata schema_version is named'

# A version whose only entry is corrupt: the miss says so and how to clean.
export KTSTR_CACHE_DIR=$T/corruptcache
desc 5.0.2 "$T/b1" | ktstr-cache store >/dev/null 2>&1
rm "$KTSTR_CACHE_DIR/5.0.2-tarball-x86_64-kc1a2b3c4d/bzImage"
expect_status 1 'version with a corrupt entry exits 1' ktstr-cache lookup 5.0.2
like "$(cat "$err")" "cached kernel '5.0.2-tarball-x86_64-kc1a2b3c4d' is corrupt" 'miss names the corrupt entry'
like "$(cat "$err")" "'cargo ktstr kernel clean --corrupt-only'" 'corrupt miss suggests clean --corrupt-only'
unlike "$(cat "$err")" 'is not cached' 'corrupt miss is not called uncached'
expect_status 1 'series with a corrupt entry exits 1' ktstr-cache lookup 5.0
like "$(cat "$err")" 'is corrupt' 'series miss names the corrupt entry'
desc 5.0.3 "$T/b1" | ktstr-cache store >/dev/null 2>&1
meta=$KTSTR_CACHE_DIR/5.0.3-tarball-x86_64-kc1a2b3c4d/metadata.json
jq '.schema_version = 2' "$meta" >"$T/meta2" && mv "$T/meta2" "$meta"
expect_status 1 'version with a schema 2 entry exits 1' ktstr-cache lookup 5.0.3
like "$(cat "$err")" "'5.0.3-tarball-x86_64-kc1a2b3c4d' is corrupt" 'unreadable metadata matched by its key'
one_line_error 'corrupt miss is one line'
export KTSTR_CACHE_DIR=$T/cache

expect_status 0 'store --help exits 0' ktstr-cache store --help
like "$(cat "$out")" '^Usage: ktstr-cache store' 'store --help prints usage on stdout'
expect_status 2 'unknown store option exits 2' ktstr-cache store --bogus
like "$(cat "$err")" "store --help" 'unknown option points at store --help'
done_testing
