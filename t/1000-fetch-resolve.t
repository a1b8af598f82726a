#!/bin/sh
# ktstr-fetch --resolve-only: turning a version request into one release,
# against a kernel.org stand-in on 127.0.0.1.
. "${0%/*}/lib/test-lib.sh"
. "$KTSTR_SRC/t/fixtures/fetch/server.sh"

start_mirror

expect_status 0 'help exits 0' ktstr-fetch --help
like "$(cat "$out")" '^Usage: ktstr-fetch' 'help starts with the usage line'
for option in $(grep -Eo -- '--[a-z][a-z-]+' "$out" | sort -u); do
	like "$(cat "$KTSTR_SRC/man/ktstr-fetch.1.scd")" "\\$option" "man page documents $option"
done

expect_status 0 'no version resolves' ktstr-fetch --resolve-only --field version
is "$(cat "$out")" 6.14.2 'no version means latest_stable'
is "$(requests 'GET /releases.json')" 1 'latest stable reads releases.json once'

expect_status 0 'series prefix resolves' ktstr-fetch -r 6.12 --field version
is "$(cat "$out")" 6.12.23 '6.12 means its newest release'

expect_status 0 'series past its end of life resolves' ktstr-fetch -r 6.9 --field version
is "$(cat "$out")" 6.9.12 '6.9 found through the mirror checksum list'

: >"$T/httpd.log"
expect_status 0 'exact version resolves' ktstr-fetch -r 6.14.1
is "$(jq -r .source.url "$out")" "$base/v6.x/linux-6.14.1.tar.xz" 'tarball URL under KTSTR_KERNEL_MIRROR'
is "$(jq -r .source.type "$out")" tarball 'source type is tarball'
is "$(jq -r .schema_version "$out")" 1 'descriptor schema version 1'
is "$(jq -r .arch "$out")" x86_64 'arch is x86_64'
is "$(jq -r .source_dir "$out")" null 'nothing unpacked yet'
is "$(jq -r .dirty "$out")" false 'a release is never dirty'
is "$(wc -l <"$T/httpd.log" | tr -d ' ')" 0 'an exact version needs no network'

expect_status 0 'a .0 release resolves' ktstr-fetch -r 6.14.0 --field version
is "$(cat "$out")" 6.14 '6.14.0 is named 6.14, as kernel.org does'

expect_status 0 'release candidate resolves' ktstr-fetch -r 6.15-rc3 --field source.url
is "$(cat "$out")" "$base/rc/linux-6.15-rc3.tar.gz" 'rc tarball URL under KTSTR_RC_URL'

expect_status 2 'series without a release fails' ktstr-fetch -r 6.13
like "$(cat "$err")" "no release of the 6.13 series" 'names the series'
like "$(cat "$err")" 'nearest known releases: 6.9.12, 6.12.23, 6.14.1, 6.14.2' 'lists the nearest releases'
one_line_error 'missing series error is one line'
is "$(cat "$out")" '' 'nothing on stdout after a failure'

for bad in 6.x 6 6.14.2.1 6.15-rc0 v6.14; do
	expect_status 2 "invalid version '$bad' is rejected" ktstr-fetch -r "$bad"
	like "$(cat "$err")" "invalid kernel version '$bad'" "'$bad' error names the value"
	one_line_error "'$bad' error is one line"
done

printf '{"releases": [' >"$mirror/truncated.json"
printf '<html>maintenance</html>\n' >"$mirror/html.json"
printf '{"latest_stable": {"version": "6.14.2"}}\n' >"$mirror/no-array.json"
for doc in truncated html no-array; do
	KTSTR_RELEASES_URL=$base/$doc.json
	export KTSTR_RELEASES_URL
	expect_status 2 "releases.json: $doc is rejected" ktstr-fetch -r
	like "$(cat "$err")" "invalid releases.json '$base/$doc.json'" "$doc: error names the document"
	one_line_error "$doc: error is one line"
done
like "$(cat "$err")" "no 'releases' array" 'missing array is named'

KTSTR_RELEASES_URL=$base/missing.json
export KTSTR_RELEASES_URL
expect_status 2 'releases.json 404 fails' ktstr-fetch -r 6.12
like "$(cat "$err")" "releases.json '$base/missing.json' failed: HTTP 404" 'names the URL and status'
one_line_error '404 error is one line'

expect_status 2 'VERSION with --source is a usage error' ktstr-fetch 6.14.2 --source "$T"
like "$(head -n 1 "$err")" "VERSION '6.14.2' conflicts with --source" 'conflict is named'
expect_status 2 '--git without --ref is a usage error' ktstr-fetch --git file:///x
expect_status 2 '--ref without --git is a usage error' ktstr-fetch --ref v6.14
expect_status 2 'two versions are a usage error' ktstr-fetch 6.14.2 6.14.1
expect_status 2 'bad --retries is a usage error' ktstr-fetch --retries many 6.14.2
: >"$T/httpd.log"
expect_status 2 'unknown --field fails before any download' ktstr-fetch --field nosuch 6.14.2
like "$(cat "$err")" "unknown kernel descriptor field 'nosuch'" 'unknown field is named'
is "$(wc -l <"$T/httpd.log" | tr -d ' ')" 0 'no request for an unknown field'
done_testing
