#!/bin/sh
# ktstr-fetch rejects tarball members that would land outside the
# destination, names them, and writes nothing of such a tarball.
. "${0%/*}/lib/test-lib.sh"
. "$KTSTR_SRC/t/fixtures/fetch/server.sh"

start_mirror
dest=$T/deep/src
mkdir -p "$dest"
rm -f /tmp/ktstr-escaped

check_rejected() {
	version=$1 member=$2 cause=$3
	expect_status 2 "$version: unsafe tarball fails" ktstr-fetch --dest "$dest" "$version"
	like "$(cat "$err")" "unsafe tarball '$base/v6.x/linux-$version.tar.xz': member '$member' $cause" \
		"$version: the member and the cause are named"
	is "$(grep -vc '^ktstr-fetch: downloading ' "$err")" 1 "$version: the error is one line"
	check "$version: no tree is left" test ! -e "$dest/linux-$version"
	is "$(find "$dest" -mindepth 1 | wc -l | tr -d ' ')" 0 "$version: nothing is left in the destination"
}

check_rejected 6.14.5 'linux-6.14.5/../escaped' "has a '..' component"
check 'dot-dot member wrote nothing outside' test ! -e "$dest/escaped"

check_rejected 6.14.6 '/tmp/ktstr-escaped' 'has an absolute path'
check 'absolute member wrote nothing' test ! -e /tmp/ktstr-escaped

check_rejected 6.14.7 'linux-6.14.7/outside' "is a symbolic link to '../../outside', outside the destination"
check 'symlink escape wrote nothing outside' test ! -e "$T/deep/outside"
check 'no file through the symlink' test ! -e "$T/deep/outside/escaped"

check_rejected 6.14.8 'linux-6.14.8/up/out' "lies under the symbolic link 'linux-6.14.8/up'"
check 'chained links wrote nothing outside' test ! -e "$T/deep/escaped"
done_testing
