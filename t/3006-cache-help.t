#!/bin/sh
# ktstr-cache --help of every command matches man/ktstr-cache.1.scd.
. "${0%/*}/lib/test-lib.sh"

page=$KTSTR_SRC/man/ktstr-cache.1.scd
check 'ktstr-cache(1) builds with scdoc' sh -c "scdoc <'$page' >'$T/page.1'"

expect_status 0 'ktstr-cache --help exits 0' ktstr-cache --help
cp "$out" "$T/top-help"
for sub in store key lookup list clean; do
	like "$(cat "$T/top-help")" "^  $sub" "top-level help lists $sub"
	like "$(cat "$page")" "^\*ktstr-cache $sub\*" "man SYNOPSIS has $sub"
	expect_status 0 "$sub --help exits 0" ktstr-cache "$sub" --help
	like "$(head -1 "$out")" "^Usage: ktstr-cache $sub" "$sub --help starts with its usage"
	# Every long option of the help text is documented in the page.
	for opt in $(grep -o -- '--[a-z][a-z-]*' "$out" | sort -u); do
		like "$(cat "$page")" "\*$opt\*" "$sub $opt is in the man page"
	done
done
# Every option of the SYNOPSIS is accepted by the command that lists it.
sed -n '/^# SYNOPSIS/,/^# DESCRIPTION/p' "$page" | grep '^\*ktstr-cache' |
while read -r line; do
	sub=$(printf '%s\n' "$line" | sed 's/^\*ktstr-cache \([a-z]*\).*/\1/')
	ktstr-cache "$sub" --help >"$T/help" 2>&1
	for opt in $(printf '%s\n' "$line" | grep -o -- '--[a-z][a-z-]*'); do
		grep -q -- "$opt" "$T/help" || echo "$sub $opt"
	done
done >"$T/missing"
is "$(cat "$T/missing")" '' 'every SYNOPSIS option is in its command help'

expect_status 2 'unknown command exits 2' ktstr-cache frob
like "$(cat "$err")" "unknown command 'frob'; valid commands: store key lookup list clean" \
	'unknown command lists the valid ones'
expect_status 2 'no command exits 2' ktstr-cache
expect_status 0 'ktstr-cache --version exits 0' ktstr-cache --version
like "$(cat "$out")" '^ktstr-cache [0-9]+\.[0-9]+\.[0-9]+$' '--version prints the version'
done_testing
