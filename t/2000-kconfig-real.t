#!/bin/sh
# ktstr-kconfig on the real kernel tree of the test assets, configured out of
# tree (O=) so the shared tree stays untouched: the fragment must survive
# olddefconfig, and a kernel that loses sched_ext must be reported.
. "${0%/*}/lib/test-lib.sh"
require_assets

ksrc=$KTSTR_ASSET_KSRC
touch "$T/before"

# crc_of FILE: CRC-32 of the file's bytes as 8 hex digits, as zlib computes it.
crc_of() {
	python3 -c 'import sys, zlib; print("%08x" % zlib.crc32(open(sys.argv[1], "rb").read()))' "$1"
}

expect_status 0 'real tree configures' ktstr-kconfig --build-dir "$T/out" "$ksrc"
is "$(jq -r .config_path "$out")" "$T/out/.config" 'the .config is in the build directory'
is "$(jq -r .build_dir "$out")" "$T/out" 'the build directory is recorded'
is "$(jq -r .kconfig_hash "$out")" "$(crc_of "$KTSTR_SRC/share/ktstr.kconfig")" 'kconfig_hash is the CRC-32 of the fragment'
is "$(jq -r .config_hash "$out")" "$(crc_of "$T/out/.config")" \
	'config_hash is the CRC-32 of the final .config'
is "$(jq -c .kconfig_dropped "$out")" '[]' 'no fragment option was dropped'
unlike "$(cat "$err")" 'warning' 'no warnings on a complete toolchain'
for option in CONFIG_SCHED_CLASS_EXT=y CONFIG_DEBUG_INFO_BTF=y CONFIG_FUNCTION_TRACER=y \
	CONFIG_DYNAMIC_FTRACE=y CONFIG_VIRTIO_CONSOLE=y CONFIG_SERIAL_8250_CONSOLE=y \
	CONFIG_IKCONFIG=y CONFIG_NR_CPUS=256; do
	check "final .config has $option" grep -qx "$option" "$T/out/.config"
done
check 'lockdep stays off' grep -qx '# CONFIG_PROVE_LOCKING is not set' "$T/out/.config"
check 'PSI stays off' grep -qx '# CONFIG_PSI is not set' "$T/out/.config"
is "$(find "$ksrc" -newer "$T/before" | head -n 5)" '' 'the source tree is not written'

# pahole older than 1.22: kbuild drops BTF, and sched_ext with it.
mkdir "$T/shim"
printf '#!/bin/sh\necho v1.10\n' >"$T/shim/pahole"
chmod +x "$T/shim/pahole"
expect_status 1 'kernel without BTF fails' env PATH="$T/shim:$PATH" \
	ktstr-kconfig --build-dir "$T/old-pahole" "$ksrc"
like "$(cat "$err")" 'warning: .*CONFIG_DEBUG_INFO_BTF=y was dropped \(it needs pahole 1.22 or later: install the Debian package dwarves\)' \
	'the dropped option and its cause are reported'
like "$(tail -n 1 "$err")" "cannot run sched_ext: CONFIG_SCHED_CLASS_EXT=y was dropped from '$T/old-pahole/.config'" \
	'the missing sched_ext is the error'
is "$(cat "$out")" '' 'no descriptor for a kernel without sched_ext'
is "$(find "$ksrc" -newer "$T/before" | head -n 5)" '' 'the source tree is still not written'
done_testing
