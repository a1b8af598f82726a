#!/bin/sh
# Every example in README.md and doc/*.md runs as written on the project's
# test kernel and schedulers, and prints what the page shows.  Each page is
# one session from a fresh home directory, in the order of its examples;
# examples that need a real network are tagged so and reported as skipped.
. "${0%/*}/lib/test-lib.sh"
require_assets

# The pages tell the reader to set these three.
IMAGE=$KTSTR_ASSET_KERNEL
CONFIG=$KTSTR_ASSET_KCONFIG
SCX=$KTSTR_ASSET_SCX_BIN
export IMAGE CONFIG SCX
unset KTSTR_CACHE_DIR KTSTR_SIDECAR_DIR

examples=0
for page in "$KTSTR_SRC/README.md" "$KTSTR_SRC"/doc/*.md; do
	name=${page#"$KTSTR_SRC"/}
	session=$T/$(echo "$name" | tr / -)

	# A user's scheduler repository, where runs put their sidecars.
	mkdir -p "$session/home" "$session/run" "$session/scx"
	(
		cd "$session/scx" &&
			git init -q -b main . &&
			git -c user.name=t -c user.email=t@t commit -q --allow-empty -m init
	) || { not_ok "$name: session set up"; continue; }

	(cd "$session/scx" && HOME=$session/home perl "$KTSTR_SRC/t/fixtures/readme/run-examples.pl" \
		"$session/run" "$page") >"$session/results" 2>"$session/diag"
	while IFS= read -r line; do
		examples=$((examples + 1))
		line=$(printf '%s' "$line" | sed "s|$KTSTR_SRC/||")
		case $line in
		'ok '*) ok "${line#ok }" ;;
		'not ok '*) not_ok "${line#not ok }" ;;
		'skip '*) skip "${line#skip }" ;;
		esac
	done <"$session/results"
	[ -s "$session/diag" ] && diag "$name:" "$(cat "$session/diag")"
done

check 'pages have examples' test "$examples" -gt 10
done_testing
