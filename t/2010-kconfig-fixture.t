#!/bin/sh
# ktstr-kconfig's decisions, on the fixture tree whose Makefile plays
# kbuild: the sentinel, defconfig, --clean, descriptors on stdin, and the
# report of options the kernel changed.
. "${0%/*}/lib/test-lib.sh"

tree=$T/linux
cp -R "$KTSTR_SRC/t/fixtures/kernel-tree" "$tree"

expect_status 0 'help exits 0' ktstr-kconfig --help
like "$(cat "$out")" '^Usage: ktstr-kconfig' 'help starts with the usage line'
for option in $(grep -Eo -- '--[a-z][a-z-]+' "$out" | sort -u); do
	like "$(cat "$KTSTR_SRC/man/ktstr-kconfig.1.scd")" "\\$option" "man page documents $option"
done

expect_status 0 '--hash prints the fragment hash' ktstr-kconfig --hash
like "$(cat "$out")" '^[0-9a-f]{8}$' 'the hash is 8 hex digits'
hash=$(cat "$out")

expect_status 0 'tree without .config configures' ktstr-kconfig "$tree"
like "$(cat "$err")" 'no .config .*running make defconfig' 'defconfig is announced'
is "$(jq -r .kconfig_hash "$out")" "$hash" 'kconfig_hash matches --hash'
is "$(jq -r .config_path "$out")" "$tree/.config" 'config_path is the tree .config'
check 'the sentinel is set' grep -qx CONFIG_SCHED_CLASS_EXT=y "$tree/.config"
check 'the fragment overrides defconfig' grep -qx '# CONFIG_PSI is not set' "$tree/.config"
check 'defconfig options stay' grep -qx CONFIG_PRINTK=y "$tree/.config"
first_hash=$(jq -r .config_hash "$out")

cp "$tree/.config" "$T/config.before"
echo CONFIG_USER_CHOICE=y >>"$tree/.config"
expect_status 0 'a .config with the sentinel is kept' ktstr-kconfig "$tree"
check '.config is untouched' grep -qx CONFIG_USER_CHOICE=y "$tree/.config"
unlike "$(cat "$err")" 'olddefconfig' 'no configuration runs'
isnt_hash=$(jq -r .config_hash "$out")
check 'config_hash follows the file' test "$isnt_hash" != "$first_hash"

# A user .config with sched_ext but without parts of the fragment: kept,
# with one warning that lists what differs.
printf 'CONFIG_SCHED_CLASS_EXT=y\nCONFIG_PSI=y\n' >"$tree/.config"
expect_status 0 'a partial .config with the sentinel is kept' ktstr-kconfig "$tree"
like "$(cat "$err")" "warning: '$tree/.config' already enables sched_ext, so the fragment was not applied; [0-9]+ of its options differ: CONFIG_BPF, .*CONFIG_PSI" \
	'differences are listed in one warning'
is "$(grep -c warning "$err")" 1 'one warning, not one per option'

expect_status 0 '--clean starts from mrproper' ktstr-kconfig --clean "$tree"
like "$(cat "$err")" 'make mrproper' 'mrproper is announced'
check 'the user choice is gone after --clean' sh -c "! grep -q CONFIG_PSI=y '$tree/.config'"

# The chain form: a descriptor on stdin.
rm -f "$tree/.config"
ktstr-fetch --source "$tree" >"$T/desc.json"
run sh -c "ktstr-kconfig <'$T/desc.json'"
is "$status" 0 'descriptor on stdin configures'
is "$(jq -r .source.type "$out")" local 'fields from ktstr-fetch are kept'
is "$(jq -r .version "$out")" 6.14.2 'the version from ktstr-fetch is kept'
is "$(jq -r .kconfig_hash "$out")" "$hash" 'kconfig_hash is added'

run sh -c "ktstr-kconfig --field config_path <'$T/desc.json'"
is "$(cat "$out")" "$tree/.config" '--field prints one value'

# A kernel that drops options: the fixture forgets two symbols.
printf 'CONFIG_IKCONFIG\nCONFIG_SCHEDSTATS\n' >"$tree/scripts/kconfig-unsupported"
rm -f "$tree/.config"
expect_status 0 'dropped options are not fatal' ktstr-kconfig "$tree"
like "$(cat "$err")" "warning: 'make olddefconfig' changed the fragment: CONFIG_IKCONFIG=y was dropped" \
	'the first dropped option is reported'
like "$(cat "$err")" 'CONFIG_SCHEDSTATS=y was dropped' 'the second dropped option is reported'
is "$(jq -c .kconfig_dropped "$out")" '["CONFIG_SCHEDSTATS","CONFIG_IKCONFIG"]' \
	'the descriptor lists them in fragment order'

echo CONFIG_SCHED_CLASS_EXT >"$tree/scripts/kconfig-unsupported"
rm -f "$tree/.config"
expect_status 1 'a kernel without sched_ext fails' ktstr-kconfig "$tree"
like "$(tail -n 1 "$err")" "the kernel in '$tree' cannot run sched_ext: CONFIG_SCHED_CLASS_EXT=y was dropped" \
	'the reason is the last line'
is "$(cat "$out")" '' 'no descriptor is printed'
: >"$tree/scripts/kconfig-unsupported"

echo 'broken target' >>"$tree/Makefile"
rm -f "$tree/.config"
expect_status 2 'a failing make is an error' ktstr-kconfig "$tree"
like "$(cat "$err")" "make defconfig failed in '$tree' \\(exit 2\\): .*see the log '$tree/.ktstr-kconfig.log'" \
	'the failure names the target and the log'

expect_status 2 'a directory that is not a kernel tree fails' ktstr-kconfig "$T"
like "$(cat "$err")" "not a kernel source tree '$T'" 'the directory is named'
one_line_error 'not-a-tree error is one line'

run sh -c "echo '{\"schema_version\": 1' | ktstr-kconfig"
is "$status" 2 'a truncated descriptor fails'
like "$(cat "$err")" 'invalid kernel descriptor on stdin' 'the descriptor error is named'
run sh -c "ktstr-fetch -r 6.14.2 2>/dev/null | ktstr-kconfig"
is "$status" 2 'a descriptor without a tree fails'
like "$(cat "$err")" 'no source_dir: run ktstr-fetch without --resolve-only' 'the fix is named'
done_testing
