#!/bin/sh
# make install into a DESTDIR, then use the tree after moving it: programs,
# share/ data, the guest agent, man pages and completion files.
. "${0%/*}/lib/test-lib.sh"
require_assets

# "-o all" installs the tree that make check built without remaking it,
# so that this test never rebuilds the build directory that other tests
# are running from.
dest=$T/dest
prefix=/usr/local
run make -C "$KTSTR_SRC" --no-print-directory -o all O="$KTSTR_BUILD" install \
	DESTDIR="$dest" PREFIX="$prefix"
is "$status" 0 'make install exits 0'
if [ "$status" != 0 ]; then
	diag "$(tail -n 20 "$err")"
	done_testing
fi

root=$dest$prefix
for prog in "$KTSTR_BUILD"/bin/*; do
	check "installs bin/${prog##*/}" test -x "$root/bin/${prog##*/}"
done
check 'installs the guest agent' test -x "$root/libexec/ktstr/ktstr-guest"
check 'installs the kconfig fragment' cmp -s "$KTSTR_SRC/share/ktstr.kconfig" "$root/share/ktstr/ktstr.kconfig"
for file in bash-completion/completions/ktstr bash-completion/completions/cargo-ktstr \
	zsh/site-functions/_ktstr zsh/site-functions/_cargo-ktstr \
	fish/vendor_completions.d/ktstr.fish fish/vendor_completions.d/cargo-ktstr.fish; do
	check "installs share/$file" test -s "$root/share/$file"
done

# Every page in the source has a built page, and man reads each one
# without a warning from groff.  "can't break line" is left out: it says
# that a table is wider than MANWIDTH, which is a layout matter.
for src in "$KTSTR_SRC"/man/*.scd; do
	page=${src##*/}
	page=${page%.scd}
	installed=$root/share/man/man${page##*.}/$page
	if [ ! -f "$installed" ]; then
		not_ok "installs man page $page"
		continue
	fi
	ok "installs man page $page"
	run env MANWIDTH=80 MAN_KEEP_FORMATTING= man -l "$installed"
	is "$status" 0 "man -l $page exits 0"
	is "$(grep -v "can't break line" "$err")" '' "man -l $page has no groff warning"
	like "$(head -n 5 "$out")" "${page%.*}" "man -l $page shows its name"
done

# Move the tree: the programs must find each other, share/ and libexec/
# next to themselves, with the build directory off PATH.
moved=$T/elsewhere
mv "$root" "$moved"
rm -rf "$dest"
PATH=$moved/bin:/usr/bin:/bin
export PATH
unset KTSTR_SHARE_DIR KTSTR_LIBEXEC_DIR

run ktstr-cache store --image "$KTSTR_ASSET_KERNEL" --field key
is "$status" 0 'moved ktstr-cache stores the test kernel'
key=$(cat "$out")
run env KTSTR_TRACE=1 cargo-ktstr kernel list
is "$status" 0 'moved cargo-ktstr kernel list exits 0'
check 'kernel list shows the stored kernel' grep -qF "  $key " "$out"
like "$(cat "$err")" "exec: '$moved/bin/ktstr-cache' 'list'" 'kernel list runs the moved ktstr-cache'

run cargo-ktstr kernel list --json
hash_before=$(jq -r .current_ktstr_kconfig_hash "$out")
like "$hash_before" '^[0-9a-f]+$' 'moved tree finds its kconfig fragment'
echo 'CONFIG_KTSTR_INSTALL_TEST=y' >>"$moved/share/ktstr/ktstr.kconfig"
run cargo-ktstr kernel list --json
hash_after=$(jq -r .current_ktstr_kconfig_hash "$out")
check 'the fragment read is the moved copy' test "$hash_before" != "$hash_after"

# The installed bash completion works from the moved tree.
cat >"$T/complete.bash" <<'SH'
. /usr/share/bash-completion/bash_completion
. "$1"
COMP_WORDS=(ktstr kernel b)
COMP_CWORD=2
_ktstr_ktstr ktstr b kernel
printf '%s\n' "${COMPREPLY[@]}"
SH
run bash "$T/complete.bash" "$moved/share/bash-completion/completions/ktstr"
is "$(cat "$out")" 'build' 'installed bash completion completes kernel b'

# make uninstall removes every file that install wrote.
mkdir -p "${root%/*}"
mv "$moved" "$root"
PATH=$KTSTR_BUILD/bin:/usr/bin:/bin
run make -C "$KTSTR_SRC" --no-print-directory -o all O="$KTSTR_BUILD" uninstall \
	DESTDIR="$dest" PREFIX="$prefix"
is "$status" 0 'make uninstall exits 0'
is "$(find "$dest" -type f -o -type l | sed "s|^$dest||" | tr '\n' ' ')" '' \
	'uninstall leaves no file behind'

done_testing
