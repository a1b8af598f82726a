#!/bin/sh
# ktstr-vm's options and bad input: each is refused before QEMU starts, with
# one line naming the value and the cause, status 125, and nothing left behind.
: "${KTSTR_ASSET_DIR:=${XDG_CACHE_HOME:-$HOME/.cache}/ktstr/test-assets}"
export KTSTR_ASSET_DIR
. "${0%/*}/lib/test-lib.sh"
require_assets

image=$KTSTR_ASSET_KERNEL
# The image path as an extended regular expression ('+' and '.' escaped).
image_re=$(printf '%s' "$image" | sed 's/[.+]/\\&/g')

expect_status 0 '--help exits 0' ktstr-vm --help
help=$(cat "$out")
for option in --kernel --allow-image --topology --memory-mb --include-files --exec --dmesg \
	--timeout --accel --json; do
	like "$help" -- "$option" "help lists $option"
done
like "$help" '124 the run timed out' 'help lists the exit statuses'
is "$(cat "$err")" '' 'help prints nothing on stderr'

# Every option in --help is in the man page, and the other way round.
man_options=$(grep '^\*-' "$KTSTR_SRC/man/ktstr-vm.1.scd" | sed 's/^[^-]*-[a-zA-Z]\*, //' |
	sed -n 's/^[^-]*\(--[a-z][a-z-]*\).*/\1/p' | sort -u)
help_options=$(printf '%s\n' "$help" | sed -n 's/^ *\(-[a-zA-Z], \)\{0,1\}\(--[a-z][a-z-]*\).*/\2/p' | sort -u)
is "$(echo $man_options)" "$(echo $help_options)" 'man page and --help list the same long options'

# ktstr(7) gives the same meaning to 122, 123 and 125 as ktstr-vm does.
status_text() {
	sed -n "/^\\*$1\\*\$/,/^\$/p" "$KTSTR_SRC/man/ktstr.7.scd"
}
like "$(status_text 122)" 'The guest stopped without reporting a status' 'ktstr(7) lists 122'
like "$(status_text 123)" 'The guest kernel panicked' 'ktstr(7) lists 123'
unlike "$(status_text 125)" 'panicked|init failed' 'ktstr(7) 125 is not a panic'

expect_status 0 '--version exits 0' ktstr-vm --version
like "$(cat "$out")" '^ktstr-vm [0-9]+\.[0-9]+' 'version names the program'

# Every refusal below must leave nothing in TMPDIR, where runs keep their files.
export TMPDIR=$T/tmp
mkdir "$TMPDIR"

expect_status 125 'unknown option is refused' ktstr-vm --frobnicate
like "$(cat "$err")" "Try 'ktstr-vm --help'" 'unknown option points at --help'

expect_status 125 'kernel path that does not exist' ktstr-vm --kernel "$T/no/bzImage" --exec true
one_line_error 'missing kernel: one line'
like "$(cat "$err")" "kernel path '$T/no/bzImage' does not exist" 'missing kernel: names the path'

printf 'not a kernel\n' >"$T/notakernel"
expect_status 125 'file that is not a boot image' ktstr-vm --kernel "$T/notakernel" --allow-image --exec true
one_line_error 'not a boot image: one line'
like "$(cat "$err")" "cannot boot '$T/notakernel': not a boot image" 'not a boot image: names the file'

expect_status 125 'raw image without --allow-image' ktstr-vm --kernel "$image" --exec true
like "$(cat "$err")" 'pass --allow-image' 'raw image: says how to allow it'
one_line_error 'raw image: one line'

expect_status 125 'version that is not cached' ktstr-vm --kernel 6.14.2 --exec true
like "$(cat "$err")" "kernel build 6.14.2" 'uncached version: names the kernel build command'

expect_status 125 'topology with a zero' ktstr-vm --kernel "$image" --allow-image --topology 0,1,1,1 --exec true
one_line_error 'topology 0,1,1,1: one line'
like "$(head -1 "$err")" "invalid --topology '0,1,1,1': all values must be >= 1" 'topology 0,1,1,1: says why'

expect_status 125 'LLCs not divisible by nodes' ktstr-vm --kernel "$image" --allow-image --topology 2,3,1,1 --exec true
like "$(head -1 "$err")" "invalid --topology '2,3,1,1': the number of LLCs must be a multiple" \
	'topology 2,3,1,1: says why'

expect_status 125 'topology with three fields' ktstr-vm --topology 1,1,1 --exec true
like "$(head -1 "$err")" "invalid --topology '1,1,1'" 'topology 1,1,1: names the value'

expect_status 125 'memory below the minimum' ktstr-vm --kernel "$image" --allow-image --memory-mb 64 --exec true
like "$(head -1 "$err")" "invalid --memory-mb '64': the minimum is 128" 'memory 64: says the minimum'

expect_status 125 'memory that is not a number' ktstr-vm --memory-mb lots --exec true
like "$(head -1 "$err")" "invalid --memory-mb 'lots'" 'memory lots: names the value'

expect_status 125 'timeout of zero' ktstr-vm --timeout 0 --exec true
like "$(head -1 "$err")" "invalid --timeout '0'" 'timeout 0: names the value'

expect_status 125 'include path that does not exist' ktstr-vm --kernel "$image" --allow-image -i "$T/missing" --exec true
one_line_error 'missing include: one line'
like "$(cat "$err")" "cannot include '$T/missing': no such file or directory" 'missing include: names the path'

expect_status 125 'include name not on PATH' ktstr-vm --kernel "$image" --allow-image -i no-such-program-xyz --exec true
like "$(cat "$err")" "cannot include 'no-such-program-xyz': not found in the working directory or on PATH" \
	'bare include name: searched on PATH'

mkdir -p "$T/a/x" "$T/b/x"
: >"$T/a/x/same"
: >"$T/b/x/same"
expect_status 125 'two includes at one guest path' ktstr-vm --kernel "$image" --allow-image -i "$T/a/x" -i "$T/b/x" --exec true
like "$(cat "$err")" "duplicate include path '/include-files/x/same'" 'duplicate include: names the guest path'

expect_status 125 'invalid accelerator' ktstr-vm --kernel "$image" --allow-image --accel fast --exec true
like "$(cat "$err")" "invalid --accel 'fast': expected auto, kvm or tcg" 'accel: lists the choices'
one_line_error 'invalid accelerator: one line'
# A discovered kernel prints "booting ... from ..." once it is found, so one
# line on stderr shows that the value was checked before the kernel.
KTSTR_TEST_KERNEL=$image KTSTR_ACCEL=fast expect_status 125 'invalid KTSTR_ACCEL' ktstr-vm --exec true
like "$(cat "$err")" "invalid KTSTR_ACCEL 'fast': expected auto, kvm or tcg" 'KTSTR_ACCEL is read'
one_line_error 'invalid KTSTR_ACCEL: checked before the kernel'

KTSTR_BUSYBOX=/etc/passwd expect_status 125 'busybox that is not executable' \
	ktstr-vm --kernel "$image" --allow-image --exec true
like "$(cat "$err")" "busybox '/etc/passwd' is not executable" 'busybox /etc/passwd: says why'
one_line_error 'busybox /etc/passwd: one line'
printf '#!/bin/sh\n' >"$T/script-busybox"
chmod +x "$T/script-busybox"
KTSTR_BUSYBOX=$T/script-busybox expect_status 125 'busybox that is not ELF' \
	ktstr-vm --kernel "$image" --allow-image --exec true
like "$(cat "$err")" "busybox '$T/script-busybox' is not an x86-64 ELF executable" 'busybox script: says why'
one_line_error 'busybox script: one line'
KTSTR_BUSYBOX=$(command -v jq) expect_status 125 'busybox that is dynamically linked' \
	ktstr-vm --kernel "$image" --allow-image --exec true
like "$(cat "$err")" "is dynamically linked, but the guest needs a static one" 'dynamic busybox: says why'
one_line_error 'dynamic busybox: one line'

KTSTR_QEMU=$T/no-qemu expect_status 125 'QEMU that does not exist' ktstr-vm --kernel "$image" --allow-image --exec true
like "$(cat "$err")" "cannot run QEMU '$T/no-qemu': No such file or directory" 'missing QEMU: says why'
one_line_error 'missing QEMU: one line'
KTSTR_QEMU=no-such-qemu-xyz expect_status 125 'QEMU not on PATH' ktstr-vm --kernel "$image" --allow-image --exec true
like "$(cat "$err")" "cannot run QEMU 'no-such-qemu-xyz': not found on PATH" 'QEMU not on PATH: says why'

# The sidecar directory is checked before the VM boots, not after the run.
: >"$T/plainfile"
scenario_args="--no-scheduler --topology 1,1,2,1 --scenario cpuset_split --duration 1"
expect_status 125 'sidecar dir under a file' ktstr-vm --kernel "$image" --allow-image $scenario_args \
	--sidecar-dir "$T/plainfile/x"
like "$(cat "$err")" "cannot create the sidecar directory '$T/plainfile/x': Not a directory" \
	'sidecar dir under a file: says why'
one_line_error 'sidecar dir under a file: no boot'
KTSTR_SIDECAR_DIR=$T/plainfile/y expect_status 125 'KTSTR_SIDECAR_DIR under a file' \
	ktstr-vm --kernel "$image" --allow-image $scenario_args
like "$(cat "$err")" "cannot create the sidecar directory '$T/plainfile/y'" 'KTSTR_SIDECAR_DIR: checked'
one_line_error 'KTSTR_SIDECAR_DIR under a file: no boot'
# /proc accepts no files, even from root, whom access(2) would let pass.
expect_status 125 'read-only sidecar dir' ktstr-vm --kernel "$image" --allow-image $scenario_args \
	--sidecar-dir /proc
like "$(cat "$err")" "cannot write to the sidecar directory '/proc'" 'read-only sidecar dir: says why'
one_line_error 'read-only sidecar dir: no boot'
expect_status 125 'topology beyond 255 CPUs' ktstr-vm --topology 1,1,128,2 --exec true
is "$(cat "$err")" "ktstr-vm: invalid --topology '1,1,128,2': 256 CPUs, but QEMU's pc machine takes at most 255" \
	'topology beyond 255 CPUs: says why'

expect_status 125 'shell needs a terminal' ktstr-vm --kernel "$image" --allow-image
like "$(cat "$err")" 'stdin must be a terminal for the interactive shell' 'shell without a terminal says so'
one_line_error 'shell without a terminal: one line'

expect_status 125 'stray argument' ktstr-vm --exec echo hello
like "$(head -1 "$err")" "unexpected argument 'hello'" 'stray argument: names it'

mkdir "$T/emptydir"
expect_status 125 'directory that is not a tree' ktstr-vm --kernel "$T/emptydir" --exec true
like "$(cat "$err")" "'$T/emptydir' is not a kernel source tree \(no Makefile or Kconfig\)" \
	'not a tree: names the directory'
one_line_error 'not a tree: one line'

# A source tree goes through 'ktstr kernel build --source' and the cache.
# The stand-in tree builds in a moment, but its bzImage is only text, so
# the chain ends at the boot image check, before QEMU.
cp -R "$KTSTR_SRC/t/fixtures/kernel-tree" "$T/linux"
(cd "$T/linux" && git init -q . && git add -A &&
	git -c user.name=test -c user.email=test@example.com commit -q -m tree) ||
	echo 'Bail out! cannot make a git tree'
expect_status 125 'source tree is built first' ktstr-vm --kernel "$T/linux" --exec true
is "$(wc -l <"$T/linux/.fixture-builds" | tr -d ' ')" 1 'source tree: built once'
like "$(cat "$err")" "cannot boot '$KTSTR_CACHE_DIR/local-[0-9a-f]+-x86_64-kc[0-9a-f]{8}/bzImage': not a boot image" \
	'source tree: the cached image is what boots'

# Without --kernel and with nothing to discover, the message says how to get one.
KTSTR_TEST_KERNEL=$T/none expect_status 125 'KTSTR_TEST_KERNEL that does not exist' ktstr-vm --exec true
like "$(cat "$err")" "KTSTR_TEST_KERNEL '$T/none' does not exist" 'KTSTR_TEST_KERNEL: names the path'

is "$(ls -A "$TMPDIR")" '' 'refusals leave nothing in TMPDIR'

# Run directories of a ktstr-vm that has exited are removed by the next
# one; a live owner's, another name's and an old unnumbered one stay.
dead_pid=$(sh -c 'echo $$')
mkdir "$TMPDIR/ktstr-vm.$dead_pid.AbC123" "$TMPDIR/ktstr-vm.$$.AbC123" \
	"$TMPDIR/ktstr-vm.AbC123" "$TMPDIR/other.$dead_pid.AbC123"
: >"$TMPDIR/ktstr-vm.$dead_pid.AbC123/initrd"
KTSTR_QEMU=$T/no-qemu expect_status 125 'stale run directory sweep' \
	ktstr-vm --kernel "$image" --allow-image --exec true
is "$(ls -A "$TMPDIR" | sort | tr '\n' ' ')" \
	"ktstr-vm.$$.AbC123 ktstr-vm.AbC123 other.$dead_pid.AbC123 " 'sweep removes only a dead owner'"'"'s directory'
rm -rf "$TMPDIR"/*

# ktstr shell rejects a raw image and names the cargo form; cargo ktstr shell accepts it.
expect_status 125 'ktstr shell rejects a raw image' ktstr shell --kernel "$image" --exec true
like "$(cat "$err")" "use 'cargo ktstr shell --kernel $image_re'" 'ktstr shell names cargo ktstr shell'
one_line_error 'ktstr shell raw image: one line'
expect_status 125 'cargo ktstr shell checks the rest' cargo-ktstr ktstr shell --kernel "$image" --memory-mb 64 --exec true
like "$(cat "$err")" "minimum is 128" 'cargo ktstr shell passes options through'

# Under the dispatcher the usage line names the command typed; the rest of
# the help is ktstr-vm's.
expect_status 0 'ktstr shell --help' ktstr shell --help
is "$(head -1 "$out")" 'Usage: ktstr shell [OPTIONS] [--exec CMD]' 'ktstr shell --help: usage line'
is "$(tail -n +2 "$out")" "$(printf '%s\n' "$help" | tail -n +2)" 'ktstr shell --help: same options'
expect_status 0 'cargo ktstr shell --help' cargo-ktstr ktstr shell --help
is "$(head -1 "$out")" 'Usage: cargo ktstr shell [OPTIONS] [--exec CMD]' 'cargo ktstr shell --help: usage line'
is "$(tail -n +2 "$out")" "$(printf '%s\n' "$help" | tail -n +2)" 'cargo ktstr shell --help: same options'
is "$(printf '%s\n' "$help" | head -1)" 'Usage: ktstr-vm [OPTIONS] [--exec CMD]' 'ktstr-vm --help: usage line'
done_testing
