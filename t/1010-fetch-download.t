#!/bin/sh
# ktstr-fetch downloads: streaming unpack, checksums, retries, resumption
# and failures, against a kernel.org stand-in on 127.0.0.1.
. "${0%/*}/lib/test-lib.sh"
. "$KTSTR_SRC/t/fixtures/fetch/server.sh"

start_mirror
dest=$T/src

# error_lines: the lines of the last stderr other than the phase line.
error_lines() {
	grep -vc '^ktstr-fetch: downloading ' "$err"
}

# leftovers DIR: hidden temporary trees or partial files left in DIR.
leftovers() {
	find "$1" -maxdepth 1 -name '.*' ! -name . | wc -l | tr -d ' '
}

expect_status 0 'release downloads' ktstr-fetch --dest "$dest" 6.14.2
is "$(jq -r .source_dir "$out")" "$dest/linux-6.14.2" 'source_dir is the unpacked tree'
is "$(make -s -C "$dest/linux-6.14.2" kernelversion)" 6.14.2 'the tree is the requested release'
is "$(jq -r .verified "$dest/linux-6.14.2/.ktstr-fetch.json")" true 'the checksum was verified'
like "$(cat "$err")" "^ktstr-fetch: downloading $base/v6.x/linux-6.14.2.tar.xz \\([0-9.]+ MB\\)" \
	'one line per phase off a terminal'
unlike "$(cat "$err")" "$(printf '\r')" 'no progress bar off a terminal'
unlike "$(cat "$err")" 'warning' 'a verified download has no warnings'
is "$(leftovers "$dest")" 0 'no partial file or temporary tree is left'

: >"$T/httpd.log"
expect_status 0 'second run succeeds' ktstr-fetch --dest "$dest" 6.14.2 --field source_dir
is "$(cat "$out")" "$dest/linux-6.14.2" 'second run prints the same tree'
is "$(requests 'tar.xz')" 0 'second run reuses the unpacked tree'

mkdir -p "$dest/linux-6.14.1"
expect_status 2 'a foreign directory is not overwritten' ktstr-fetch --dest "$dest" 6.14.1
like "$(cat "$err")" "'$dest/linux-6.14.1': it already exists" 'the directory is named'
one_line_error 'existing directory error is one line'
rmdir "$dest/linux-6.14.1"

expect_status 0 'release candidate downloads' ktstr-fetch --dest "$dest" 6.15-rc3 --field version
is "$(make -s -C "$dest/linux-6.15-rc3" kernelversion)" 6.15-rc3 'the rc tree is unpacked from gzip'

expect_status 2 'missing release fails' ktstr-fetch --dest "$dest" 6.13.5
like "$(cat "$err")" "kernel 6.13.5 not found at '$base/v6.x/linux-6.13.5.tar.xz' \\(HTTP 404\\)" \
	'404 names the version and URL'
like "$(cat "$err")" 'nearest known releases: 6.9.12, 6.12.23, 6.14.1, 6.14.2' '404 lists the nearest releases'
one_line_error '404 error is one line'

expect_status 2 'missing rc fails' ktstr-fetch --dest "$dest" 6.15-rc9
like "$(cat "$err")" 'release-candidate tarballs are removed after the release.*--git' 'rc 404 suggests --git'
one_line_error 'rc 404 error is one line'

expect_status 2 'checksum mismatch fails' ktstr-fetch --dest "$dest" 6.14.3
like "$(cat "$err")" "checksum mismatch for '$base/v6.x/linux-6.14.3.tar.xz': '$base/v6.x/sha256sums.asc' lists 0{64}, the download has [0-9a-f]{64}" \
	'mismatch names both digests'
is "$(error_lines)" 1 'mismatch error is one line'
check 'no tree after a mismatch' test ! -e "$dest/linux-6.14.3"
is "$(leftovers "$dest")" 0 'nothing half-written after a mismatch'

expect_status 2 'truncated tarball fails' ktstr-fetch --dest "$dest" 6.14.4
like "$(cat "$err")" "unpacking '$base/v6.x/linux-6.14.4.tar.xz' failed: .*truncated or corrupt" \
	'truncation is reported as such'
is "$(error_lines)" 1 'truncation error is one line'
check 'no tree after truncation' test ! -e "$dest/linux-6.14.4"
is "$(leftovers "$dest")" 0 'nothing half-written after truncation'

# A server that stops sending: the attempt times out, is retried once, and
# the run fails instead of hanging (timeout(1) would exit 124).
start_mirror --rule /v6.x/linux-6.12.23.tar.xz=stall:1000
expect_status 2 'stalled download fails' \
	timeout 120 ktstr-fetch --dest "$dest" --stall-timeout 1 --retries 1 6.12.23
like "$(cat "$err")" "download '$base/v6.x/linux-6.12.23.tar.xz' failed: no data received for 1 s \\(gave up after 1 retries\\)" \
	'stall is named in the error'
like "$(head -n 2 "$err" | tail -n 1)" 'warning: .* interrupted at byte 1000: no data received for 1 s; retry 1 of 1' \
	'the retry is announced'
is "$(requests 'linux-6.12.23.tar.xz bytes=1000-')" 1 'the retry asks for the rest only'
check 'no tree after a stall' test ! -e "$dest/linux-6.12.23"
check 'the partial download is kept' test -s "$dest/.linux-6.12.23.tar.xz.part"

like "$(tail -n 1 "$err")" "kept the partial download '$dest/.linux-6.12.23.tar.xz.part'" \
	'the kept file is named'
kept=$(wc -c <"$dest/.linux-6.12.23.tar.xz.part" | tr -d ' ')

start_mirror
expect_status 0 'next run resumes the partial download' ktstr-fetch --dest "$dest" 6.12.23
like "$(cat "$err")" 'resuming the download of linux-6.12.23.tar.xz' 'resumption is announced'
is "$(requests "linux-6.12.23.tar.xz bytes=$kept-")" 1 'only the missing bytes are requested'
is "$(jq -r .verified "$dest/linux-6.12.23/.ktstr-fetch.json")" true 'the resumed tarball verifies'
is "$(leftovers "$dest")" 0 'the partial file is gone after success'

rm -rf "$dest"
start_mirror --rule /v6.x/linux-6.14.2.tar.xz=stall:1000:1
expect_status 0 'a stall once is retried' ktstr-fetch --dest "$dest" --stall-timeout 1 6.14.2
is "$(requests 'linux-6.14.2.tar.xz bytes=1000-')" 1 'the retry resumes at byte 1000'
is "$(jq -r .verified "$dest/linux-6.14.2/.ktstr-fetch.json")" true 'the resumed tarball verifies'

rm -rf "$dest"
start_mirror --rule /v6.x/linux-6.14.2.tar.xz=truncate:1500:2
expect_status 0 'a body cut short is retried' ktstr-fetch --dest "$dest" 6.14.2
is "$(requests 'linux-6.14.2.tar.xz bytes=1500-')" 1 'first retry resumes at byte 1500'
is "$(requests 'linux-6.14.2.tar.xz bytes=3000-')" 0 'a range reply counts from its own start'
is "$(make -s -C "$dest/linux-6.14.2" kernelversion)" 6.14.2 'the tree is complete'

rm -rf "$dest"
start_mirror --rule /v6.x/linux-6.14.2.tar.xz=stall:1000:1 --rule /v6.x/linux-6.14.2.tar.xz=norange
expect_status 0 'a server without ranges still works' ktstr-fetch --dest "$dest" --stall-timeout 1 6.14.2
is "$(jq -r .verified "$dest/linux-6.14.2/.ktstr-fetch.json")" true 'resent bytes are skipped, not doubled'

rm -rf "$dest"
start_mirror --rule /v6.x/sha256sums.asc=404
expect_status 0 'missing checksum list is not fatal' ktstr-fetch --dest "$dest" 6.14.2
like "$(cat "$err")" "warning: no checksum list at '$base/v6.x/sha256sums.asc' \\(HTTP 404\\)" \
	'missing checksum list is a warning'
is "$(jq -r .verified "$dest/linux-6.14.2/.ktstr-fetch.json")" false 'the tree is marked unverified'

start_mirror --rule /v6.x/linux-6.14.1.tar.xz=html
expect_status 2 'an HTML page is not a tarball' ktstr-fetch --dest "$dest" 6.14.1
like "$(cat "$err")" 'the server sent an HTML page instead of a tarball' 'HTML answer is named'
is "$(error_lines)" 1 'HTML error is one line'

# A listed release whose tarball is missing is not offered as its own
# alternative.
start_mirror --rule /v6.x/linux-6.14.1.tar.xz=404
expect_status 2 'listed release without a tarball fails' ktstr-fetch --dest "$dest" 6.14.1
like "$(cat "$err")" 'nearest known releases: 6\.9\.12, 6\.12\.23, 6\.14\.2' 'the missing release is not suggested'

start_mirror --rule /v6.x/linux-6.14.1.tar.xz=500
expect_status 2 'a server error fails after retries' ktstr-fetch --dest "$dest" --retries 1 6.14.1
like "$(cat "$err")" 'failed: HTTP 500 \(gave up after 1 retries\)' 'status and retries are named'

# Interrupted by a signal: the partial file stays for the next run.
rm -rf "$dest"
start_mirror --rule /v6.x/linux-6.14.2.tar.xz=stall:1000:1
ktstr-fetch --dest "$dest" 6.14.2 >"$T/bg.out" 2>"$T/bg.err" &
fetch_pid=$!
tries=0
while [ "$(requests 'linux-6.14.2.tar.xz')" = 0 ] && [ $tries -lt 100 ]; do
	tries=$((tries + 1))
	sleep 0.1
done
sleep 0.5
kill -TERM "$fetch_pid"
wait "$fetch_pid" 2>/dev/null
is "$?" 143 'SIGTERM ends the run with 128+15'
check 'the partial download survives the signal' test -s "$dest/.linux-6.14.2.tar.xz.part"
is "$(find "$dest" -maxdepth 1 -name '.linux-6.14.2.tmp-*' | wc -l | tr -d ' ')" 0 \
	'the temporary tree is removed'
expect_status 0 'the interrupted download resumes' ktstr-fetch --dest "$dest" 6.14.2
is "$(requests 'linux-6.14.2.tar.xz bytes=1000-')" 1 'resumed from the kept bytes'

# A terminal gets a progress bar instead of phase lines.
rm -rf "$dest"
start_mirror
script -qec "ktstr-fetch --dest '$dest' 6.14.2 >/dev/null" "$T/typescript" >/dev/null 2>&1
like "$(cat "$T/typescript")" 'downloading linux-6.14.2.tar.xz \[[#.]+\] +[0-9]+%' 'terminal shows a progress bar'
done_testing
