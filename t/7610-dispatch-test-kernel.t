#!/bin/sh
# cargo ktstr test --kernel: which kernel reaches the tests, through the
# nextest stand-in (records the environment) and through the real cargo test
# fallback (a fixture test records it), and the errors for kernels that
# cannot be resolved.  No VM boots here.
#
# test-lib.sh points HOME at the scratch directory; rustup's proxies need
# the real toolchain directory and the assets their cache directory.
: "${RUSTUP_HOME:=${HOME:-/root}/.rustup}"
: "${KTSTR_ASSET_DIR:=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/ktstr/test-assets}"
export RUSTUP_HOME KTSTR_ASSET_DIR
. "${0%/*}/lib/test-lib.sh"
require_assets

export CARGO_TARGET_DIR=$T/target
export KTSTR_STANDIN_LOG=$T/log
mkdir -p "$KTSTR_STANDIN_LOG" "$T/standins"
ln -s "$KTSTR_SRC/t/fixtures/standins/cargo-nextest" "$T/standins/cargo-nextest"
cp -r "$KTSTR_SRC/t/fixtures/cargo-tests" "$T/project"
cd "$T/project" || exit 1
unset CARGO
with_nextest=$T/standins:$PATH

env_value() {
	grep "^$1=" "$KTSTR_STANDIN_LOG/cargo-nextest.env" | cut -d= -f2- | grep . || echo unset
}

image=$(readlink -f "$KTSTR_ASSET_KERNEL")

# A boot image file is taken as it is.
PATH=$with_nextest expect_status 0 'image file --kernel runs the tests' \
	cargo-ktstr ktstr test --kernel "$KTSTR_ASSET_KERNEL" -- --workspace
is "$(env_value KTSTR_KERNEL)" "$image" 'image file is exported as KTSTR_KERNEL'
is "$(env_value KTSTR_TEST_KERNEL)" "$image" 'image file is exported as KTSTR_TEST_KERNEL'
check 'image file run names the kernel' grep -Fqx "cargo ktstr: using kernel $image" "$err"

# A cached kernel: its entry directory and the image in it.
run ktstr-cache store --image "$KTSTR_ASSET_KERNEL" --config "$KTSTR_ASSET_KCONFIG" --field key
is "$status" 0 'asset kernel stored in the private cache'
key=$(cat "$out")
entry=$KTSTR_CACHE_DIR/$key
series=$(echo "$KTSTR_ASSET_KVER" | cut -d. -f1-2)

PATH=$with_nextest expect_status 0 'cache key --kernel runs the tests' \
	cargo-ktstr ktstr test --kernel "$key"
is "$(env_value KTSTR_KERNEL)" "$entry" 'cache key exports the entry directory'
is "$(env_value KTSTR_TEST_KERNEL)" "$entry/bzImage" 'cache key exports the image in the entry'
check 'cache key run names the entry' grep -Fqx "cargo ktstr: using kernel $entry" "$err"

PATH=$with_nextest expect_status 0 'series --kernel runs the tests' \
	cargo-ktstr ktstr test --kernel="$series"
is "$(env_value KTSTR_KERNEL)" "$entry" 'series resolves to the cached entry'

# Several kernels: the first is KTSTR_KERNEL, all of them are listed with
# their labels, a blank value is dropped and a kernel named twice is tested
# once.
# crc24 TEXT: the last 6 hex digits of the CRC-32 of TEXT (gzip's trailer
# holds the CRC-32, little-endian).
crc24() {
	printf '%s' "$1" | gzip -c | tail -c 8 | od -An -tx4 | tr -d ' \n' | cut -c3-8
}
hex=$(crc24 "$image")
PATH=$with_nextest expect_status 0 'several --kernel options run the tests' \
	env KTSTR_KERNEL_LIST=stale cargo-ktstr ktstr test --kernel "$KTSTR_ASSET_KERNEL" --kernel ' ' \
	--kernel "$key" --kernel "$series"
is "$(env_value KTSTR_KERNEL)" "$image" 'the first kernel is KTSTR_KERNEL'
is "$(env_value KTSTR_KERNEL_LIST)" "path_vmlinuz_$hex=$image;$KTSTR_ASSET_KVER=$entry" \
	'KTSTR_KERNEL_LIST pairs labels and directories'
is "$(env_value KTSTR_TEST_KERNEL_LIST)" "path_vmlinuz_$hex=$image;$KTSTR_ASSET_KVER=$entry/bzImage" \
	'KTSTR_TEST_KERNEL_LIST pairs labels and images'
check 'each kernel is reported resolved' grep -Fqx "cargo ktstr: resolved kernel \"$KTSTR_ASSET_KVER\"" "$err"
check 'a kernel named twice is tested once' \
	grep -Fqx "cargo ktstr: kernel '$series' is the same as \"$KTSTR_ASSET_KVER\"; testing it once" "$err"
check 'the run names the kernel count' grep -Fqx 'cargo ktstr: running the tests against 2 kernels (KTSTR_KERNEL_LIST)' "$err"

PATH=$with_nextest expect_status 0 'one kernel clears a stale list' \
	env KTSTR_KERNEL_LIST=stale KTSTR_TEST_KERNEL_LIST=stale cargo-ktstr ktstr test --kernel "$key"
is "$(env_value KTSTR_KERNEL_LIST)" unset 'KTSTR_KERNEL_LIST is not passed on'
is "$(env_value KTSTR_TEST_KERNEL_LIST)" unset 'KTSTR_TEST_KERNEL_LIST is not passed on'

# A cache key whose label equals an image path's label is stopped before
# anything is resolved.
run ktstr-cache store --image "$KTSTR_ASSET_KERNEL" --config "$KTSTR_ASSET_KCONFIG" --version "path_vmlinuz_$hex" --field key
clash_key=$(cat "$out")
PATH=$with_nextest expect_status 125 'path and cache key with one label exit 125' \
	cargo-ktstr ktstr test --kernel "$KTSTR_ASSET_KERNEL" --kernel "$clash_key"
is "$(cat "$err")" "cargo ktstr: kernels '$KTSTR_ASSET_KERNEL' and '$clash_key' are both labelled 'path_vmlinuz_$hex'; pass only one of them to cargo ktstr test" \
	'the clash is named before any kernel is resolved'
rm -rf "${KTSTR_CACHE_DIR:?}/$clash_key"

# Paths that KTSTR_KERNEL_LIST cannot carry.
cp "$KTSTR_ASSET_KERNEL" "$T/image=1"
rm -f "$KTSTR_STANDIN_LOG/cargo-nextest.argv"
PATH=$with_nextest expect_status 125 "image named with '=' exits 125" \
	cargo-ktstr ktstr test --kernel "$KTSTR_ASSET_KERNEL" --kernel "$T/image=1"
like "$(tail -n 1 "$err")" "^cargo ktstr: cannot pass kernel '$T/image=1' to the tests: its label 'path_image=1_[0-9a-f]{6}' contains ';', '=' or a control character\$" \
	"label with '=' is named in the last line"
is "$(grep -vc '^cargo ktstr: resolved kernel ' "$err")" 1 "label with '=' error is one line"
mkdir "$T/semi;colon"
cp "$KTSTR_ASSET_KERNEL" "$T/semi;colon/vmlinuz"
PATH=$with_nextest expect_status 125 "path with ';' exits 125" \
	cargo-ktstr ktstr test --kernel "$key" --kernel "$T/semi;colon/vmlinuz"
like "$(cat "$err")" "its path '$T/semi;colon/vmlinuz' contains ';' or a control character" "path with ';' is named"
newline_dir="$T/new
line"
mkdir "$newline_dir"
cp "$KTSTR_ASSET_KERNEL" "$newline_dir/vmlinuz"
PATH=$with_nextest expect_status 125 'path with a newline exits 125' \
	cargo-ktstr ktstr test --kernel "$key" --kernel "$newline_dir/vmlinuz"
like "$(cat "$err")" "contains ';' or a control character" 'path with a newline is named'
check 'bad kernel lists run no runner' test ! -e "$KTSTR_STANDIN_LOG/cargo-nextest.argv"

# Through real cargo test, into the test process.
expect_status 0 'fallback with a cached kernel runs cargo test' \
	env KTSTR_FIXTURE_RECORD="$T/record" cargo-ktstr ktstr test --kernel "$key" -- records
is "$(cat "$T/record" 2>/dev/null)" "$(printf 'KTSTR_KERNEL=%s\nKTSTR_TEST_KERNEL=%s' "$entry" "$entry/bzImage")" \
	'cargo test process sees both kernel variables'

# A source tree is configured and built first.  The fake kbuild tree of
# t/fixtures/kernel-tree builds in a moment; its image is made a copy of the
# real Debian image, because kernel_id checks the bzImage header.
# tree_copy DIR: a copy of the fake tree whose build yields a real image.
tree_copy() {
	cp -r "$KTSTR_SRC/t/fixtures/kernel-tree" "$1"
	sed -i "s|@echo 'fixture bzImage \$(KERNELVERSION)' > \$@|@cp '$KTSTR_ASSET_KERNEL' \$@|" "$1/Makefile"
	grep -Fq "@cp '$KTSTR_ASSET_KERNEL'" "$1/Makefile"
}
check 'fake tree builds a real image' tree_copy "$T/tree"

PATH=$with_nextest expect_status 0 'source tree --kernel runs the tests' cargo-ktstr ktstr test --kernel "$T/tree"
like "$(grep -c . "$T/tree/.fixture-builds" 2>&1)" '^1$' 'source tree was built once'
check 'source tree was configured for sched_ext' grep -qx 'CONFIG_SCHED_CLASS_EXT=y' "$T/tree/.config"
check 'source tree got compile_commands.json' test -s "$T/tree/compile_commands.json"
is "$(env_value KTSTR_KERNEL)" "$T/tree" 'source tree is exported as KTSTR_KERNEL'
is "$(env_value KTSTR_TEST_KERNEL)" "$T/tree/arch/x86/boot/bzImage" 'uncached tree exports its own image'
like "$(cat "$err")" "ktstr-kconfig: .*make defconfig" 'source tree run shows the configure step'
check 'source tree run names the tree' grep -Fqx "cargo ktstr: using kernel $T/tree" "$err"

PATH=$with_nextest expect_status 0 'uncached tree among several kernels runs' \
	cargo-ktstr ktstr test --kernel "$T/tree" --kernel "$key"
is "$(env_value KTSTR_KERNEL_LIST)" "path_tree_$(crc24 "$T/tree")_dirty=$T/tree;$KTSTR_ASSET_KVER=$entry" \
	'an uncached tree is labelled dirty'

# A clean git tree is cached, and the tests get the cached image.
tree_copy "$T/git-tree"
git -C "$T/git-tree" init -q
git -C "$T/git-tree" add -A
git -C "$T/git-tree" -c user.name=ktstr -c user.email=ktstr@localhost commit -qm tree
PATH=$with_nextest expect_status 0 'clean git tree --kernel runs the tests' \
	cargo-ktstr ktstr test --kernel "$T/git-tree"
is "$(env_value KTSTR_KERNEL)" "$T/git-tree" 'git tree is exported as KTSTR_KERNEL'
like "$(env_value KTSTR_TEST_KERNEL)" "^$KTSTR_CACHE_DIR/local-[0-9a-f]+-x86_64-kc[0-9a-f]{8}/bzImage\$" \
	'clean git tree exports its cached image'

# A tree that fails to build stops before the runner.
tree_copy "$T/broken-tree"
echo '#error sched_ext is broken here' >>"$T/broken-tree/kernel/sched/ext.c"
rm -f "$KTSTR_STANDIN_LOG/cargo-nextest.argv"
PATH=$with_nextest expect_status 125 'tree that fails to build exits 125' \
	cargo-ktstr ktstr test --kernel "$T/broken-tree"
like "$(cat "$err")" "cannot build the kernel in '$T/broken-tree'" 'build failure names the tree'
check 'build failure runs no runner' test ! -e "$KTSTR_STANDIN_LOG/cargo-nextest.argv"

# Kernels that cannot be resolved stop before the runner with 125.
rm -f "$KTSTR_STANDIN_LOG/cargo-nextest.argv"
PATH=$with_nextest expect_status 125 'uncached version exits 125' cargo-ktstr ktstr test --kernel 6.99.1
like "$(cat "$err")" "kernel 6\\.99\\.1 is not cached; run 'cargo ktstr kernel build 6\\.99\\.1'" \
	'uncached version names the kernel build to run'
one_line_error 'uncached version error is one line'

PATH=$with_nextest expect_status 125 'ktstr test names ktstr kernel build' ktstr test --kernel 6.99.1
like "$(cat "$err")" "run 'ktstr kernel build 6\\.99\\.1'" 'ktstr test hint uses the ktstr label'

PATH=$with_nextest expect_status 125 'unknown cache key exits 125' cargo-ktstr ktstr test --kernel no-such-key
like "$(cat "$err")" "no-such-key" 'unknown cache key is named'
one_line_error 'unknown cache key error is one line'

PATH=$with_nextest expect_status 125 'missing kernel path exits 125' cargo-ktstr ktstr test --kernel ./no-such-tree
like "$(cat "$err")" "^cargo ktstr: kernel path './no-such-tree' does not exist" 'missing kernel path is named'
one_line_error 'missing kernel path error is one line'

echo 'not a kernel' >"$T/not-an-image"
PATH=$with_nextest expect_status 125 'file that is no image exits 125' cargo-ktstr ktstr test --kernel "$T/not-an-image"
like "$(cat "$err")" "not a boot image" 'file that is no image is named'

mkdir "$T/not-a-tree"
PATH=$with_nextest expect_status 125 'directory that is no tree exits 125' cargo-ktstr ktstr test --kernel "$T/not-a-tree"
like "$(cat "$err")" "'$T/not-a-tree' is not a kernel source tree" 'directory that is no tree is named'
check 'unresolved kernels run no runner' test ! -e "$KTSTR_STANDIN_LOG/cargo-nextest.argv"
done_testing
