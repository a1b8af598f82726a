#!/bin/sh
# ktstr-verifier collapse on real verifier logs from the Debian 7.3 kernel:
# the folded output matches the reviewed expected files, and bad input fails
# with one line.
. "${0%/*}/lib/test-lib.sh"

F=$KTSTR_SRC/t/fixtures/verifier

expect_status 0 'collapse single loop' ktstr-verifier collapse "$F/verify-loop.log"
check 'single loop matches expected' cmp -s "$out" "$F/verify-loop.collapsed"
is "$(grep -c '^--- 64x of the following 11 lines ---$' "$out")" 1 'single loop has one block of 64'
is "$(wc -l <"$out" | tr -d ' ')" 65 'single loop folds to 65 lines'

expect_status 0 'collapse nested loop' ktstr-verifier collapse "$F/nested-loop.log"
check 'nested loop matches expected' cmp -s "$out" "$F/nested-loop.collapsed"
is "$(grep -c '^--- 4x of the following 56 lines ---$' "$out")" 1 'outer loop folded once'
is "$(grep -c '^--- 6x of the following 17 lines ---$' "$out")" 2 'inner loop folded in kept outer rounds'

expect_status 0 'collapse log without cycle' ktstr-verifier collapse "$F/fail-verify.log"
check 'log without cycle unchanged' cmp -s "$out" "$F/fail-verify.log"

ktstr-verifier collapse <"$F/verify-loop.log" >"$T/stdin.out" 2>"$T/stdin.err"
is "$?" 0 'collapse from stdin exits 0'
check 'stdin gives the same output' cmp -s "$T/stdin.out" "$F/verify-loop.collapsed"
ktstr-verifier collapse - <"$F/nested-loop.log" >"$T/dash.out" 2>/dev/null
check 'dash reads stdin' cmp -s "$T/dash.out" "$F/nested-loop.collapsed"

expect_status 0 'collapse --raw' ktstr-verifier collapse --raw "$F/verify-loop.log"
check 'raw copies the log through' cmp -s "$out" "$F/verify-loop.log"

expect_status 2 'missing log file' ktstr-verifier collapse "$T/no-such.log"
like "$(cat "$err")" "cannot read verifier log '$T/no-such.log': No such file or directory" \
	'missing log error names the file'
one_line_error 'missing log error is one line'
is "$(wc -c <"$out" | tr -d ' ')" 0 'nothing on stdout for a missing log'

expect_status 2 'collapse rejects --json' ktstr-verifier collapse --json "$F/verify-loop.log"
like "$(head -n1 "$err")" "'collapse' prints a log, not JSON" 'json rejection says why'
expect_status 2 'collapse takes one file' ktstr-verifier collapse "$F/verify-loop.log" "$F/fail-verify.log"
expect_status 2 'collapse rejects run options' ktstr-verifier collapse --all-profiles "$F/verify-loop.log"
like "$(head -n1 "$err")" "'collapse' takes only --raw, --json and -v" 'run option rejection says why'
done_testing
