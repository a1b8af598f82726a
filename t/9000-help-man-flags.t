#!/bin/sh
# --help of every command against its man page, and the completion table
# against --help: each flag difference is named in the test output.
. "${0%/*}/lib/test-lib.sh"

MAN=$KTSTR_SRC/man

# help_flags: read --help text on stdin, print its option flags, sorted.
# An option line starts with a flag after at most 8 spaces (deeper lines
# continue a description); its flags are those in the column before the
# first run of two spaces.
help_flags() {
	grep -E '^ {1,8}-' |
		sed 's/^ *//; s/   */\t/' | cut -f1 |
		grep -oE '(^|[ ,[])--?[A-Za-z0-9][-A-Za-z0-9]*' |
		sed 's/^[ ,[]//' | sort -u
}

# man_flags PAGE [COMMAND]: the flags of an scdoc page's definition terms,
# outside SYNOPSIS.  A term is a line that starts with "*" after optional
# tabs and is followed by a line indented deeper (its description).
# With COMMAND, only the block of terms that starts with "*COMMAND*" or
# "*COMMAND -" (up to the next unindented term), plus -h and --help when
# the page documents them once for all commands; COMMAND "#OPTIONS" means
# the terms of the OPTIONS section.
man_flags() {
	awk -v cmd="${2-}" '
	function flags(line,    t) {
		while (match(line, /(^|[^-A-Za-z0-9_])--?[A-Za-z][-A-Za-z0-9]*/)) {
			t = substr(line, RSTART, RLENGTH)
			sub(/^[^-]/, "", t)
			print t
			line = substr(line, RSTART + RLENGTH)
		}
	}
	function tabs(line) { match(line, /^\t*/); return RLENGTH }
	# Decide whether the held line was a term now that its successor is known.
	function settle(next_line) {
		if (held == "" || tabs(next_line) <= tabs(held))
			return
		if (cmd == "#OPTIONS") {
			if (held_section == "# OPTIONS")
				flags(held)
		} else if (cmd == "" || held_block) {
			flags(held)
		}
	}
	/^$/ { next }
	{ settle($0); held = "" }
	/^# / { section = $0; next }
	section == "# SYNOPSIS" { next }
	cmd != "" && cmd != "#OPTIONS" && /^\*-h\*, \*--help\*/ { print "-h"; print "--help"; next }
	cmd != "" && /^\*/ { block = index($0, "*" cmd "*") == 1 || index($0, "*" cmd " -") == 1 }
	/^\t*\*/ { held = $0; held_section = section; held_block = block }
	' "$1" | sort -u
}

# compare NAME GOT_FILE WANT_FILE GOT_LABEL WANT_LABEL: one check; on a
# difference, list each flag and where it is missing.
compare() {
	local missing extra
	missing=$(comm -13 "$2" "$3" | tr '\n' ' ')
	extra=$(comm -23 "$2" "$3" | tr '\n' ' ')
	if [ -z "$missing$extra" ]; then
		ok "$1"
	else
		not_ok "$1"
		[ -n "$extra" ] && diag "only in $4: $extra"
		[ -n "$missing" ] && diag "only in $5: $missing"
	fi
	return 0
}

# not_implemented CMD...: the command's --help says it does not exist yet.
not_implemented() {
	run "$@" --help
	[ "$status" != 0 ] && grep -q 'not implemented' "$err"
}

# 1. Every installed program has a man page.
for prog in "$KTSTR_BUILD"/bin/*; do
	name=${prog##*/}
	if [ -f "$MAN/$name.1.scd" ]; then
		ok "$name has a man page"
	else
		not_ok "$name has a man page"
		diag "missing man/$name.1.scd"
	fi
done

# 2. The standalone tools: --help (and each "Commands:" entry's --help)
# against their page.
for prog in "$KTSTR_BUILD"/bin/ktstr-*; do
	name=${prog##*/}
	[ -f "$MAN/$name.1.scd" ] || continue
	run "$name" --help
	if [ "$status" != 0 ]; then
		not_ok "$name --help exits 0"
		diag "status $status: $(head -c 300 "$err")"
		continue
	fi
	help_flags <"$out" >"$T/help"
	subs=$(sed -n '/^Commands:/,/^$/s/^  \([a-z][-a-z]*\) .*/\1/p' "$out" | sort -u)
	if [ -z "$subs" ]; then
		man_flags "$MAN/$name.1.scd" >"$T/man"
		compare "$name --help matches its page" "$T/help" "$T/man" '--help' 'the man page'
		continue
	fi
	for sub in $subs; do
		run "$name" "$sub" --help
		help_flags <"$out" >"$T/help"
		man_flags "$MAN/$name.1.scd" "$sub" >"$T/man"
		compare "$name $sub --help matches its page" "$T/help" "$T/man" '--help' 'the man page'
	done
done

# 3. The dispatcher: each command path of the completion table, against
# the page that documents it and against the table itself.
run ktstr completions --table
is "$status" 0 'completions --table exits 0'
cp "$out" "$T/table"
page_of() {
	case $1 in
	'' | test | coverage | kernel | 'kernel build' | completions) echo cargo-ktstr ;;
	'kernel list' | 'kernel clean') echo ktstr-cache ;;
	verifier*) echo ktstr-verifier ;;
	shell) echo ktstr-vm ;;
	test-stats) echo ktstr-stats ;;
	esac
}
section_of() {
	case $1 in
	'') echo '#OPTIONS' ;;
	'kernel list') echo list ;;
	'kernel clean') echo clean ;;
	test | coverage | kernel | 'kernel build' | completions) echo "$1" ;;
	esac
}
cut -f1 "$T/table" | sort -u >"$T/paths"
while IFS= read -r cmdpath; do
	label="ktstr${cmdpath:+ $cmdpath}"
	page=$(page_of "$cmdpath")
	# shellcheck disable=SC2086
	if not_implemented ktstr $cmdpath; then
		skip "$label: not implemented yet"
		continue
	fi
	# shellcheck disable=SC2086
	run ktstr $cmdpath --help
	if [ "$status" != 0 ]; then
		not_ok "$label --help exits 0"
		diag "status $status: $(head -c 300 "$err")"
		continue
	fi
	help_flags <"$out" >"$T/help"
	awk -F'\t' -v p="$cmdpath" '$1 == p && $2 ~ /^-/ { print $2 }' "$T/table" | sort -u >"$T/tab"
	parent=${cmdpath% *}
	# shellcheck disable=SC2086
	if [ "$parent" != "$cmdpath" ] && ktstr $parent --help 2>/dev/null | cmp -s - "$out"; then
		# A command that prints its parent's help: its flags are among those.
		is "$(comm -23 "$T/tab" "$T/help" | tr '\n' ' ')" '' \
			"$label: table flags are in the shared --help"
		continue
	fi
	compare "$label: completion table matches --help" "$T/tab" "$T/help" 'the table' '--help'
	if [ -z "$page" ] || [ ! -f "$MAN/$page.1.scd" ]; then
		not_ok "$label is documented"
		diag "no man page man/${page:-?}.1.scd"
		continue
	fi
	man_flags "$MAN/$page.1.scd" "$(section_of "$cmdpath")" >"$T/man"
	compare "$label --help matches $page(1)" "$T/help" "$T/man" '--help' "$page(1)"
done <"$T/paths"

# 4. The table's subcommands are those that the commands' help lists.
awk -F'\t' '$1 == "" && $3 == "command" { print $2 }' "$T/table" | sort >"$T/tab"
ktstr --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][-a-z]*\) .*/\1/p' | sort >"$T/help"
compare 'table has the commands of ktstr --help' "$T/tab" "$T/help" 'the table' '--help'
awk -F'\t' '$1 == "kernel" && $3 == "command" { print $2 }' "$T/table" | sort >"$T/tab"
ktstr kernel --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][-a-z]*\) .*/\1/p' | sort >"$T/help"
compare 'table has the commands of kernel --help' "$T/tab" "$T/help" 'the table' '--help'

done_testing
