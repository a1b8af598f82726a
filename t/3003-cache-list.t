#!/bin/sh
# ktstr-cache list: order, markers, legends, corrupt entries and --json.
. "${0%/*}/lib/test-lib.sh"
. "$KTSTR_SRC/t/fixtures/cache/helpers.sh"

export KTSTR_SHARE_DIR=$T/share
mkdir -p "$KTSTR_SHARE_DIR"
printf 'CONFIG_SCHED_CLASS_EXT=y\n' >"$KTSTR_SHARE_DIR/ktstr.kconfig"
current=$(crc32 "$KTSTR_SHARE_DIR/ktstr.kconfig")

run ktstr-cache list
is "$status" 0 'list of an empty cache exits 0'
is "$(cat "$out")" '' 'empty cache prints nothing on stdout'
like "$(cat "$err")" "^cache: $KTSTR_CACHE_DIR" 'stderr names the cache root'
like "$(cat "$err")" "no cached kernels; run 'cargo ktstr kernel build'" 'empty cache says how to fill it'
run ktstr-cache list --json
is "$(jq -c '.entries' "$out")" '[]' 'empty cache: --json has no entries'

fake_build "$T/b"
desc 6.14.2 "$T/b" "$current" 2025-03-01T00:00:00Z | ktstr-cache store >/dev/null 2>&1
desc 6.13.7 "$T/b" 0badf00d 2025-02-01T00:00:00Z | ktstr-cache store >/dev/null 2>&1
desc 6.12.9 "$T/b" "$current" 2025-01-01T00:00:00Z | ktstr-cache store >/dev/null 2>&1
fake_bzimage "$T/image" 7.3.4-test
ktstr-cache store --image "$T/image" >/dev/null 2>&1

# Entries another ktstr wrote, and broken ones.
old=$KTSTR_CACHE_DIR/6.12.9-tarball-x86_64-kc$current
jq '.ktstr_version = "0.0.1"' "$old/metadata.json" >"$T/m" && mv "$T/m" "$old/metadata.json"
mkdir "$KTSTR_CACHE_DIR/broken-nometa"
mkdir "$KTSTR_CACHE_DIR/broken-json"
printf '{"version": ' >"$KTSTR_CACHE_DIR/broken-json/metadata.json"
cp -r "$KTSTR_CACHE_DIR/6.14.2-tarball-x86_64-kc$current" "$KTSTR_CACHE_DIR/broken-noimage"
rm "$KTSTR_CACHE_DIR/broken-noimage/bzImage"
mkdir "$KTSTR_CACHE_DIR/.tmp-6.1.1-tarball-x86_64-kc00000000-1"

run ktstr-cache list
is "$status" 0 'list exits 0 with corrupt entries'
sed -n 1p "$out" >"$T/header"
like "$(cat "$T/header")" '^  KEY +VERSION +SOURCE +ARCH +BUILT$' 'header row'
sed 1d "$out" | awk '{print $1}' >"$T/keys"
printf '%s\n' "7.3.4-test-image-x86_64-kc$(crc32 "$T/image")" "6.14.2-tarball-x86_64-kc$current" \
	6.13.7-tarball-x86_64-kc0badf00d "6.12.9-tarball-x86_64-kc$current" \
	broken-json broken-noimage broken-nometa >"$T/want"
check 'rows newest first, corrupt last, no temporary dirs' cmp -s "$T/want" "$T/keys"
like "$(grep '^  6.14.2' "$out")" "^  6\.14\.2-tarball-x86_64-kc$current +6\.14\.2 +tarball +x86_64 +2025-03-01T00:00:00Z$" \
	'a current entry has no marker'
like "$(grep '^  6.13.7' "$out")" '\(stale kconfig\)$' 'other fragment hash: stale kconfig'
like "$(grep '^  6.12.9' "$out")" '\(stale ktstr\)$' 'other ktstr version: stale ktstr'
like "$(grep '^  7.3.4' "$out")" '\(untracked kconfig\)$' 'image entry: untracked kconfig'
like "$(grep broken-nometa "$out")" '\(corrupt: metadata.json is missing\)' 'missing metadata reason'
like "$(grep broken-json "$out")" '\(corrupt: metadata.json: .*\)' 'truncated metadata reason'
like "$(grep broken-noimage "$out")" "\(corrupt: boot image 'bzImage' is missing\)" 'missing image reason'
like "$(cat "$err")" 'untracked kconfig.*never marked stale' 'untracked legend on stderr'
like "$(cat "$err")" "stale kconfig.*kernel build --force" 'stale kconfig legend on stderr'
like "$(cat "$err")" 'stale ktstr.*another ktstr version' 'stale ktstr legend on stderr'
like "$(cat "$err")" "3 corrupt entries .*kernel clean --corrupt-only" 'corrupt footer on stderr'

run ktstr-cache list --json
is "$status" 0 'list --json exits 0'
is "$(jq -r .current_ktstr_kconfig_hash "$out")" "$current" 'JSON names the current fragment hash'
is "$(jq -r '.entries | length' "$out")" 7 'JSON lists every entry'
is "$(jq -r '.entries[] | select(.key | startswith("6.13.7")) | .kconfig_status' "$out")" stale 'kconfig_status stale'
is "$(jq -r '.entries[] | select(.key | startswith("6.14.2")) | .kconfig_status' "$out")" matches 'kconfig_status matches'
is "$(jq -r '.entries[] | select(.key | startswith("7.3.4")) | .kconfig_status' "$out")" untracked 'kconfig_status untracked'
is "$(jq -r '.entries[] | select(.key | startswith("6.12.9")) | .stale_ktstr' "$out")" true 'stale_ktstr set'
is "$(jq -r '.entries[1] | [.version, .source.type, .arch, .image_name, .built_at, .ktstr_kconfig_hash, .config_hash, .has_vmlinux, .vmlinux_stripped, .image_path] | map(tostring) | join(" ")' "$out")" \
	"6.14.2 tarball x86_64 bzImage 2025-03-01T00:00:00Z $current 0badc0de false false $KTSTR_CACHE_DIR/6.14.2-tarball-x86_64-kc$current/bzImage" \
	'JSON carries every metadata field'
is "$(jq -r '.entries[] | select(.key == "broken-nometa") | .error_kind' "$out")" missing 'error_kind missing'
is "$(jq -r '.entries[] | select(.key == "broken-json") | .error_kind' "$out")" truncated 'error_kind truncated'
is "$(jq -r '.entries[] | select(.key == "broken-noimage") | .error_kind' "$out")" image_missing 'error_kind image_missing'
is "$(jq -r '.entries[] | select(.key == "broken-json") | .path' "$out")" "$KTSTR_CACHE_DIR/broken-json" 'corrupt entries have a path'

# Without the fragment nothing can be stale.
rm "$KTSTR_SHARE_DIR/ktstr.kconfig"
run ktstr-cache list
unlike "$(cat "$out")" 'stale kconfig' 'no fragment: nothing marked stale'
run ktstr-cache list --json
is "$(jq -r .current_ktstr_kconfig_hash "$out")" null 'no fragment: null current hash'

: >"$T/file"
KTSTR_CACHE_DIR=$T/file expect_status 2 'root that is a file exits 2' ktstr-cache list
like "$(cat "$err")" "cannot read cache root '$T/file': Not a directory" 'list names the bad root'
one_line_error 'bad root error is one line'
HOME= KTSTR_CACHE_DIR= expect_status 2 'no root at all exits 2' ktstr-cache list
like "$(cat "$err")" 'HOME is empty' 'unresolvable root says why'
expect_status 2 'list takes no arguments' ktstr-cache list extra
expect_status 0 'list --help exits 0' ktstr-cache list --help
like "$(cat "$out")" 'stale kconfig' 'help explains the markers'
done_testing
