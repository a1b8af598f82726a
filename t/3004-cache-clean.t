#!/bin/sh
# ktstr-cache clean: --keep, --corrupt-only, confirmation, busy entries.
. "${0%/*}/lib/test-lib.sh"
. "$KTSTR_SRC/t/fixtures/cache/helpers.sh"

export KTSTR_SHARE_DIR=$T/share
fake_build "$T/b"

# populate: three valid entries (6.14.3 newest) and one corrupt one.
populate() {
	desc 6.14.1 "$T/b" 1a2b3c4d 2025-01-01T00:00:00Z | ktstr-cache store >/dev/null 2>&1
	desc 6.14.2 "$T/b" 1a2b3c4d 2025-02-01T00:00:00Z | ktstr-cache store >/dev/null 2>&1
	desc 6.14.3 "$T/b" 1a2b3c4d 2025-03-01T00:00:00Z | ktstr-cache store >/dev/null 2>&1
	mkdir -p "$KTSTR_CACHE_DIR/broken"
}
entries() {
	ls "$KTSTR_CACHE_DIR" | tr '\n' ' '
}
k() {
	printf '%s-tarball-x86_64-kc1a2b3c4d' "$1"
}

expect_status 0 'clean of an empty cache exits 0' ktstr-cache clean
like "$(cat "$err")" 'nothing to clean' 'empty cache: nothing to clean'

populate
all=$(entries)
expect_status 2 'clean without a terminal and without --force exits 2' ktstr-cache clean
like "$(cat "$err")" 'stdin is not a terminal; pass --force' 'refusal names --force'
one_line_error 'refusal is one line'
is "$(entries)" "$all" 'refusal deletes nothing'

expect_status 2 'negative --keep exits 2' ktstr-cache clean --keep -1 --force
like "$(cat "$err")" "invalid --keep '-1'" 'negative --keep is named'
expect_status 2 'non-numeric --keep exits 2' ktstr-cache clean --keep three --force
expect_status 2 'empty --keep exits 2' ktstr-cache clean --keep '' --force
expect_status 2 '--keep with --corrupt-only exits 2' ktstr-cache clean --keep 1 --corrupt-only --force
is "$(entries)" "$all" 'usage errors delete nothing'

expect_status 0 'clean --corrupt-only exits 0' ktstr-cache clean --corrupt-only --force
is "$(entries)" "$(k 6.14.1) $(k 6.14.2) $(k 6.14.3) " '--corrupt-only removes only the corrupt entry'
like "$(cat "$err")" 'removed 1 cached kernel\(s\)' '--corrupt-only reports the count'

mkdir "$KTSTR_CACHE_DIR/broken"
expect_status 0 'clean --keep 2 exits 0' ktstr-cache clean --keep 2 --force
is "$(entries)" "$(k 6.14.2) $(k 6.14.3) " '--keep 2 keeps the two newest valid entries'
like "$(cat "$err")" 'removed 2 cached kernel\(s\)' '--keep 2 removed the oldest and the corrupt one'

expect_status 0 'clean --keep 5 with fewer entries exits 0' ktstr-cache clean --keep 5 --force
like "$(cat "$err")" 'nothing to clean' '--keep above the count removes nothing'

expect_status 0 'clean --keep 0 exits 0' ktstr-cache clean --keep 0 --force
is "$(entries)" '' '--keep 0 removes every entry'
check 'lock files stay, hidden' test -d "$KTSTR_CACHE_DIR/.locks"
run ktstr-cache list
is "$(cat "$out")" '' 'list shows nothing after --keep 0'

# An entry that a reader holds (as a booting VM does) is skipped.
populate
flock -s "$KTSTR_CACHE_DIR/.locks/$(k 6.14.2).lock" \
	sh -c 'echo $$ >"$1"; exec sleep 300' sh "$T/reader.pid" &
for i in $(seq 100); do [ -s "$T/reader.pid" ] && break; sleep 0.1; done
expect_status 0 'clean with a busy entry exits 0' ktstr-cache clean --force
like "$(cat "$err")" "warning: not removing cached kernel '$(k 6.14.2)': it is in use" 'busy entry warned about'
like "$(cat "$err")" 'removed 3 cached kernel\(s\), skipped the ones in use' 'the others are removed'
is "$(entries)" "$(k 6.14.2) " 'busy entry kept'
run ktstr-cache lookup 6.14.2
is "$status" 0 'busy entry is still valid'
kill "$(cat "$T/reader.pid")"
wait
expect_status 0 'clean after the reader left exits 0' ktstr-cache clean --force
is "$(entries)" '' 'released entry is removed'

# On a terminal, clean asks first.
populate
printf 'n\n' | script -qec 'ktstr-cache clean' /dev/null >"$T/tty.out" 2>&1
like "$(cat "$T/tty.out")" 'remove 4 entries\? \[y/N\]' 'terminal: prompt with the count'
like "$(cat "$T/tty.out")" 'broken \(corrupt\)' 'terminal: lists what would go'
like "$(cat "$T/tty.out")" 'aborted' 'terminal: n aborts'
is "$(entries)" "$(k 6.14.1) $(k 6.14.2) $(k 6.14.3) broken " 'terminal: n deletes nothing'
printf 'y\n' | script -qec 'ktstr-cache clean --keep 1' /dev/null >"$T/tty.out" 2>&1
like "$(cat "$T/tty.out")" 'remove 3 entries\? \[y/N\]' 'terminal: --keep 1 asks about 3'
is "$(entries)" "$(k 6.14.3) " 'terminal: y removes them'

# Leftovers: the work directory of a failed build, one that a running build
# holds, and the lock file of a key that is gone.
locks=$KTSTR_CACHE_DIR/.locks
mkdir -p "$KTSTR_CACHE_DIR/.build/failed/linux-6.14.2" "$KTSTR_CACHE_DIR/.build/running"
: >"$KTSTR_CACHE_DIR/.build/failed/linux-6.14.2/Makefile"
: >"$locks/gone.lock"
flock -x "$locks/build-running.lock" sh -c 'echo $$ >"$1"; exec sleep 300' sh "$T/builder.pid" &
for i in $(seq 100); do [ -s "$T/builder.pid" ] && break; sleep 0.1; done
expect_status 2 'clean refused without --force' ktstr-cache clean
like "$(cat "$err")" 'and build directories needs confirmation' 'refusal names the build directories'
check 'refusal keeps build directories' test -d "$KTSTR_CACHE_DIR/.build/failed"
check 'refusal keeps stale lock files' test -e "$locks/gone.lock"
printf 'n\n' | script -qec 'ktstr-cache clean' /dev/null >"$T/tty.out" 2>&1
like "$(cat "$T/tty.out")" 'remove 1 entry and 2 build directories\? \[y/N\]' 'terminal: prompt counts build directories'
like "$(cat "$T/tty.out")" '\.build/failed \(left by a failed build\)' 'terminal: lists the build directory'
check 'answer n keeps build directories' test -d "$KTSTR_CACHE_DIR/.build/failed"
check 'answer n keeps stale lock files' test -e "$locks/gone.lock"
expect_status 0 'clean --corrupt-only leaves builds' ktstr-cache clean --corrupt-only --force
check '--corrupt-only keeps build directories' test -d "$KTSTR_CACHE_DIR/.build/failed"
rm -rf "$KTSTR_CACHE_DIR/$(k 6.14.3)"
expect_status 0 'clean with only build leftovers' ktstr-cache clean --force
like "$(cat "$err")" 'removed 1 build directory left by failed builds' 'swept build directory counted'
like "$(cat "$err")" "warning: not removing the build directory '$KTSTR_CACHE_DIR/.build/running': a build of it is running" \
	'running build is named'
check 'failed build directory removed' test ! -e "$KTSTR_CACHE_DIR/.build/failed"
check 'running build directory kept' test -d "$KTSTR_CACHE_DIR/.build/running"
is "$(ls "$locks" | tr '\n' ' ')" "build-running.lock " 'only locks in use remain'
kill "$(cat "$T/builder.pid")"
wait
populate
expect_status 0 'clean after the build ended' ktstr-cache clean --force
like "$(cat "$err")" 'removed 4 cached kernel\(s\) and 1 build directory left by failed builds' \
	'entries and build directory counted'
is "$(ls -A "$locks")" '' 'no lock files remain'
is "$(ls -A "$KTSTR_CACHE_DIR/.build")" '' 'no build directories remain'

# A cache that has only a build directory, not even .locks.
rm -rf "$KTSTR_CACHE_DIR"
mkdir -p "$KTSTR_CACHE_DIR/.build/lonely/linux"
ln -s "$T" "$KTSTR_CACHE_DIR/.build/link"
expect_status 0 'clean without .locks' ktstr-cache clean --force
check 'build directory removed without .locks' test ! -e "$KTSTR_CACHE_DIR/.build/lonely"
check 'a symbolic link in .build is left alone' test -L "$KTSTR_CACHE_DIR/.build/link"

expect_status 0 'clean --help exits 0' ktstr-cache clean --help
like "$(cat "$out")" '--keep N' 'help names --keep'
expect_status 2 'clean takes no arguments' ktstr-cache clean all
done_testing
