#!/bin/sh
# ktstr-vm --exec on Debian's sched_ext kernel under TCG: the exit status,
# the output streams, included files with their libraries, kernel discovery
# through the cache and its lock, cargo ktstr shell and the --json report.
# Three boots.
: "${KTSTR_ASSET_DIR:=${XDG_CACHE_HOME:-$HOME/.cache}/ktstr/test-assets}"
export KTSTR_ASSET_DIR
. "${0%/*}/lib/test-lib.sh"
require_assets
export KTSTR_ACCEL=tcg
# ktstr-vm keeps its sockets and initrd in $TMPDIR; it must be empty after each run.
export TMPDIR=$T/tmp
mkdir "$TMPDIR"

image=$KTSTR_ASSET_KERNEL
json_true() {
	jq -e "$1" "$out" >/dev/null
}
initramfs_cache=$HOME/.cache/ktstr/initramfs

# An included tree: a script in bin/ (so on the guest's PATH) and data.
mkdir -p "$T/tree/bin" "$T/tree/sub"
printf '#!/bin/sh\necho "script ran from $0"\n' >"$T/tree/bin/hello"
chmod +x "$T/tree/bin/hello"
echo 'included data' >"$T/tree/sub/data.txt"

# A program whose library lies outside the system directories: the guest
# finds it only through the LD_LIBRARY_PATH that ktstr-vm sets.
mkdir -p "$T/lib"
printf 'int ktstr_stub(void) { return 42; }\n' >"$T/stub.c"
printf 'int ktstr_stub(void);\nint main(void) { return ktstr_stub(); }\n' >"$T/prog.c"
cc -shared -fPIC -o "$T/lib/libktstrstub.so" "$T/stub.c" &&
	cc -o "$T/tree/bin/stubbed" "$T/prog.c" -L"$T/lib" -lktstrstub ||
	echo 'Bail out! cannot compile the test program'

# Boot 1: status 3, stdout and stderr apart, the console live on stderr,
# a dynamically linked host program (jq needs libjq and libonig) and a tree.
run env LD_LIBRARY_PATH="$T/lib" ktstr-vm --kernel "$image" --allow-image --dmesg -i jq -i "$T/tree" --exec '
echo "state=$(cat /sys/kernel/sched_ext/state)"
echo "jq=$(echo "{\"a\":41}" | jq -c ".a + 1")"
hello
cat /include-files/tree/sub/data.txt
echo "path=$PATH"
stubbed; echo "stubbed=$?"
sh -c "kill -PIPE \$\$"; echo "sigpipe=$?"
echo to-stderr >&2
printf "KTSTR exit 1\n7\n" >/dev/console
printf "<0>KTSTR exit 1\n7\n" >/dev/kmsg
exit 3'
is "$status" 3 'exec: the guest status 3 is the exit status'
like "$(cat "$err")" 'KTSTR exit 1' 'a forged exit record reached the console'
unlike "$(cat "$out")" 'KTSTR' 'and never the output'
is "$(sed -n 1p "$out")" 'state=disabled' 'sched_ext is disabled before any scheduler'
is "$(sed -n 2p "$out")" 'jq=42' 'included dynamic program runs with its libraries'
is "$(sed -n 3p "$out")" 'script ran from /include-files/tree/bin/hello' 'included script found on PATH'
is "$(sed -n 4p "$out")" 'included data' 'included directory keeps its structure'
like "$(sed -n 5p "$out")" '^path=/include-files:/include-files/tree/bin:' 'included program directories lead PATH'
is "$(sed -n 6p "$out")" 'stubbed=42' 'a library outside the system directories is found'
is "$(sed -n 7p "$out")" 'sigpipe=141' 'commands get the default SIGPIPE action'
is "$(wc -l <"$out" | tr -d ' ')" 7 'stdout holds only the command output'
like "$(cat "$err")" 'to-stderr' 'guest stderr reaches stderr'
like "$(cat "$err")" 'Linux version 7\.' '--dmesg copies the console to stderr'
like "$(cat "$err")" 'Command line: .*loglevel=7' '--dmesg sets loglevel=7'
unlike "$(cat "$out")" 'Linux version' 'console never reaches stdout'
ls "$initramfs_cache"/*.cpio >"$T/cache-1" 2>/dev/null
is "$(wc -l <"$T/cache-1" | tr -d ' ')" 1 'the base initramfs is cached'

# Boot 2: no --kernel: the newest kernel in the cache.  Much output, then a
# command that does not exist: 127, and every line arrives.
ktstr-cache store --image "$image" --config "$KTSTR_ASSET_KCONFIG" >/dev/null 2>"$T/store.err" ||
	diag "ktstr-cache store failed: $(cat "$T/store.err")"
# While it boots, the cache entry is locked: 'ktstr-cache clean' skips it.
ktstr-vm --accel auto --exec 'sleep 4; seq 1 100000; no-such-command' >"$T/boot2.out" 2>"$T/boot2.err" </dev/null &
vm=$!
sleep 2
ktstr-cache clean --force >/dev/null 2>"$T/clean.err"
wait "$vm"
status=$? out=$T/boot2.out err=$T/boot2.err
like "$(cat "$T/clean.err")" "not removing cached kernel '.*': it is in use" 'a booting kernel is not cleaned'
check 'the booting kernel stays in the cache' test -f "$KTSTR_CACHE_DIR/$(ls "$KTSTR_CACHE_DIR" | grep image)/bzImage"
is "$status" 127 'exec: a missing command exits 127'
like "$(cat "$err")" 'using (TCG|KVM): ' '--accel auto names its choice and why'
like "$(cat "$err")" 'no-such-command: not found' 'the guest shell says what is missing'
like "$(cat "$err")" "booting $KTSTR_CACHE_DIR/.*/bzImage from the cache" 'no --kernel: the cached kernel is booted'
is "$(wc -l <"$out" | tr -d ' ')" 100000 'all 100000 lines of stdout arrive'
is "$(tail -n 1 "$out")" 100000 'stdout arrives in order to its end'
stat -c '%n %Y %s' "$initramfs_cache"/*.cpio >"$T/cache-2"

# Boot 3: through cargo ktstr shell, --kernel as a version from the cache,
# status 0, the JSON report.
kver=$KTSTR_ASSET_KVER
run cargo-ktstr ktstr shell --kernel "$kver" --json --append ktstr_test_arg=1 \
	--exec 'echo json-stdout; grep -o ktstr_test_arg=1 /proc/cmdline'
is "$status" 0 'exec: true exits 0'
check 'the JSON report parses' json_true .
is "$(jq -r .outcome "$out")" exited 'json: outcome exited'
is "$(jq -r .status "$out")" 0 'json: status 0'
is "$(jq -r .guest_status "$out")" 0 'json: guest status 0'
is "$(jq -r .stdout "$out" | sed -n 1p)" json-stdout 'json: the guest stdout is inside'
is "$(jq -r .stdout "$out" | sed -n 2p)" ktstr_test_arg=1 '--append reaches the kernel command line'
is "$(jq -r .accel "$out")" tcg 'json: accel tcg'
is "$(jq -r .topology "$out")" 1n1l1c1t 'json: the topology label'
is "$(jq -r .kernel_version "$out")" "$kver" 'json: the version from the image header'
like "$(jq -r .kernel_image "$out")" "^$KTSTR_CACHE_DIR/.*/bzImage$" 'json: the image in the cache'
is "$(jq -r '.records[0].kind + " " + .records[0].payload' "$out")" "ready $kver" 'json: the guest reported its release'
check 'json: boot and run times are numbers' json_true '(.boot_seconds > 0) and (.run_seconds >= .boot_seconds)'
check 'json: memory at least 256 MiB' json_true '.memory_mb >= 256'
is "$(jq -c .kvm_stats "$out")" null 'json: no KVM statistics under TCG'
stat -c '%n %Y %s' "$initramfs_cache"/*.cpio >"$T/cache-3"
is "$(cat "$T/cache-3")" "$(cat "$T/cache-2")" 'an unchanged input set reuses the cached initramfs'
is "$(ls -A "$TMPDIR")" '' 'no socket directory left behind'
done_testing
