#!/bin/sh
# ktstr-build on the fixture tree, whose Makefile plays kbuild: images,
# no-op rebuilds, compile_commands.json, O= and a failing build.
. "${0%/*}/lib/test-lib.sh"

tree=$T/linux
cp -R "$KTSTR_SRC/t/fixtures/kernel-tree" "$tree"

expect_status 0 'help exits 0' ktstr-build --help
like "$(cat "$out")" '^Usage: ktstr-build' 'help starts with the usage line'
for option in $(grep -Eo -- '--[a-z][a-z-]+' "$out" | sort -u); do
	like "$(cat "$KTSTR_SRC/man/ktstr-build.1.scd")" "\\$option" "man page documents $option"
done

expect_status 2 'an unconfigured tree fails' ktstr-build "$tree"
like "$(cat "$err")" "no .config in '$tree': configure the tree first with ktstr-kconfig" 'the fix is named'
one_line_error 'unconfigured error is one line'

ktstr-kconfig "$tree" >"$T/configured.json" 2>/dev/null
run sh -c "ktstr-build <'$T/configured.json'"
is "$status" 0 'configured tree builds'
is "$(jq -r .image_path "$out")" "$tree/arch/x86/boot/bzImage" 'image_path is the bzImage'
is "$(jq -r .vmlinux_path "$out")" "$tree/vmlinux" 'vmlinux_path is set'
like "$(jq -r .built_at "$out")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' 'built_at is UTC'
is "$(jq -r .kconfig_hash "$out")" "$(jq -r .kconfig_hash "$T/configured.json")" 'fields of earlier steps are kept'
check 'the image exists' test -s "$tree/arch/x86/boot/bzImage"
check 'compile_commands.json is written' jq -e 'length == 2' "$tree/compile_commands.json"
check 'the build ran with KCFLAGS=-Wno-error' grep -q 'KCFLAGS=-Wno-error' "$tree/.ktstr-build.log"
like "$(grep '^\$ make' "$tree/.ktstr-build.log" | head -n 1)" " -j[0-9]+ KCFLAGS=-Wno-error$" \
	'make runs with -j and no target'
is "$(wc -l <"$tree/.fixture-builds" | tr -d ' ')" 1 'one build so far'

run sh -c "ktstr-build --field image_path <'$T/configured.json'"
is "$(cat "$out")" "$tree/arch/x86/boot/bzImage" '--field prints the image path'
is "$(wc -l <"$tree/.fixture-builds" | tr -d ' ')" 1 'a built tree is not rebuilt'

rm "$tree/compile_commands.json"
run ktstr-build --no-compile-commands -j 1 "$tree"
is "$status" 0 'build without compile_commands.json'
check 'no compile_commands.json' test ! -e "$tree/compile_commands.json"
check '-j 1 reaches make' grep -q -- ' -j1 ' "$tree/.ktstr-build.log"

# Out of tree, as kbuild's O= does it.
clean=$T/clean-tree
cp -R "$KTSTR_SRC/t/fixtures/kernel-tree" "$clean"
ktstr-kconfig --build-dir "$T/out" "$clean" >"$T/out.json" 2>/dev/null
run sh -c "ktstr-build <'$T/out.json'"
is "$status" 0 'out-of-tree build succeeds'
is "$(jq -r .image_path "$out")" "$T/out/arch/x86/boot/bzImage" 'the image is in the build directory'
check 'the source tree has no image' test ! -e "$clean/arch/x86/boot/bzImage"

echo '#error broken on purpose' >>"$tree/kernel/sched/ext.c"
expect_status 2 'a failing build fails' ktstr-build "$tree"
like "$(cat "$err")" "make failed in '$tree' \\(exit 2\\): kernel/sched/ext.c:3:2: error: #error broken on purpose; see the log '$tree/.ktstr-build.log'" \
	'the first compiler error and the log are named'
is "$(grep -vc 'building' "$err")" 1 'the error is one line'
is "$(cat "$out")" '' 'no descriptor after a failed build'

expect_status 2 'a bad --jobs is a usage error' ktstr-build -j 0 "$tree"
expect_status 2 'a directory that is not a kernel tree fails' ktstr-build "$T"
like "$(cat "$err")" "not a kernel source tree '$T'" 'the directory is named'
done_testing
