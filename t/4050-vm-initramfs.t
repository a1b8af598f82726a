#!/bin/sh
# The initramfs: what goes into it, the shared libraries of included
# programs, and the cache.  No VM boots: --memory-mb far beyond the host
# makes QEMU fail at once, after ktstr-vm has built or found the archive.
: "${KTSTR_ASSET_DIR:=${XDG_CACHE_HOME:-$HOME/.cache}/ktstr/test-assets}"
export KTSTR_ASSET_DIR
. "${0%/*}/lib/test-lib.sh"
require_assets
export KTSTR_ACCEL=tcg KTSTR_TEST_KERNEL=$KTSTR_ASSET_KERNEL
cache=$HOME/.cache/ktstr/initramfs

# build ARGS...: run ktstr-vm up to QEMU's start; $err holds its messages.
build() {
	run ktstr-vm -v --memory-mb 16000000 "$@" --exec true
}
# How the last build went: "built" or "cached".
how() {
	sed -n 's/.*initramfs: \(built\|cached\) in .*/\1/p' "$err"
}
count() {
	ls "$cache" | grep -c "\.$1\$"
}

# A program that needs a library outside the system directories.
mkdir -p "$T/lib" "$T/files"
printf 'int ktstr_stub(void) { return 1; }\n' >"$T/stub.c"
printf 'int ktstr_stub(void);\nint main(void) { return ktstr_stub(); }\n' >"$T/prog.c"
cc -shared -fPIC -o "$T/lib/libktstrstub.so" "$T/stub.c" &&
	cc -o "$T/files/prog" "$T/prog.c" -L"$T/lib" -lktstrstub ||
	echo 'Bail out! cannot compile the test program'
echo data >"$T/files/data.txt"

build
is "$(how)" built 'a cold cache builds the base archive'
is "$status" 125 'QEMU refused the memory, as intended'
build
is "$(how)" cached 'the same inputs reuse it'
archive=$(ls "$cache"/*.cpio)
listing=$(cpio -it --quiet <"$archive")
for path in init bin/busybox dev/console etc/passwd include-files; do
	like "$listing" "^$path\$" "the base archive has /$path"
done

build -i "$T/files"
is "$(how)" '' 'a missing library stops the build'
like "$(cat "$err")" "cannot find the shared libraries of '$T/files/prog': libktstrstub\.so" \
	'the missing library is named'
is "$(count key)" 1 'a failed build leaves no key'

LD_LIBRARY_PATH=$T/lib build -i "$T/files"
is "$(how)" built 'LD_LIBRARY_PATH finds the library'
key=$(grep -l libktstrstub "$cache"/*.key)
archive=$cache/$(sed -n 's/^archive //p' "$key")
listing=$(cpio -it --quiet <"$archive")
like "$listing" '^include-files/files/prog$' 'the directory is under /include-files'
like "$listing" '^include-files/files/data\.txt$' 'its other files too'
like "$listing" "^${T#/}/lib/libktstrstub\.so\$" 'the library at the path it was found'
like "$listing" '^lib64/ld-linux-x86-64\.so\.2$' 'the dynamic loader at its PT_INTERP path'
like "$listing" '^usr/lib/x86_64-linux-gnu/libc\.so\.6$' 'libc at its real path'
check 'the library directory goes on the guest LD_LIBRARY_PATH' grep -q "^env LD_LIBRARY_PATH=$T/lib\$" "$key"

LD_LIBRARY_PATH=$T/lib build -i "$T/files"
is "$(how)" cached 'an included directory is reused unchanged'
archives=$(count cpio)
touch "$T/files/data.txt"
LD_LIBRARY_PATH=$T/lib build -i "$T/files"
is "$(how)" built 'a touched file is checked again'
is "$(count cpio)" "$archives" 'same content, same archive'
echo changed >"$T/files/data.txt"
LD_LIBRARY_PATH=$T/lib build -i "$T/files"
is "$(how)" built 'a changed file rebuilds'
is "$(count cpio)" $((archives + 1)) 'new content, a new archive'
touch "$T/lib/libktstrstub.so"
LD_LIBRARY_PATH=$T/lib build -i "$T/files"
is "$(how)" built 'a changed library rebuilds'

# Only the 16 most recently used input sets stay.
for i in $(seq 1 18); do
	echo "$i" >"$T/n$i"
	build -i "$T/n$i"
done
is "$(count key)" 16 'the cache keeps 16 input sets'
check 'every kept key names an archive that exists' sh -c '
	for key in "$1"/*.key; do
		name=$(sed -n "s/^archive //p" "$key")
		test -f "$1/$name" || exit 1
	done' - "$cache"
is "$(count cpio)" 16 'archives no key names are removed'

# Concurrent runs with different inputs on a cold cache: each one's pruning
# must leave the others' new archives alone.
rm -rf "$cache"
pids=
for i in 1 2 3 4 5 6; do
	echo "parallel $i" >"$T/p$i"
	ktstr-vm -v --memory-mb 16000000 -i "$T/p$i" --exec true >"$T/p$i.out" 2>"$T/p$i.err" &
	pids="$pids $!"
done
for pid in $pids; do
	wait "$pid"
done
is "$(cat "$T"/p?.err | grep -c 'initramfs: built in')" 6 'every concurrent run built its archive'
unlike "$(cat "$T"/p?.err)" 'changed while it was written' 'no concurrent run lost its archive'
done_testing
