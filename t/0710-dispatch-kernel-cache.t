#!/bin/sh
# cargo ktstr kernel list|clean and ktstr kernel: the dispatcher runs ktstr-cache.
. "${0%/*}/lib/test-lib.sh"
. "$KTSTR_SRC/t/fixtures/cache/helpers.sh"

export KTSTR_SHARE_DIR=$T/share
mkdir -p "$KTSTR_SHARE_DIR"
printf 'CONFIG_SCHED_CLASS_EXT=y\n' >"$KTSTR_SHARE_DIR/ktstr.kconfig"
current=$(crc32 "$KTSTR_SHARE_DIR/ktstr.kconfig")

expect_status 0 'kernel --help exits 0' cargo-ktstr ktstr kernel --help
like "$(cat "$out")" '^Usage: cargo ktstr kernel COMMAND' 'kernel help names cargo ktstr'
for sub in list build clean; do
	like "$(cat "$out")" "^  $sub" "kernel help lists $sub"
done
expect_status 2 'kernel without a command exits 2' ktstr kernel
like "$(cat "$err")" '^Usage: ktstr kernel' 'kernel without a command prints usage on stderr'
expect_status 2 'unknown kernel command exits 2' cargo-ktstr ktstr kernel lsit
like "$(cat "$err")" "unknown kernel command 'lsit'; valid commands: list build clean" 'unknown command lists valid ones'
one_line_error 'unknown kernel command is one line'

run cargo-ktstr ktstr kernel list
is "$status" 0 'kernel list of an empty cache exits 0'
like "$(cat "$err")" "run 'cargo ktstr kernel build'" 'empty cache hint names cargo ktstr'
run ktstr kernel list
like "$(cat "$err")" "run 'ktstr kernel build'" 'plain ktstr hint names ktstr'

fake_build "$T/b"
desc 6.14.2 "$T/b" "$current" 2025-03-01T00:00:00Z | ktstr-cache store >/dev/null 2>&1
desc 6.13.7 "$T/b" 0badf00d 2025-02-01T00:00:00Z | ktstr-cache store >/dev/null 2>&1
fake_bzimage "$T/image" 7.3.4-test
ktstr-cache store --image "$T/image" >/dev/null 2>&1
mkdir "$KTSTR_CACHE_DIR/broken"

cargo-ktstr ktstr kernel list --json >"$T/list.json" 2>"$T/list.err"
is "$?" 0 'kernel list --json exits 0'
is "$(jq -r '.entries | map(.key) | join(" ")' "$T/list.json")" \
	"7.3.4-test-image-x86_64-kc$(crc32 "$T/image") 6.14.2-tarball-x86_64-kc$current 6.13.7-tarball-x86_64-kc0badf00d broken" \
	'kernel list --json | jq: keys newest first, corrupt last'
is "$(jq -r '.entries | map(.kconfig_status // .error_kind) | join(" ")' "$T/list.json")" \
	'untracked matches stale missing' 'kernel list --json | jq: statuses'
is "$(cat "$T/list.err")" '' 'kernel list --json prints nothing on stderr'

run cargo-ktstr ktstr kernel list
like "$(cat "$out")" '6\.13\.7-tarball-x86_64-kc0badf00d .*\(stale kconfig\)' 'human list marks stale kconfig'
like "$(cat "$out")" '7\.3\.4-test-image.*\(untracked kconfig\)' 'human list marks untracked kconfig'
like "$(cat "$out")" 'broken +\(corrupt: metadata.json is missing\)' 'human list marks corrupt'
like "$(cat "$err")" "^cache: $KTSTR_CACHE_DIR" 'human list names the root on stderr'
like "$(cat "$err")" "cargo ktstr kernel clean --corrupt-only" 'corrupt footer names the cargo command'

expect_status 0 'kernel list --help exits 0' cargo-ktstr ktstr kernel list --help
like "$(cat "$out")" '^Usage: cargo ktstr kernel list \[--json\]' 'kernel list --help names the command typed'

all=$(ls "$KTSTR_CACHE_DIR" | tr '\n' ' ')
expect_status 2 'kernel clean without a terminal or --force exits 2' cargo-ktstr ktstr kernel clean
like "$(cat "$err")" 'pass --force' 'kernel clean refusal names --force'
one_line_error 'kernel clean refusal is one line'
is "$(ls "$KTSTR_CACHE_DIR" | tr '\n' ' ')" "$all" 'refused kernel clean deletes nothing'
expect_status 2 'kernel clean --keep -1 exits 2' cargo-ktstr ktstr kernel clean --keep -1 --force

expect_status 0 'kernel clean --keep 1 --force exits 0' cargo-ktstr ktstr kernel clean --keep 1 --force
like "$(cat "$err")" '^cargo ktstr: removed 3 cached kernel\(s\)' 'status line carries the cargo ktstr label'
is "$(ls "$KTSTR_CACHE_DIR" | tr '\n' ' ')" "7.3.4-test-image-x86_64-kc$(crc32 "$T/image") " \
	'--keep 1 keeps the newest entry'
expect_status 0 'ktstr kernel clean --keep 0 --force exits 0' ktstr kernel clean --keep 0 --force
like "$(cat "$err")" '^ktstr: removed 1 cached kernel\(s\)' 'plain ktstr status line'
run cargo-ktstr ktstr kernel list --json
is "$(jq '.entries | length' "$out")" 0 'kernel clean --keep 0 emptied the cache'
# Kernel discovery passes on why the cache cannot be read instead of
# reporting that no kernel was found.
: >"$T/notadir"
KTSTR_CACHE_DIR=$T/notadir/sub expect_status 2 'lookup in an unreadable root exits 2' \
	ktstr-cache lookup --newest
like "$(cat "$err")" "cannot read cache root '$T/notadir/sub': Not a directory" 'lookup names the unreadable root'
KTSTR_CACHE_DIR=$T/notadir/sub KTSTR_KERNEL= KTSTR_TEST_KERNEL= expect_status 125 \
	'discovery in an unreadable root exits 125' ktstr-vm --exec true
like "$(cat "$err")" "cannot read cache root '$T/notadir/sub': Not a directory" \
	'discovery names the unreadable root'
unlike "$(cat "$err")" 'no kernel found' 'discovery does not report a miss'
one_line_error 'discovery error is one line'

done_testing
