#!/bin/sh
# The dispatcher's man pages build and document every command its help lists.
. "${0%/*}/lib/test-lib.sh"

for page in ktstr.1 cargo-ktstr.1 ktstr.7; do
	check "$page builds with scdoc" sh -c "scdoc <'$KTSTR_SRC/man/$page.scd' >'$T/$page'"
done

expect_status 0 'ktstr --help exits 0' ktstr --help
commands=$(sed -n '/^Commands:/,/^$/p' "$out" | awk 'NR > 1 && NF {print $1}')
like "$commands" 'kernel' 'help lists commands'
for cmd in $commands; do
	like "$(cat "$KTSTR_SRC/man/ktstr.1.scd")" "^\*$cmd(\*| )" "ktstr(1) documents $cmd"
	like "$(cat "$KTSTR_SRC/man/cargo-ktstr.1.scd")" "^\*$cmd(\*| )" "cargo-ktstr(1) documents $cmd"
done

expect_status 0 'kernel --help exits 0' ktstr kernel --help
for sub in $(sed -n '/^Commands:/,/^$/p' "$out" | awk 'NR > 1 && /^  [a-z]/ {print $1}'); do
	like "$(cat "$KTSTR_SRC/man/ktstr.1.scd")" "^\*kernel $sub\*" "ktstr(1) documents kernel $sub"
	like "$(cat "$KTSTR_SRC/man/cargo-ktstr.1.scd")" "^\*kernel $sub\*" "cargo-ktstr(1) documents kernel $sub"
done
for opt in --keep --corrupt-only --force --json; do
	like "$(cat "$KTSTR_SRC/man/ktstr.1.scd")" "\*$opt\*" "ktstr(1) names kernel $opt"
done
done_testing
