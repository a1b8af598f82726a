#!/bin/sh
# ktstr-stats skips files that are not readable sidecars, one warning each.
. "${0%/*}/lib/test-lib.sh"
. "$KTSTR_SRC/t/fixtures/sidecars/helpers.sh"

fixtures=$KTSTR_SRC/t/fixtures/sidecars/gauntlet
good=$(ls "$fixtures"/steady-1n1l2c1t-default-*-1.ktstr.json)
upstream=$fixtures/steady-a41c09e2b7d35f18.ktstr.json
dir=$T/runs
mkdir -p "$dir"

cp "$good" "$dir/good.ktstr.json"
cp "$upstream" "$dir/upstream.ktstr.json"
head -c 700 "$good" >"$dir/truncated.ktstr.json"
: >"$dir/empty.ktstr.json"
jq -s . "$good" >"$dir/array.ktstr.json"
jq '.schema_version = 2' "$good" >"$dir/future.ktstr.json"
printf '{"name": "cargo", "version": "1.0"}\n' >"$dir/foreign.ktstr.json"
printf '{"test_name": "x", "topology": ' >"$dir/cut-mid-key.ktstr.json"
printf 'not json at all\n' >"$dir/invalid.ktstr.json"
jq '.schema_version = "1"' "$good" >"$dir/string-version.ktstr.json"
cp "$good" "$dir/unreadable.ktstr.json"
chmod 000 "$dir/unreadable.ktstr.json"

run without_dac_override ktstr-stats --dir "$dir" --json
is "$status" 0 'bad files do not fail the report'
is "$(jq -r '.files.read' "$out")" 2 'both good sidecars are read'
is "$(jq -r '.files.upstream' "$out")" 1 'upstream sidecar is read as upstream'
is "$(jq -r '.files.skipped' "$out")" 9 'every bad file is counted'
is "$(wc -l <"$err" | tr -d ' ')" 9 'one warning line per bad file'

# reason_of NAME: the skip reason --json gives for a file.
reason_of() {
	jq -r --arg path "$dir/$1" '.skipped_files[] | select(.path == $path) | .reason' "$out"
}
# warning_of NAME: the warning line that names a file.
warning_of() {
	grep -F "'$dir/$1'" "$err"
}

is "$(reason_of truncated.ktstr.json)" truncated 'truncated file is truncated'
like "$(warning_of truncated.ktstr.json)" "^ktstr-stats: warning: skipping '.*': truncated JSON: " \
	'truncated file warning names the cause'
is "$(reason_of cut-mid-key.ktstr.json)" truncated 'file cut after a key is truncated'
is "$(reason_of empty.ktstr.json)" truncated 'empty file is truncated'
like "$(warning_of empty.ktstr.json)" 'truncated JSON: empty document' 'empty file warning says empty'
is "$(reason_of invalid.ktstr.json)" malformed 'text that is not JSON is malformed'
like "$(warning_of invalid.ktstr.json)" 'invalid JSON: ' 'malformed warning says invalid JSON'
is "$(reason_of array.ktstr.json)" foreign 'JSON array is foreign'
like "$(warning_of array.ktstr.json)" 'not a ktstr sidecar: not a JSON object' 'array warning says not an object'
is "$(reason_of foreign.ktstr.json)" foreign 'object without sidecar keys is foreign'
like "$(warning_of foreign.ktstr.json)" 'no test_name, topology or passed key' 'foreign warning names the keys'
is "$(reason_of string-version.ktstr.json)" foreign 'string schema_version is foreign'
is "$(reason_of future.ktstr.json)" future 'schema_version 2 is future'
like "$(warning_of future.ktstr.json)" 'schema_version 2 is newer than this ktstr reads \(1\): upgrade ktstr' \
	'future warning says to upgrade'
is "$(reason_of unreadable.ktstr.json)" unreadable 'file without read permission is unreadable'
like "$(warning_of unreadable.ktstr.json)" 'Permission denied' 'unreadable warning names the cause'
unlike "$(cat "$err")" 'while parsing' 'warnings do not quote the file contents'

# A required key of the wrong type is named with the type it should have;
# a key that is missing gets the message for missing keys.
mkdir -p "$T/types"
cp "$good" "$T/types/good.ktstr.json"
jq '.passed = "yes"' "$good" >"$T/types/passed-string.ktstr.json"
jq '.test_name = 7' "$good" >"$T/types/test-name-number.ktstr.json"
jq '.topology = null' "$good" >"$T/types/topology-null.ktstr.json"
jq '.test_name = ["steady"] | .passed = 1' "$good" >"$T/types/two-wrong.ktstr.json"
jq 'del(.passed)' "$good" >"$T/types/no-passed.ktstr.json"
jq 'del(.topology) | .passed = "yes"' "$good" >"$T/types/missing-and-wrong.ktstr.json"
run ktstr-stats --dir "$T/types" --json
is "$status" 0 'wrong key types do not fail the report'
is "$(jq -r '.files.read' "$out")" 1 'good file next to wrong key types is read'
is "$(jq -r '.files.skipped' "$out")" 6 'every file with a wrong or missing key is skipped'
is "$(jq -c '[.skipped_files[] | .reason] | unique' "$out")" '["foreign"]' \
	'wrong key types are foreign'
is "$(wc -l <"$err" | tr -d ' ')" 6 'one warning line per file with a wrong key'
# type_warning NAME: the warning line that names a file in $T/types.
type_warning() {
	grep -F "'$T/types/$1'" "$err"
}
is "$(type_warning passed-string.ktstr.json)" \
	"ktstr-stats: warning: skipping '$T/types/passed-string.ktstr.json': not a ktstr sidecar: key 'passed' is a string (expected a boolean)" \
	'string passed names the key and both types'
like "$(type_warning test-name-number.ktstr.json)" \
	"not a ktstr sidecar: key 'test_name' is a number \(expected a string\)$" \
	'number test_name names the key and both types'
like "$(type_warning topology-null.ktstr.json)" \
	"not a ktstr sidecar: key 'topology' is null \(expected a string\)$" \
	'null topology names the key'
like "$(type_warning two-wrong.ktstr.json)" \
	"not a ktstr sidecar: key 'test_name' is an array \(expected a string\)$" \
	'first wrong key is named'
like "$(type_warning no-passed.ktstr.json)" \
	'not a ktstr sidecar: no test_name, topology or passed key$' \
	'missing passed keeps the missing-key message'
like "$(type_warning missing-and-wrong.ktstr.json)" \
	"key 'passed' is a string \(expected a boolean\)$" \
	'wrong type is named when another key is missing'

# The report never reads some large values (the scheduler log, per-worker
# statistics), but a syntax error inside them still rejects the file.
mkdir -p "$T/inner"
jq '.scheduler_log = "a } \" ] { \\ \u00e9" | .scenario = {"steps": [{"op": "x"}]}' "$good" \
	>"$T/inner/tricky-strings.ktstr.json"
sed 's/"cgroups": \[/"cgroups": [1,,/' "$good" >"$T/inner/bad-cgroups.ktstr.json"
jq '.scenario = "SCENARIO"' "$good" | sed 's/"SCENARIO"/{"a": nope}/' >"$T/inner/bad-scenario.ktstr.json"
jq '.scheduler_log = "LOG"' "$good" | sed 's/"LOG"/"bad \\q escape"/' >"$T/inner/bad-escape.ktstr.json"
jq '.kargs = ["KARG"]' "$good" | sed 's/"KARG"/1 2/' >"$T/inner/bad-separator.ktstr.json"
run ktstr-stats --dir "$T/inner" --json
is "$(jq -r '.files.read' "$out")" 1 'valid file with tricky strings is read'
is "$(jq -c '[.skipped_files[] | .reason] | unique' "$out")" '["malformed"]' \
	'errors inside unread values are malformed'
is "$(jq -r '.files.skipped' "$out")" 4 'every file with an inner error is skipped'
for name in bad-cgroups bad-scenario bad-escape bad-separator; do
	check "$name is rejected by jq too" sh -c "! jq . '$T/inner/$name.ktstr.json' >/dev/null 2>&1"
done

# The text report counts the unread files too.
run without_dac_override ktstr-stats --dir "$dir"
is "$status" 0 'text report exits 0'
like "$(cat "$out")" 'unread +9 ' 'text report counts unread files'
like "$(cat "$out")" 'runs +2 +\(1 in the upstream ktstr format\)' 'text report counts the runs'

# A directory of nothing but bad files is reported as such.
mkdir -p "$T/only-bad"
cp "$dir/truncated.ktstr.json" "$dir/array.ktstr.json" "$dir/future.ktstr.json" "$T/only-bad/"
expect_status 0 'only bad files exits 0' ktstr-stats --dir "$T/only-bad"
is "$(wc -c <"$out" | tr -d ' ')" 0 'only bad files prints no report'
is "$(tail -1 "$err")" "ktstr-stats: no readable sidecars in '$T/only-bad': 3 files skipped" \
	'only bad files says none was readable'

# A subdirectory without permission is skipped with a warning.
mkdir -p "$T/shards/a" "$T/shards/b"
cp "$good" "$T/shards/a/"
cp "$good" "$T/shards/b/"
chmod 000 "$T/shards/b"
run without_dac_override ktstr-stats --dir "$T/shards" --json
is "$status" 0 'unreadable subdirectory does not fail the report'
is "$(jq -r '.files.read' "$out")" 1 'readable subdirectory is still read'
like "$(cat "$err")" "warning: skipping directory '$T/shards/b': Permission denied" \
	'unreadable subdirectory is named'
chmod 755 "$T/shards/b"

done_testing
