#!/bin/sh
# ktstr-cache store under concurrency and interruption.
#
# KTSTR_CACHE_TEST_PAUSE_MS (a test-only hook) holds a store after it copied
# the image into its temporary directory, before metadata.json and the rename.
. "${0%/*}/lib/test-lib.sh"
. "$KTSTR_SRC/t/fixtures/cache/helpers.sh"

export KTSTR_SHARE_DIR=$T/share
key=6.14.2-tarball-x86_64-kc1a2b3c4d
fake_build "$T/b"
desc 6.14.2 "$T/b" >"$T/d.json"

# wait_for_temp: wait (up to 20 s) until a store has copied its image.
wait_for_temp() {
	for i in $(seq 200); do
		ls "$KTSTR_CACHE_DIR"/.tmp-"$key"-*/bzImage >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
visible() {
	ls "$KTSTR_CACHE_DIR" | tr '\n' ' '
}

# Two stores of one key at once: the second waits for the first's lock.
KTSTR_CACHE_TEST_PAUSE_MS=1000 ktstr-cache store <"$T/d.json" >"$T/s1.out" 2>"$T/s1.err" &
first=$!
check 'first store reached its pause' wait_for_temp
ktstr-cache store <"$T/d.json" >"$T/s2.out" 2>"$T/s2.err" &
second=$!
wait $first
is "$?" 0 'first of two racing stores exits 0'
wait $second
is "$?" 0 'second of two racing stores exits 0'
is "$(visible)" "$key " 'exactly one entry remains'
is "$(jq -r .image_path "$T/s1.out")" "$(jq -r .image_path "$T/s2.out")" 'both print the same cached image'
like "$(cat "$T/s2.err")" 'already cached' 'the second store waited for the lock and reused the entry'
run ktstr-cache lookup "$key"
is "$status" 0 'the entry is valid'
check 'no temporary directory remains' sh -c "! ls -a '$KTSTR_CACHE_DIR' | grep -q '^\.tmp-'"

# Two forced stores: each replaces the entry in turn, one valid entry stays.
KTSTR_CACHE_TEST_PAUSE_MS=500 ktstr-cache store --force <"$T/d.json" >/dev/null 2>&1 &
first=$!
ktstr-cache store --force <"$T/d.json" >/dev/null 2>&1 &
second=$!
wait $first
s1=$?
wait $second
is "$s1 $?" '0 0' 'two forced stores both exit 0'
is "$(visible)" "$key " 'forced stores leave one entry'
check 'no temporary directory after forced stores' sh -c "! ls -a '$KTSTR_CACHE_DIR' | grep -q '^\.tmp-'"

# A store killed midway leaves no visible entry; the next store cleans up.
ktstr-cache clean --force >/dev/null 2>&1
KTSTR_CACHE_TEST_PAUSE_MS=60000 ktstr-cache store <"$T/d.json" >/dev/null 2>&1 &
victim=$!
check 'store reached its pause' wait_for_temp
kill -KILL $victim
{ wait $victim; } 2>/dev/null
is "$?" 137 'store died of SIGKILL'
is "$(visible)" '' 'no entry is visible after the kill'
expect_status 1 'lookup finds nothing after the kill' ktstr-cache lookup "$key"
run ktstr-cache list --json
is "$(jq '.entries | length' "$out")" 0 'list shows nothing after the kill'
check 'the partial store stays in a hidden directory' \
	sh -c "ls -a '$KTSTR_CACHE_DIR' | grep -q '^\.tmp-$key-$victim\$'"
run_stdin "$T/d.json" ktstr-cache store
is "$status" 0 'next store succeeds'
is "$(visible)" "$key " 'next store creates the entry'
check 'next store removed the dead one'"'"'s directory' \
	sh -c "! ls -a '$KTSTR_CACHE_DIR' | grep -q '^\.tmp-'"

# A replacing store killed midway leaves the old entry as it was.
cp "$KTSTR_CACHE_DIR/$key/metadata.json" "$T/meta.before"
printf 'new image\n' >"$T/b/bzImage"
KTSTR_CACHE_TEST_PAUSE_MS=60000 ktstr-cache store --force <"$T/d.json" >/dev/null 2>&1 &
victim=$!
check 'replacing store reached its pause' wait_for_temp
kill -KILL $victim
{ wait $victim; } 2>/dev/null
check 'old metadata unchanged' cmp -s "$T/meta.before" "$KTSTR_CACHE_DIR/$key/metadata.json"
run ktstr-cache lookup "$key"
is "$status" 0 'old entry still valid after a killed replace'
unlike "$(cat "$KTSTR_CACHE_DIR/$key/bzImage")" 'new image' 'old image still in place'

# SIGINT and SIGTERM remove the partial entry and say so.  A background job
# of a script starts with SIGINT ignored, so env restores its default.
for pair in INT:130 TERM:143; do
	sig=${pair%:*}
	ktstr-cache clean --force >/dev/null 2>&1
	KTSTR_CACHE_TEST_PAUSE_MS=60000 env --default-signal=INT ktstr-cache store --force \
		<"$T/d.json" >/dev/null 2>"$T/sig.err" &
	victim=$!
	check "store reached its pause before SIG$sig" wait_for_temp
	kill -$sig $victim
	{ wait $victim; } 2>/dev/null
	is "$?" "${pair#*:}" "store died of SIG$sig"
	like "$(cat "$T/sig.err")" "^ktstr-cache: interrupted; removed the partial entry '$KTSTR_CACHE_DIR/\\.tmp-$key-$victim'\$" \
		"SIG$sig names the removed partial entry"
	is "$(wc -l <"$T/sig.err" | tr -d ' ')" 1 "SIG$sig message is one line"
	check "SIG$sig leaves no temporary directory" sh -c "! ls -a '$KTSTR_CACHE_DIR' | grep -q '^\\.tmp-'"
done

# clean counts the temporary directories of killed stores that it removes.
KTSTR_CACHE_TEST_PAUSE_MS=60000 ktstr-cache store <"$T/d.json" >/dev/null 2>&1 &
victim=$!
check 'store reached its pause before clean' wait_for_temp
kill -KILL $victim
{ wait $victim; } 2>/dev/null
run ktstr-cache clean --corrupt-only --force
is "$status" 0 'clean of a killed store exits 0'
like "$(cat "$err")" 'removed 1 partial entry left by interrupted stores' 'clean counts the swept directory'
unlike "$(cat "$err")" 'nothing to clean' 'clean does not say nothing to clean'
check 'clean removed the temporary directory' sh -c "! ls -a '$KTSTR_CACHE_DIR' | grep -q '^\\.tmp-'"
done_testing
