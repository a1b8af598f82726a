#!/bin/sh
# ktstr-fetch with KTSTR_KEYRING: gpgv checks the PGP signature of
# sha256sums.asc, and only the checksums inside the signed text are used.
# The keys are made here, in a private GnuPG home under $T, and the mirror
# is the kernel.org stand-in on 127.0.0.1.
. "${0%/*}/lib/test-lib.sh"
. "$KTSTR_SRC/t/fixtures/fetch/server.sh"

for tool in gpg gpgv xz; do
	command -v "$tool" >/dev/null || {
		echo "Bail out! $tool not found: run 'make deps' (Debian packages gnupg, gpgv, xz-utils)"
		exit 1
	}
done

unset KTSTR_KEYRING GNUPGHOME
gnupg_home=$T/gnupg
mkdir -m 700 "$gnupg_home"
trap 'gpgconf --homedir "$gnupg_home" --kill gpg-agent 2>/dev/null; stop_mirror; cleanup_scratch' EXIT

# pgp ARGS...: gpg on the private home, quiet and without prompts.
pgp() {
	gpg --homedir "$gnupg_home" --batch --quiet --passphrase '' --pinentry-mode loopback "$@" \
		2>>"$T/gpg.log"
}

# The trusted key goes into the keyring; the other key signs what an
# attacker would publish.
pgp --quick-gen-key 'ktstr test <t@example.invalid>' ed25519 sign never &&
	pgp --quick-gen-key 'ktstr other <other@example.invalid>' ed25519 sign never || {
	echo "Bail out! gpg could not generate the test keys: $(tail -n 3 "$T/gpg.log")"
	exit 1
}
keyring=$T/keyring.gpg
pgp --export '<t@example.invalid>' >"$keyring"
pgp --export --armor '<t@example.invalid>' >"$T/keyring.asc"

start_mirror
v6=$mirror/v6.x

# sign EMAIL: clear-sign stdin with that key onto stdout.
sign() {
	pgp --local-user "<$1>" --clearsign
}

# serve_list: publish stdin as the mirror's sha256sums.asc.
serve_list() {
	cat >"$v6/sha256sums.asc"
}

# tamper VERSION: the release tarball with one file added, as
# $T/tampered-VERSION.tar.xz, and the genuine one kept as
# $T/genuine-VERSION.tar.xz.
tamper() {
	rm -rf "$T/unpack"
	mkdir "$T/unpack"
	cp "$v6/linux-$1.tar.xz" "$T/genuine-$1.tar.xz"
	tar -xJf "$T/genuine-$1.tar.xz" -C "$T/unpack" &&
		echo 'not from the mirror' >"$T/unpack/linux-$1/INJECTED" &&
		tar -cJf "$T/tampered-$1.tar.xz" -C "$T/unpack" "linux-$1" || {
		echo "Bail out! cannot build the tampered linux-$1 tarball"
		exit 1
	}
}

# serve_tarball VERSION genuine|tampered
serve_tarball() {
	cp "$T/$2-$1.tar.xz" "$v6/linux-$1.tar.xz"
}

sha() {
	sha256sum "$1" | cut -d' ' -f1
}

# error_lines: the lines of the last stderr other than the phase line.
error_lines() {
	grep -vc '^ktstr-fetch: downloading ' "$err"
}

# leftovers DIR: hidden temporary trees or partial files left in DIR.
leftovers() {
	find "$1" -maxdepth 1 -name '.*' ! -name . | wc -l | tr -d ' '
}

tamper 6.14.2
tamper 6.14.1
good=$(sha "$T/genuine-6.14.2.tar.xz")
bad=$(sha "$T/tampered-6.14.2.tar.xz")
bad_141=$(sha "$T/tampered-6.14.1.tar.xz")
list_url=$base/v6.x/sha256sums.asc

# The signed list names 6.14.2 only, with its genuine checksum.
printf '%s  linux-6.14.2.tar.xz\n' "$good" >"$T/sums"
sign t@example.invalid <"$T/sums" >"$T/signed.asc"

# 1. A good signature by a key in the keyring.
serve_list <"$T/signed.asc"
serve_tarball 6.14.2 genuine
dest=$T/good
export KTSTR_KEYRING=$keyring
expect_status 0 'good signature downloads' ktstr-fetch --dest "$dest" 6.14.2
is "$(jq -r .verified "$dest/linux-6.14.2/.ktstr-fetch.json")" true 'signed checksum is verified'
unlike "$(cat "$err")" 'warning|note:' 'good signature has no warnings'
is "$(leftovers "$dest")" 0 'good signature leaves nothing behind'

dest=$T/verbose
expect_status 0 'good signature with -v downloads' ktstr-fetch -v --dest "$dest" 6.14.2
like "$(cat "$err")" "the signature of '$list_url' is good" '-v reports the good signature'
like "$(cat "$err")" 'gpgv: Good signature from "ktstr test <t@example.invalid>"' \
	'-v shows what gpgv printed'

# gpgv would look a bare file name up in its home directory.
dest=$T/relative
cp "$keyring" "$T/relative.gpg"
expect_status 0 'keyring named without a directory works' \
	env KTSTR_KEYRING=relative.gpg ktstr-fetch --dest "$dest" 6.14.2

# 2. A checksum line changed inside the signed text, to match a tampered
# tarball that the mirror now serves.
sed "s/^$good /$bad /" "$T/signed.asc" | serve_list
serve_tarball 6.14.2 tampered
check 'the altered list names the tampered checksum' grep -q "^$bad  linux-6.14.2" "$v6/sha256sums.asc"
dest=$T/altered
: >"$T/httpd.log"
expect_status 2 'altered signed text fails' ktstr-fetch --dest "$dest" 6.14.2
like "$(cat "$err")" "^ktstr-fetch: checksum list '$list_url' has a bad signature" \
	'altered text is a bad signature'
one_line_error 'bad signature error is one line'
check 'no tree after a bad signature' test ! -e "$dest/linux-6.14.2"
is "$(leftovers "$dest")" 0 'nothing half-written after a bad signature'
is "$(requests 'linux-6.14.2.tar.xz')" 0 'the tarball is not requested after a bad signature'

# 3. The tampered checksum, signed by a key that is not in the keyring.
printf '%s  linux-6.14.2.tar.xz\n' "$bad" | sign other@example.invalid | serve_list
dest=$T/other
expect_status 2 'signature by an unknown key fails' ktstr-fetch --dest "$dest" 6.14.2
is "$(cat "$err")" \
	"ktstr-fetch: checksum list '$list_url' is not signed by a key in KTSTR_KEYRING '$keyring'" \
	'unknown key error names the list and the keyring'
check 'no tree after an unknown key' test ! -e "$dest/linux-6.14.2"
is "$(leftovers "$dest")" 0 'nothing half-written after an unknown key'

# The tampered checksum without any signature.
printf '%s  linux-6.14.2.tar.xz\n' "$bad" | serve_list
dest=$T/unsigned
expect_status 2 'unsigned list fails' ktstr-fetch --dest "$dest" 6.14.2
like "$(cat "$err")" "^ktstr-fetch: checksum list '$list_url' has no valid PGP signature" \
	'unsigned list is named as such'
one_line_error 'unsigned list error is one line'
check 'no tree after an unsigned list' test ! -e "$dest/linux-6.14.2"

# 4. Checksum lines outside the signed block are not used.  The tampered
# 6.14.1 has an entry only after the signature.
{ cat "$T/signed.asc"; printf '%s  linux-6.14.1.tar.xz\n' "$bad_141"; } | serve_list
serve_tarball 6.14.1 tampered
dest=$T/appended
expect_status 2 'entry appended after the signature is ignored' ktstr-fetch --dest "$dest" 6.14.1
is "$(cat "$err")" \
	"ktstr-fetch: the checksum list '$list_url' has no entry for 'linux-6.14.1.tar.xz', and KTSTR_KEYRING requires a signed checksum for every release tarball" \
	'appended entry counts as no entry'
check 'no tree from an appended entry' test ! -e "$dest/linux-6.14.1"
is "$(leftovers "$dest")" 0 'nothing half-written after an appended entry'

# An appended entry for a file that the signed text also lists.
{ cat "$T/signed.asc"; printf '%s  linux-6.14.2.tar.xz\n' "$bad"; } | serve_list
dest=$T/appended-twice
expect_status 2 'appended duplicate entry is ignored' ktstr-fetch --dest "$dest" 6.14.2
like "$(cat "$err")" "checksum mismatch for '$base/v6.x/linux-6.14.2.tar.xz': '$list_url' lists $good, the download has $bad" \
	'the signed checksum is the one compared'
is "$(error_lines)" 1 'appended duplicate error is one line'
check 'no tree from an appended duplicate' test ! -e "$dest/linux-6.14.2"
is "$(leftovers "$dest")" 0 'nothing half-written after an appended duplicate'

# An entry put before the signed block, where a plain search finds it first.
{ printf '%s  linux-6.14.2.tar.xz\n' "$bad"; cat "$T/signed.asc"; } | serve_list
dest=$T/prepended
expect_status 2 'entry before the signed block is ignored' ktstr-fetch --dest "$dest" 6.14.2
like "$(cat "$err")" "checksum mismatch for '$base/v6.x/linux-6.14.2.tar.xz': '$list_url' lists $good" \
	'prepended entry is not compared'
is "$(error_lines)" 1 'prepended entry error is one line'
check 'no tree from a prepended entry' test ! -e "$dest/linux-6.14.2"

# 5. Keyrings that gpgv cannot use.
serve_list <"$T/signed.asc"
serve_tarball 6.14.2 genuine
dest=$T/no-keyring
expect_status 2 'missing keyring fails' env KTSTR_KEYRING="$T/missing.gpg" \
	ktstr-fetch --dest "$dest" 6.14.2
is "$(cat "$err")" "ktstr-fetch: cannot read KTSTR_KEYRING '$T/missing.gpg': No such file or directory" \
	'missing keyring is named'
check 'no tree without a keyring' test ! -e "$dest/linux-6.14.2"

expect_status 2 'armored keyring fails' env KTSTR_KEYRING="$T/keyring.asc" \
	ktstr-fetch --dest "$dest" 6.14.2
like "$(cat "$err")" "KTSTR_KEYRING '$T/keyring.asc' is ASCII-armored, which gpgv cannot read: convert it with 'gpg --dearmor" \
	'armored keyring names the conversion'
one_line_error 'armored keyring error is one line'

{ echo; cat "$T/keyring.asc"; } >"$T/keyring-blank.asc"
expect_status 2 'armored keyring after a blank line fails' env KTSTR_KEYRING="$T/keyring-blank.asc" \
	ktstr-fetch --dest "$dest" 6.14.2
like "$(cat "$err")" "KTSTR_KEYRING '$T/keyring-blank.asc' is ASCII-armored" 'leading blank line: still armored'

echo 'not a keyring' >"$T/text.gpg"
expect_status 2 'text keyring fails' env KTSTR_KEYRING="$T/text.gpg" ktstr-fetch --dest "$dest" 6.14.2
like "$(cat "$err")" "KTSTR_KEYRING '$T/text.gpg' is not an OpenPGP keyring" 'text keyring is named'
one_line_error 'text keyring error is one line'

: >"$T/empty.gpg"
expect_status 2 'empty keyring fails' env KTSTR_KEYRING="$T/empty.gpg" \
	ktstr-fetch --dest "$dest" 6.14.2
like "$(cat "$err")" "KTSTR_KEYRING '$T/empty.gpg' is empty" 'empty keyring is named'
one_line_error 'empty keyring error is one line'

# gpgv is in /usr/bin; the tool itself needs nothing else from PATH here.
expect_status 2 'missing gpgv fails' env PATH="$KTSTR_BUILD/bin" \
	ktstr-fetch --dest "$dest" 6.14.2
like "$(cat "$err")" "cannot check the signature of '$list_url': gpgv not found; install the Debian package gpgv" \
	'missing gpgv names the package'
one_line_error 'missing gpgv error is one line'
check 'no tree without gpgv' test ! -e "$dest/linux-6.14.2"

start_mirror --rule /v6.x/sha256sums.asc=404
list_url=$base/v6.x/sha256sums.asc
expect_status 2 'missing list fails with a keyring' ktstr-fetch --dest "$dest" 6.14.2
like "$(cat "$err")" "no checksum list at '$list_url' \\(HTTP 404\\), and KTSTR_KEYRING requires a signed checksum" \
	'missing list is an error, not a warning'
one_line_error 'missing list error is one line'
start_mirror
list_url=$base/v6.x/sha256sums.asc

# 6. Without KTSTR_KEYRING the signature is not checked: a list signed by
# the other key still gives a verified checksum, as before.
unset KTSTR_KEYRING
printf '%s  linux-6.14.2.tar.xz\n' "$good" | sign other@example.invalid | serve_list
dest=$T/unset
expect_status 0 'unset keyring downloads' ktstr-fetch --dest "$dest" 6.14.2
is "$(jq -r .verified "$dest/linux-6.14.2/.ktstr-fetch.json")" true 'unset keyring still compares checksums'
unlike "$(cat "$err")" 'KTSTR_KEYRING|warning' 'unset keyring is quiet without -v'

dest=$T/unset-verbose
expect_status 0 'unset keyring with -v downloads' ktstr-fetch -v --dest "$dest" 6.14.2
is "$(grep -c "note: KTSTR_KEYRING is not set, so the PGP signature of '$list_url' is not checked" "$err")" 1 \
	'-v notes the unchecked signature once'

dest=$T/empty-variable
expect_status 0 'empty KTSTR_KEYRING counts as unset' env KTSTR_KEYRING= \
	ktstr-fetch --dest "$dest" 6.14.2

serve_tarball 6.14.2 tampered
dest=$T/unset-mismatch
expect_status 2 'unset keyring still rejects a mismatch' ktstr-fetch --dest "$dest" 6.14.2
like "$(cat "$err")" "checksum mismatch for '$base/v6.x/linux-6.14.2.tar.xz'" 'mismatch without a keyring'
done_testing
