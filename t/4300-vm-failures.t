#!/bin/sh
# Runs that fail are results: a guest kernel panic, a hang past --timeout,
# a guest that stops without reporting, QEMU failing to start and a signal
# to ktstr-vm each end with their own status and a message with the last
# console lines, and leave no QEMU and no files behind.
: "${KTSTR_ASSET_DIR:=${XDG_CACHE_HOME:-$HOME/.cache}/ktstr/test-assets}"
export KTSTR_ASSET_DIR
. "${0%/*}/lib/test-lib.sh"
require_assets
export KTSTR_ACCEL=tcg KTSTR_TEST_KERNEL=$KTSTR_ASSET_KERNEL
export TMPDIR=$T/tmp
mkdir "$TMPDIR"

json_field() {
	jq -r "$1" "$out"
}

# A crash through sysrq panics the kernel (panic=-1 then ends QEMU).
run ktstr-vm --json --console-log "$T/console.log" --exec 'echo c >/proc/sysrq-trigger; sleep 30'
is "$status" 123 'panic: status 123'
like "$(cat "$err")" 'the guest kernel panicked \(Kernel panic - not syncing: sysrq triggered crash\); last console lines:' \
	'panic: names the panic message'
like "$(cat "$err")" '\| .*(Call Trace|Kernel Offset|end Kernel panic)' 'panic: quotes the console'
is "$(json_field .outcome)" panic 'panic: json outcome'
like "$(json_field .console_tail)" 'Kernel panic' 'panic: json console tail'
like "$(cat "$T/console.log")" 'Kernel panic - not syncing: sysrq triggered crash' 'panic: --console-log has it all'
like "$(head -c 300 "$T/console.log")" 'SeaBIOS' '--console-log starts at the firmware'

# A command that never ends: killed at --timeout.
run ktstr-vm --timeout 8 --exec 'sleep 600'
is "$status" 124 'hang: status 124'
like "$(cat "$err")" 'the VM timed out after 8 s \(--timeout\)' 'hang: names the timeout'

# A guest that powers off behind init's back never reports a status.
run ktstr-vm --exec 'echo o >/proc/sysrq-trigger; sleep 30'
is "$status" 122 'no exit record: status 122'
like "$(cat "$err")" 'the guest stopped without reporting an exit status' 'no exit record: says so'
like "$(cat "$err")" 'reboot: Power down' 'no exit record: quotes the console'

# QEMU that cannot start: its own message is shown.
run ktstr-vm --memory-mb 16000000 --exec true
is "$status" 125 'QEMU failure: status 125'
like "$(cat "$err")" "^ktstr-vm: QEMU 'qemu-system-x86_64' exited with status 1; its output" \
	'QEMU failure: names the status'
like "$(cat "$err")" 'qemu-system-x86_64: .*guest memory' "QEMU failure: quotes QEMU"

KTSTR_QEMU=$T/no-qemu run ktstr-vm --exec true
is "$status" 125 'missing QEMU: status 125'
like "$(cat "$err")" "cannot run QEMU '$T/no-qemu': No such file or directory" 'missing QEMU: names it'

# QEMU that exits at once without a word: the status is the cause.
KTSTR_QEMU=/bin/false run ktstr-vm --exec true
is "$status" 125 'silent QEMU failure: status 125'
like "$(cat "$err")" "^ktstr-vm: QEMU '/bin/false' exited with status 1 and printed nothing\$" \
	'silent QEMU failure: names the status'

# A program that exits 0 without starting a VM is a QEMU failure, with its
# output, not a guest that stopped early.
printf '#!/bin/sh\necho not a VM\necho not a VM either >&2\n' >"$T/fake-qemu"
chmod +x "$T/fake-qemu"
KTSTR_QEMU=$T/fake-qemu run ktstr-vm --exec true
is "$status" 125 'QEMU that never connects: status 125'
like "$(cat "$err")" "^ktstr-vm: QEMU '$T/fake-qemu' exited with status 0; its output" \
	'QEMU that never connects: names the status'
like "$(cat "$err")" '\| not a VM either' 'QEMU that never connects: quotes its output'

# A QEMU killed by a signal is named by the signal, not by 128+N.
printf '#!/bin/sh\nkill -ABRT $$\n' >"$T/abort-qemu"
chmod +x "$T/abort-qemu"
KTSTR_QEMU=$T/abort-qemu run ktstr-vm --exec true
is "$status" 125 'QEMU killed by a signal: status 125'
like "$(cat "$err")" "^ktstr-vm: QEMU '$T/abort-qemu' was killed by SIGABRT" 'QEMU killed by a signal: names it'

# A wrapper in KTSTR_QEMU that does not exec: its child keeps QEMU's
# output pipe open, yet the timeout ends the run and nothing is left.
printf '#!/bin/sh\nsleep 4321\necho done\n' >"$T/wrapper-qemu"
chmod +x "$T/wrapper-qemu"
KTSTR_QEMU=$T/wrapper-qemu run timeout -s KILL 60 ktstr-vm --timeout 3 --exec true
is "$status" 124 'wrapper that never connects: times out'
like "$(cat "$err")" '^ktstr-vm: the VM timed out after 3 s \(--timeout\) \(the console printed nothing\)$' \
	'wrapper: the timeout is named'
is "$(pgrep -fx 'sleep 4321' | wc -l | tr -d ' ')" 0 "wrapper: its child is killed too"

# SIGTERM to ktstr-vm: QEMU is killed, 143, the directory removed.
ktstr-vm --exec 'sleep 600' >"$T/term.out" 2>"$T/term.err" </dev/null &
vm=$!
sleep 3
kill -TERM "$vm"
wait "$vm"
is "$?" 143 'SIGTERM: status 143'
like "$(cat "$T/term.err")" 'stopped by Terminated; the VM was killed' 'SIGTERM: says so'
# QEMU runs with the run directory on its command line; none may be left.
sleep 1
is "$(pgrep -f "qemu-system-x86_64 .*$TMPDIR" | wc -l | tr -d ' ')" 0 'SIGTERM: QEMU is gone'
is "$(ls -A "$TMPDIR")" '' 'no run directory left behind'

# SIGKILL cannot be handled, but QEMU dies with ktstr-vm all the same.
ktstr-vm --exec 'sleep 600' >/dev/null 2>&1 </dev/null &
vm=$!
sleep 3
kill -KILL "$vm"
# The shell reports the killed job on stderr; that line is not the test's.
{ wait "$vm"; } 2>/dev/null
is "$?" 137 'SIGKILL: status 137'
sleep 1
is "$(pgrep -f "qemu-system-x86_64 .*$TMPDIR" | wc -l | tr -d ' ')" 0 'SIGKILL: QEMU is gone too'
is "$(ls -A "$TMPDIR" | sed -n "s/^ktstr-vm\.$vm\.[^.]\{6\}\$/owner/p")" owner \
	'SIGKILL: the run directory names its owner'
# The next ktstr-vm removes it, even one that stops before it boots.
KTSTR_QEMU=$T/no-qemu run ktstr-vm --exec true
is "$(ls -A "$TMPDIR")" '' 'SIGKILL: the next run removes the directory'
done_testing
