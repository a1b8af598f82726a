#!/bin/sh
# ktstr-cache store --image with Debian's real sched_ext kernel.
# test-lib.sh gives each test its own HOME, so name the asset cache of the
# real HOME here; otherwise require_assets would fetch everything again.
: "${KTSTR_ASSET_DIR:=${XDG_CACHE_HOME:-$HOME/.cache}/ktstr/test-assets}"
export KTSTR_ASSET_DIR
. "${0%/*}/lib/test-lib.sh"
. "$KTSTR_SRC/t/fixtures/cache/helpers.sh"
require_assets

kver=$KTSTR_ASSET_KVER
# The version and key as extended regular expressions ('+' and '.' escaped).
kver_re=$(printf '%s' "$kver" | sed 's/[.+]/\\&/g')
key=$kver-image-x86_64-kc$(crc32 "$KTSTR_ASSET_KCONFIG")
entry=$KTSTR_CACHE_DIR/$key

run ktstr-cache store --image "$KTSTR_ASSET_KERNEL" --config "$KTSTR_ASSET_KCONFIG" \
	--vmlinux "$KTSTR_ASSET_VMLINUX"
is "$status" 0 'store --image exits 0'
is "$(jq -r .key "$out")" "$key" 'key: version from the bzImage header, kc = CRC of the config'
is "$(jq -r .version "$out")" "$kver" 'version read from the setup header'
is "$(jq -r .source.type "$out")" image 'source type image'
is "$(jq -r .image_path "$out")" "$entry/bzImage" 'image_path points into the cache'
check 'boot image stored byte for byte' cmp -s "$KTSTR_ASSET_KERNEL" "$entry/bzImage"
check 'config stored beside it' cmp -s "$KTSTR_ASSET_KCONFIG" "$entry/config"
is "$(jq -r '[.has_vmlinux, .vmlinux_stripped, .has_config, .ktstr_kconfig_hash] | map(tostring) | join(" ")' "$entry/metadata.json")" \
	'true true true null' 'metadata: stripped vmlinux, config, no fragment hash'
sections() {
	readelf -SW "$1" | sed -n 's/^ *\[ *[0-9]*\] \([^ ]*\) .*/\1/p' | grep -v '^\.debug_'
}
like "$(sections "$entry/vmlinux")" '^\.BTF$' 'stripped vmlinux keeps .BTF'
is "$(sections "$entry/vmlinux" | tr '\n' ' ')" "$(sections "$KTSTR_ASSET_VMLINUX" | tr '\n' ' ')" \
	'stripping drops only DWARF sections'
unlike "$(readelf -SW "$entry/vmlinux")" '\.debug_' 'stripped vmlinux has no DWARF'

run ktstr-cache lookup --newest --sched-ext
is "$(cat "$out")" "$entry/bzImage" 'newest sched_ext kernel is the Debian image'
run ktstr-cache lookup "$kver"
is "$(cat "$out")" "$entry/bzImage" 'lookup by the distribution version'
run ktstr-cache lookup "$(echo "$kver" | cut -d. -f1,2)"
is "$(cat "$out")" "$entry/bzImage" 'lookup by its series'

run ktstr-cache list
like "$(cat "$out")" "$kver_re-image-x86_64-kc[0-9a-f]{8} +$kver_re +image +x86_64 .* \(untracked kconfig\)" 'image entry listed as untracked'

# Without --config, config-<version> beside the image is used, as in /boot.
mkdir "$T/boot"
cp "$KTSTR_ASSET_KERNEL" "$T/boot/vmlinuz-$kver"
cp "$KTSTR_ASSET_KCONFIG" "$T/boot/config-$kver"
KTSTR_CACHE_DIR=$T/cache2 run ktstr-cache store --image "$T/boot/vmlinuz-$kver"
is "$(jq -r .key "$out")" "$key" 'config-VERSION beside the image is found'
like "$(cat "$err")" "using kernel config '.*/boot/config-$kver_re'" 'store names the config it took'

# Without any config the key hashes the image, and --sched-ext cannot pick it.
rm "$T/boot/config-$kver"
KTSTR_CACHE_DIR=$T/cache3 run ktstr-cache store --image "$T/boot/vmlinuz-$kver" --version 7.3.4-custom
is "$(jq -r .key "$out")" "7.3.4-custom-image-x86_64-kc$(crc32 "$KTSTR_ASSET_KERNEL")" \
	'--version overrides the header; no config: kc is the image CRC'
KTSTR_CACHE_DIR=$T/cache3 expect_status 1 'image without config is not a sched_ext kernel' \
	ktstr-cache lookup --newest --sched-ext
like "$(cat "$err")" 'CONFIG_SCHED_CLASS_EXT=y' 'miss says what was required'
one_line_error 'sched_ext miss is one line'
KTSTR_CACHE_DIR=$T/cache3 run ktstr-cache lookup --newest
is "$status" 0 'plain --newest still finds it'

# Bad input.
expect_status 2 'a config file is not a boot image' ktstr-cache store --image "$KTSTR_ASSET_KCONFIG"
like "$(cat "$err")" "not an x86 boot image" 'not-a-bzImage is named'
one_line_error 'not-a-bzImage error is one line'
expect_status 2 'missing image exits 2' ktstr-cache store --image "$T/nope"
like "$(cat "$err")" "cannot read boot image '$T/nope': No such file" 'missing image is named'
expect_status 2 'missing config exits 2' ktstr-cache store --image "$KTSTR_ASSET_KERNEL" --config "$T/nope"
like "$(cat "$err")" "kernel config '$T/nope'" 'missing config is named'
expect_status 2 '--config without --image is a usage error' ktstr-cache store --config "$KTSTR_ASSET_KCONFIG"
expect_status 2 'a version with / is rejected' ktstr-cache store --image "$KTSTR_ASSET_KERNEL" --version a/b
expect_status 2 'an empty --version is rejected' ktstr-cache store --image "$KTSTR_ASSET_KERNEL" --version ''
like "$(cat "$err")" '--version is empty' 'empty --version is named'
expect_status 2 'an unknown --field with --image exits 2' \
	ktstr-cache store --image "$KTSTR_ASSET_KERNEL" --version 9.9.8 --field bogus
like "$(cat "$err")" "unknown kernel descriptor field 'bogus'" 'unknown --field with --image is named'
check 'unknown --field stored no 9.9.8 entry' sh -c "! ls '$KTSTR_CACHE_DIR' | grep -q '^9.9.8-'"
is "$(ls "$KTSTR_CACHE_DIR" | wc -l | tr -d ' ')" 1 'failed stores left the cache as it was'
done_testing
