#!/bin/sh
# ktstr-stats options, directory discovery and the cargo ktstr commands.
. "${0%/*}/lib/test-lib.sh"
. "$KTSTR_SRC/t/fixtures/sidecars/helpers.sh"

fixtures=$KTSTR_SRC/t/fixtures/sidecars/gauntlet
nr_fixtures=$(ls "$fixtures"/*.ktstr.json | wc -l)

# Help and the man page.
expect_status 0 '--help exits 0' ktstr-stats --help
like "$(head -1 "$out")" '^Usage: ktstr-stats ' '--help prints usage on stdout'
is "$(wc -c <"$err" | tr -d ' ')" 0 '--help prints nothing on stderr'
help_options=$(grep -oE -- '--[a-z][a-z-]*' "$out" | sort -u)
man_options=$(sed -n '/^# OPTIONS/,/^# /p' "$KTSTR_SRC/man/ktstr-stats.1.scd" |
	grep -oE -- '--[a-z][a-z-]*' | sort -u)
is "$help_options" "$man_options" '--help and man page list the same options'

# --version, as every ktstr tool has it.
for flag in --version -V; do
	expect_status 0 "$flag exits 0" ktstr-stats $flag
	is "$(cat "$out")" "ktstr-stats $(ktstr --version | cut -d' ' -f2)" "$flag prints the name and version"
	is "$(wc -c <"$err" | tr -d ' ')" 0 "$flag prints nothing on stderr"
done
# ktstr-verifier, the other reader of sidecars, has the same --version.
for flag in --version -V; do
	expect_status 0 "ktstr-verifier $flag exits 0" ktstr-verifier $flag
	is "$(cat "$out")" "ktstr-verifier $(ktstr --version | cut -d' ' -f2)" \
		"ktstr-verifier $flag prints the name and version"
done

expect_status 2 'unknown option is a usage error' ktstr-stats --frobnicate
like "$(head -1 "$err")" "unknown option '--frobnicate'" 'unknown option is named'
like "$(cat "$err")" "ktstr-stats --help" 'usage error points at --help'
expect_status 2 '--dir without a path is a usage error' ktstr-stats --dir
like "$(cat "$err")" "option '--dir' requires an argument" 'missing --dir path is named'
expect_status 2 '--json with a value is a usage error' ktstr-stats --json=yes
like "$(cat "$err")" "option '--json' takes no argument" '--json value is rejected'
expect_status 2 'stray argument is a usage error' ktstr-stats "$fixtures"
like "$(cat "$err")" "unexpected argument" 'stray argument is named'

# Directories that cannot be read.
expect_status 2 'missing directory exits 2' ktstr-stats --dir "$T/nowhere"
is "$(cat "$err")" "ktstr-stats: open sidecar directory '$T/nowhere': No such file or directory" \
	'missing directory error names it and the cause'
is "$(wc -c <"$out" | tr -d ' ')" 0 'missing directory prints no report'

printf 'not a directory\n' >"$T/plain-file"
expect_status 2 'file given as --dir exits 2' ktstr-stats --dir "$T/plain-file"
one_line_error 'file given as --dir is one line'
like "$(cat "$err")" "'$T/plain-file': Not a directory" 'file given as --dir names the cause'

mkdir -p "$T/locked"
cp "$fixtures"/steady-1n1l2c1t-default-*-1.ktstr.json "$T/locked/"
chmod 000 "$T/locked"
run without_dac_override ktstr-stats --dir "$T/locked"
is "$status" 2 'directory without permission exits 2'
one_line_error 'directory without permission is one line'
like "$(cat "$err")" "open sidecar directory '$T/locked': Permission denied" \
	'directory without permission names the cause'
chmod 755 "$T/locked"

# A missing directory among several fails the whole run.
expect_status 2 'missing second --dir exits 2' ktstr-stats --dir "$fixtures" --dir "$T/nowhere"
is "$(wc -c <"$out" | tr -d ' ')" 0 'missing second --dir prints no report'

# An empty directory.
mkdir -p "$T/empty"
expect_status 0 'empty directory exits 0' ktstr-stats --dir "$T/empty"
is "$(cat "$err")" "ktstr-stats: no sidecars in '$T/empty'" 'empty directory is reported as such'
is "$(wc -c <"$out" | tr -d ' ')" 0 'empty directory prints no report'
expect_status 0 'empty directory with --json exits 0' ktstr-stats --dir "$T/empty" --json
is "$(jq -c '[.files.read, .gauntlet, .verifier, .callback_profile, .kvm]' "$out")" '[0,null,null,null,null]' \
	'empty directory JSON has no sections'

# Other files, hidden files and deeper directories are not read.
mkdir -p "$T/mixed/sub/deeper"
cp "$fixtures"/steady-1n1l2c1t-default-*-1.ktstr.json "$T/mixed/a.ktstr.json"
cp "$fixtures"/steady-1n1l2c1t-default-*-1.ktstr.json "$T/mixed/sub/b.ktstr.json"
cp "$fixtures"/steady-1n1l2c1t-default-*-1.ktstr.json "$T/mixed/sub/deeper/c.ktstr.json"
cp "$fixtures"/steady-1n1l2c1t-default-*-1.ktstr.json "$T/mixed/.partial.ktstr.json"
cp "$fixtures"/steady-1n1l2c1t-default-*-1.ktstr.json "$T/mixed/notes.json"
run ktstr-stats --dir "$T/mixed" --json
is "$(jq -r '.files.read' "$out")" 2 'reads the directory and one level below'
is "$(wc -c <"$err" | tr -d ' ')" 0 'other files are ignored without warnings'

# Discovery without --dir.
unset KTSTR_SIDECAR_DIR CARGO_TARGET_DIR
project=$T/project
make_repo "$project" 'feature/topo'
run_dir=$project/target/ktstr/feature-topo-$(git -C "$project" rev-parse HEAD | cut -c1-7)
mkdir -p "$project/src"
cd "$project/src" || exit 1
expect_status 0 'missing default directory exits 0' ktstr-stats
is "$(cat "$err")" "ktstr-stats: no sidecars: '$run_dir' does not exist (run the tests first, or pass --dir)" \
	'missing default directory names the path'
mkdir -p "$run_dir"
cp "$fixtures"/*.ktstr.json "$run_dir/"
run ktstr-stats --json
is "$status" 0 'default directory exits 0'
is "$(jq -r '.dirs[0]' "$out")" "$run_dir" 'default is target/ktstr/<branch>-<commit> of the repository'
is "$(jq -r '.files.read' "$out")" "$nr_fixtures" 'default directory sidecars are read'

CARGO_TARGET_DIR=$T/cargo-target run ktstr-stats --json
is "$(jq -r '.dirs[0]' "$out")" "$T/cargo-target/ktstr/feature-topo-${run_dir##*-}" \
	'CARGO_TARGET_DIR replaces the target directory'

KTSTR_SIDECAR_DIR=$fixtures run ktstr-stats --json
is "$(jq -r '.dirs[0]' "$out")" "$fixtures" 'KTSTR_SIDECAR_DIR is read without --dir'
KTSTR_SIDECAR_DIR=$T/nowhere run ktstr-stats
is "$status" 2 'missing KTSTR_SIDECAR_DIR exits 2'
like "$(cat "$err")" "'$T/nowhere': No such file or directory" 'missing KTSTR_SIDECAR_DIR is named'
KTSTR_SIDECAR_DIR=$fixtures run ktstr-stats --json --dir "$T/empty"
is "$(jq -c '.dirs' "$out")" "[\"$T/empty\"]" '--dir wins over KTSTR_SIDECAR_DIR'

mkdir -p "$T/outside"
cd "$T/outside" || exit 1
GIT_CEILING_DIRECTORIES=$T run ktstr-stats
is "$status" 0 'outside a repository exits 0'
like "$(cat "$err")" "warning: '$T/outside' is not inside a git repository" 'outside a repository warns'
like "$(cat "$err")" "'$T/outside/target/ktstr/unknown-unknown' does not exist" \
	'outside a repository uses unknown-unknown'
cd "$T" || exit 1

# The dispatcher's commands run the tool.
run cargo-ktstr ktstr test-stats --dir "$fixtures" --json
is "$status" 0 'cargo ktstr test-stats exits 0'
is "$(jq -r '.files.read' "$out")" "$nr_fixtures" 'cargo ktstr test-stats reads the sidecars'
run cargo-ktstr ktstr stats --dir "$fixtures" --json
is "$(jq -r '.files.read' "$out")" "$nr_fixtures" 'cargo ktstr stats is an alias'
run ktstr test-stats --help
like "$(head -1 "$out")" '^Usage: ktstr-stats ' 'ktstr test-stats --help reaches the tool'

done_testing
