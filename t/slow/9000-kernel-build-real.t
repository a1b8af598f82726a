#!/bin/sh
# kernel build --source on a real kernel tree, end to end: defconfig plus
# the fragment, a full compile, compile_commands.json, the cache entry, a
# cache hit on the second run, and a boot of the image under QEMU (TCG)
# up to the point where it looks for a root file system.
#
# This takes most of an hour on 2 cores and about 7 GB of disk, so it runs
# with `make check-slow`, not `make check`.
KTSTR_SRC=${KTSTR_SRC:-$(cd "${0%/*}/../.." && pwd)}
. "${0%/*}/../lib/test-lib.sh"
require_assets

git_q() {
	git -c user.name=ktstr -c user.email=ktstr@example.invalid -c init.defaultBranch=master "$@"
}

# The asset tree is shared: build a committed copy, so the entry is cached.
tree=$T/linux
cp -a "$KTSTR_ASSET_KSRC" "$tree"
git_q -C "$tree" init -q
# Debian's linux-source tree has a .gitignore that ignores its whole top
# level (a packaging leftover), so the files are added with -f.
git_q -C "$tree" add -A -f
git_q -C "$tree" commit -qm 'linux-source tree from the test assets'
short=$(git -C "$tree" rev-parse --short=7 HEAD)
hash=$(ktstr-kconfig --hash)

started=$(date +%s)
expect_status 0 'a real tree builds and caches' ktstr kernel build --source "$tree"
finished=$(date +%s)
diag "kernel build --source took $((finished - started)) s"
key=local-$short-x86_64-kc$hash
is "$(jq -r .key "$out")" "$key" 'the key names the commit and the fragment'
is "$(jq -r .cached "$out")" true 'the kernel is cached'
image=$(jq -r .image_path "$out")
is "$image" "$KTSTR_CACHE_DIR/$key/bzImage" 'the image is in the cache'
like "$(file -b "$image")" 'Linux kernel x86 boot executable' 'the image is a bzImage'
is "$(jq -c .kconfig_dropped "$out")" '[]' 'no fragment option was dropped'
for option in CONFIG_SCHED_CLASS_EXT=y CONFIG_DEBUG_INFO_BTF=y CONFIG_FUNCTION_TRACER=y; do
	check "the cached config has $option" grep -qx "$option" "$KTSTR_CACHE_DIR/$key/config"
done
vmlinux=$(jq -r .vmlinux_path "$out")
check 'the cached vmlinux has BTF' sh -c "readelf -S '$vmlinux' | grep -q '\\.BTF'"
check 'compile_commands.json is written' sh -c "jq -e 'length > 1000' '$tree/compile_commands.json' >/dev/null"

expect_status 0 'the second run is a cache hit' ktstr kernel build --source "$tree"
like "$(cat "$err")" "cached kernel found: $key" 'the hit is announced'

# Boot to the root file system panic: the kernel starts and knows sched_ext.
timeout 300 qemu-system-x86_64 -accel tcg -m 512 -smp 2 -nographic -no-reboot \
	-kernel "$image" -append 'console=ttyS0 panic=-1 mitigations=off' >"$T/boot.log" 2>&1
like "$(cat "$T/boot.log")" 'Linux version 7\.' 'the kernel boots'
like "$(cat "$T/boot.log")" 'VFS: Unable to mount root fs|No working init found|Kernel panic' \
	'it runs until it needs a root file system'
done_testing
