#!/bin/sh
# ktstr kernel build: the whole chain (fetch, kconfig, build, cache) against
# a kernel.org stand-in on 127.0.0.1, a local bare git repository and local
# trees, all built from the fixture tree whose Makefile plays kbuild.
. "${0%/*}/lib/test-lib.sh"
. "$KTSTR_SRC/t/fixtures/fetch/server.sh"

git_q() {
	git -c user.name=ktstr -c user.email=ktstr@example.invalid -c init.defaultBranch=master "$@"
}

# entries: the cache entries (not dot directories) under the cache root.
entries() {
	find "$KTSTR_CACHE_DIR" -mindepth 1 -maxdepth 1 ! -name '.*' 2>/dev/null | wc -l | tr -d ' '
}

start_mirror
hash=$(ktstr-kconfig --hash)

expect_status 0 'help exits 0' ktstr kernel build --help
like "$(cat "$out")" '^Usage: ktstr kernel build' 'help names the command'
expect_status 0 'cargo form help' cargo-ktstr ktstr kernel build --help
like "$(cat "$out")" '^Usage: cargo ktstr kernel build' 'cargo help names cargo ktstr'

expect_status 2 'VERSION with --source is a usage error' ktstr kernel build 6.14.2 --source "$T"
like "$(head -n 1 "$err")" "^ktstr: kernel build: VERSION '6.14.2' conflicts with --source$" 'the conflict is named'
like "$(tail -n 1 "$err")" "Try 'ktstr kernel build --help'" 'the help is pointed to'
expect_status 2 'VERSION with --git is a usage error' ktstr kernel build 6.14.2 --git file:///x --ref v1
expect_status 2 '--git without --ref is a usage error' ktstr kernel build --git file:///x
expect_status 2 '--clean without --source is a usage error' ktstr kernel build --clean 6.14.2
like "$(head -n 1 "$err")" '--clean only applies to --source' '--clean misuse is named'
expect_status 2 'bad --jobs is a usage error' ktstr kernel build -j none 6.14.2
is "$(entries)" 0 'usage errors cache nothing'

# A release, by series.
expect_status 0 'series builds and caches' ktstr kernel build 6.12
key=6.12.23-tarball-x86_64-kc$hash
is "$(jq -r .key "$out")" "$key" 'the key names version, source, arch and fragment hash'
is "$(jq -r .cached "$out")" true 'the kernel is cached'
is "$(jq -r .image_path "$out")" "$KTSTR_CACHE_DIR/$key/bzImage" 'image_path is inside the cache'
check 'the image exists' test -s "$KTSTR_CACHE_DIR/$key/bzImage"
is "$(find "$KTSTR_CACHE_DIR/.build" -mindepth 1 | wc -l | tr -d ' ')" 0 'the unpacked tree is removed'
is "$(requests 'linux-6.12.23.tar.xz')" 1 'the tarball is downloaded once'

: >"$T/httpd.log"
expect_status 0 'a cached kernel is not rebuilt' ktstr kernel build 6.12.23
like "$(cat "$err")" "cached kernel found: $key \\(use --force to rebuild\\)" 'the hit is announced'
is "$(jq -r .image_path "$out")" "$KTSTR_CACHE_DIR/$key/bzImage" 'the hit prints the cached image'
is "$(jq -r .cached "$out")" true 'the hit says cached'
is "$(requests 'tar.xz')" 0 'a hit downloads nothing'
is "$(requests 'releases.json')" 0 'an exact version needs no releases.json'

expect_status 0 '--force rebuilds' ktstr kernel build --force 6.12.23
is "$(requests 'linux-6.12.23.tar.xz')" 1 '--force downloads again'
like "$(cat "$err")" "replaced cached kernel $key" 'the entry is replaced'
is "$(entries)" 1 'still one entry'

# Another fragment means another key: the old entry is stale, and rebuilt.
mkdir "$T/share"
cp "$KTSTR_SRC/share/ktstr.kconfig" "$T/share/ktstr.kconfig"
echo '# a local change' >>"$T/share/ktstr.kconfig"
KTSTR_SHARE_DIR=$T/share expect_status 0 'a changed fragment rebuilds' ktstr kernel build 6.12.23
new_hash=$(KTSTR_SHARE_DIR=$T/share ktstr-kconfig --hash)
is "$(jq -r .key "$out")" "6.12.23-tarball-x86_64-kc$new_hash" 'the new key has the new hash'
is "$(entries)" 2 'the stale entry stays beside the new one'

expect_status 2 'a missing release fails' ktstr kernel build 6.13.5
like "$(cat "$err")" 'kernel 6.13.5 not found' 'the fetch error is shown'
like "$(cat "$err")" 'ktstr-fetch failed \(exit 2\); nothing was cached' 'the failed step is named'
unlike "$(cat "$err")" 'no kernel descriptor' 'later steps add no error of their own'
is "$(entries)" 2 'a failed fetch caches nothing'

# A local git tree: built in place, cached under its commit.
tree=$T/linux
cp -R "$KTSTR_SRC/t/fixtures/kernel-tree" "$tree"
git_q -C "$tree" init -q
git_q -C "$tree" add .
git_q -C "$tree" commit -qm 'fixture tree'
short=$(git -C "$tree" rev-parse --short=7 HEAD)
expect_status 0 'a clean local tree builds and caches' ktstr kernel build --source "$tree"
is "$(jq -r .key "$out")" "local-$short-x86_64-kc$hash" 'the key has the short commit'
is "$(jq -r .cached "$out")" true 'a clean tree is cached'
check 'compile_commands.json is written for --source' test -s "$tree/compile_commands.json"
is "$(wc -l <"$tree/.fixture-builds" | tr -d ' ')" 1 'one build'
expect_status 0 'the same commit is a cache hit' ktstr kernel build --source "$tree"
like "$(cat "$err")" 'cached kernel found' 'the hit is announced'
is "$(wc -l <"$tree/.fixture-builds" | tr -d ' ')" 1 'no second build'

expect_status 0 '--clean rebuilds from mrproper' ktstr kernel build --force --clean --source "$tree"
check 'mrproper ran' grep -q 'mrproper' "$tree/.ktstr-kconfig.log"
is "$(wc -l <"$tree/.fixture-builds" | tr -d ' ')" 1 'mrproper reset the build count, then one build'

echo '/* local change */' >>"$tree/init/main.c"
before=$(entries)
expect_status 0 'a dirty tree builds' ktstr kernel build --source "$tree"
like "$(cat "$err")" "'$tree' is built but not cached: it has uncommitted changes to tracked files" \
	'the reason is given before the build'
is "$(jq -r .cached "$out")" false 'the descriptor says not cached'
is "$(jq -r .image_path "$out")" "$tree/arch/x86/boot/bzImage" 'the image is the tree image'
is "$(entries)" "$before" 'a dirty tree adds no entry'

plain=$T/plain
cp -R "$KTSTR_SRC/t/fixtures/kernel-tree" "$plain"
expect_status 0 'a tree outside git builds' ktstr kernel build --source "$plain"
like "$(cat "$err")" 'built but not cached: it is not in a git repository' 'outside git is named'
is "$(entries)" "$before" 'a tree outside git adds no entry'

expect_status 2 '--source on a directory that is not a kernel tree fails' ktstr kernel build --source "$T/share"
like "$(cat "$err")" "not a kernel source tree '$T/share'" 'the directory is named'
one_line_error 'not-a-tree error is one line'

broken=$T/broken
cp -R "$KTSTR_SRC/t/fixtures/kernel-tree" "$broken"
echo '#error broken on purpose' >>"$broken/kernel/sched/ext.c"
git_q -C "$broken" init -q
git_q -C "$broken" add .
git_q -C "$broken" commit -qm broken
before=$(entries)
expect_status 2 'a failing build fails' ktstr kernel build --source "$broken"
like "$(cat "$err")" "make failed in '$broken' \\(exit 2\\): kernel/sched/ext.c:3:2: error: #error broken on purpose; see the log '$broken/.ktstr-build.log'" \
	'the compiler error and the log are named'
like "$(cat "$err")" 'ktstr-build failed \(exit 2\); nothing was cached' 'the failed step is named'
is "$(entries)" "$before" 'a failed build leaves the cache untouched'
is "$(cat "$out")" '' 'no descriptor after a failed build'

noscx=$T/noscx
cp -R "$KTSTR_SRC/t/fixtures/kernel-tree" "$noscx"
echo CONFIG_SCHED_CLASS_EXT >"$noscx/scripts/kconfig-unsupported"
git_q -C "$noscx" init -q
git_q -C "$noscx" add .
git_q -C "$noscx" commit -qm 'no sched_ext'
expect_status 1 'a kernel without sched_ext fails with 1' ktstr kernel build --source "$noscx"
like "$(cat "$err")" 'cannot run sched_ext' 'the reason is given'
unlike "$(cat "$err")" 'no kernel descriptor' 'ktstr-build stays quiet after ktstr-kconfig failed'

# A git ref: resolved with ls-remote, so a hit needs no clone.
git_q -C "$tree" checkout -q -- .
git_q -C "$tree" tag -a v6.14 -m tag
git_q clone -q --bare "$tree" "$T/repo.git"
expect_status 0 'a git ref builds and caches' ktstr kernel build --git "file://$T/repo.git" --ref v6.14
is "$(jq -r .key "$out")" "v6.14-git-$short-x86_64-kc$hash" 'the key has ref and commit'
is "$(find "$KTSTR_CACHE_DIR/.build" -mindepth 1 | wc -l | tr -d ' ')" 0 'the clone is removed'
expect_status 0 'the same ref is a cache hit' ktstr kernel build --git "file://$T/repo.git" --ref v6.14
like "$(cat "$err")" 'cached kernel found' 'the hit is announced'
unlike "$(cat "$err")" 'cloning' 'a hit clones nothing'

# Two builds of one key at once: one builds, the other waits and reuses it.
race=$T/race
cp -R "$KTSTR_SRC/t/fixtures/kernel-tree" "$race"
git_q -C "$race" init -q
git_q -C "$race" add .
git_q -C "$race" commit -qm race
FIXTURE_BUILD_SECONDS=3 ktstr kernel build --source "$race" >"$T/first.out" 2>"$T/first.err" &
first=$!
tries=0
while [ ! -e "$race/.ktstr-build.log" ] && [ $tries -lt 200 ]; do
	tries=$((tries + 1))
	sleep 0.1
done
FIXTURE_BUILD_SECONDS=3 ktstr kernel build --source "$race" >"$T/second.out" 2>"$T/second.err"
second_status=$?
wait "$first"
is "$?" 0 'the first build succeeds'
is "$second_status" 0 'the waiting build succeeds'
like "$(cat "$T/second.err")" 'another process is building local-.*; waiting for it' 'the wait is announced'
like "$(cat "$T/second.err")" 'cached kernel found' 'the waiting build reuses the entry'
is "$(wc -l <"$race/.fixture-builds" | tr -d ' ')" 1 'the kernel was built once'
is "$(jq -r .image_path "$T/second.out")" "$(jq -r .image_path "$T/first.out")" 'both print the same image'

# A tree edited while it builds is not cached under the commit it had.
moving=$T/moving
cp -R "$KTSTR_SRC/t/fixtures/kernel-tree" "$moving"
git_q -C "$moving" init -q
git_q -C "$moving" add .
git_q -C "$moving" commit -qm moving
before=$(entries)
FIXTURE_BUILD_SECONDS=3 ktstr kernel build --source "$moving" >"$T/moving.out" 2>"$T/moving.err" &
builder=$!
tries=0
while [ ! -e "$moving/.ktstr-build.log" ] && [ $tries -lt 200 ]; do
	tries=$((tries + 1))
	sleep 0.1
done
echo '/* edited during the build */' >>"$moving/init/main.c"
wait "$builder"
is "$?" 0 'a tree edited during its build still builds'
like "$(cat "$T/moving.err")" "'$moving' changed while it was built; the kernel is not cached" \
	'the change is reported'
is "$(jq -r .cached "$T/moving.out")" false 'the descriptor says not cached'
is "$(entries)" "$before" 'no entry for the edited tree'

# The deprecated spelling.
dep=$T/dep
cp -R "$KTSTR_SRC/t/fixtures/kernel-tree" "$dep"
expect_status 0 'build-kernel still works' ktstr build-kernel --kernel "$dep"
like "$(head -n 1 "$err")" "^ktstr: warning: 'build-kernel' is deprecated; use 'ktstr kernel build --source $dep'" \
	'the deprecation is the first line'
is "$(jq -r .image_path "$out")" "$dep/arch/x86/boot/bzImage" 'it builds like kernel build --source'
expect_status 2 'build-kernel without --kernel is a usage error' ktstr build-kernel
done_testing
