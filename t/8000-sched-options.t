#!/bin/sh
# Scenario options of ktstr-vm that need no VM: the lists, and every kind of
# bad input, which must fail before a kernel is even looked for.
. "${0%/*}/lib/test-lib.sh"

FIX=$KTSTR_SRC/t/fixtures/scenarios

expect_status 0 'ktstr-vm --help exits 0' ktstr-vm --help
for option in --scheduler --sched-args --scenario --list-scenarios --work-type \
	--workers --cgroups --cpuset --duration --max-gap-ms --max-spread-pct \
	--sched-enable-timeout --sidecar-dir --profile --flags; do
	like "$(cat "$out")" "^ +$option " "help lists $option"
done

expect_status 0 '--list-scenarios exits 0' ktstr-vm --list-scenarios
for name in steady cpuset_split oversubscribed mixed_workloads ping_pong churn; do
	like "$(cat "$out")" "^$name +[a-zA-Z]" "--list-scenarios lists $name with a description"
done
is "$(wc -l <"$T/.err" | tr -d ' ')" 0 '--list-scenarios prints nothing on stderr'

expect_status 0 '--list-work-types exits 0' ktstr-vm --list-work-types
is "$(cut -d' ' -f1 "$out" | tr '\n' ' ')" \
	'CpuSpin YieldHeavy Mixed IoSync Bursty PipeIo FutexPingPong CachePressure ForkExit AffinityChurn ' \
	'--list-work-types names the ten work types in order'

# Every bad input below must be rejected before the kernel is resolved: no
# kernel is given, so reaching that step would fail with another message.
unset KTSTR_KERNEL KTSTR_TEST_KERNEL

expect_status 125 'missing scheduler is rejected' ktstr-vm --scheduler "$T/no-such-scx"
one_line_error 'missing scheduler error is one line'
like "$(cat "$err")" "cannot use the scheduler '$T/no-such-scx' \(--scheduler\): No such file or directory" \
	'missing scheduler error names the path and the cause'

printf '#!/bin/sh\n' >"$T/scx_plain"
chmod 0644 "$T/scx_plain"
expect_status 125 'non-executable scheduler is rejected' ktstr-vm --scheduler "$T/scx_plain"
one_line_error 'non-executable scheduler error is one line'
like "$(cat "$err")" "scheduler '$T/scx_plain' \(--scheduler\): it is not executable; run 'chmod \+x" \
	'non-executable scheduler error says how to fix it'

printf 'not a program\n' >"$T/scx_text"
expect_status 125 'text file as scheduler is rejected' ktstr-vm --scheduler "$T/scx_text"
like "$(cat "$err")" "scheduler '$T/scx_text' \(--scheduler\): it is neither an ELF executable nor a script" \
	'text file is not advised chmod'
expect_status 125 '--sched-args without a scheduler is rejected' ktstr-vm --no-scheduler --sched-args -v
like "$(cat "$err")" '--sched-args needs a scheduler' '--sched-args without a scheduler is named'

mkdir "$T/scx_dir"
expect_status 125 'directory as scheduler is rejected' ktstr-vm --scheduler "$T/scx_dir"
like "$(cat "$err")" "not a regular file" 'directory as scheduler is named as such'

KTSTR_SCHEDULER=$T/no-such-env-scx expect_status 125 'KTSTR_SCHEDULER is checked like --scheduler' \
	ktstr-vm --scenario steady
like "$(cat "$err")" "'$T/no-such-env-scx' \(KTSTR_SCHEDULER\)" 'the error names KTSTR_SCHEDULER'

expect_status 125 'unknown --work-type is rejected' ktstr-vm --work-type CpuSpinn
like "$(head -1 "$err")" "invalid --work-type 'CpuSpinn': expected one of CpuSpin, YieldHeavy, .*AffinityChurn" \
	'unknown --work-type lists the valid ones'
like "$(tail -1 "$err")" "Try 'ktstr-vm --help'" 'unknown --work-type points at --help'

expect_status 125 'unknown work type in a file is rejected' ktstr-vm --scenario "$FIX/unknown-work-type.json"
one_line_error 'unknown work type in a file is one line'
like "$(cat "$err")" "invalid scenario file '.*unknown-work-type.json': cgroups\[0\].work_type 'CpuSpinn' is not a work type" \
	'unknown work type in a file names the file, the place and the value'

expect_status 125 'cpuset beyond the topology is rejected' \
	ktstr-vm --topology 1,1,2,1 --cpuset 0-3
one_line_error 'cpuset beyond the topology is one line'
like "$(cat "$err")" "invalid cpuset of cgroup 'cg0' '0-3': CPU 3 is not in the topology 1n1l2c1t, which has CPUs 0-1" \
	'cpuset error names the CPU and the topology'

expect_status 125 'cpuset beyond the topology in a file is rejected' \
	ktstr-vm --topology 1,1,2,1 --scenario "$FIX/cpuset-beyond.json"
like "$(cat "$err")" "CPU 3 is not in the topology 1n1l2c1t" 'file cpuset error names the CPU'

expect_status 125 'invalid cpuset syntax is rejected' ktstr-vm --cpuset 1-x
like "$(cat "$err")" "invalid cpuset of cgroup 'cg0' '1-x': expected a CPU number" 'cpuset syntax error says what was expected'

expect_status 125 'malformed scenario file is rejected' ktstr-vm --scenario "$FIX/malformed.json"
one_line_error 'malformed scenario error is one line'
like "$(cat "$err")" "invalid scenario file '.*malformed.json': " 'malformed scenario error names the file'

expect_status 125 'unknown key in a scenario file is rejected' ktstr-vm --scenario "$FIX/unknown-key.json"
like "$(cat "$err")" "unknown key 'worker' in cgroups\[0\]" 'unknown key error names the key and where it is'

expect_status 125 'missing scenario file is rejected' ktstr-vm --scenario "$T/none.json"
like "$(cat "$err")" "cannot read scenario file '$T/none.json': No such file or directory" \
	'missing scenario file error names the file'

expect_status 125 'unknown built-in scenario is rejected' ktstr-vm --scenario stedy
like "$(cat "$err")" "unknown scenario 'stedy': not a built-in scenario \(see --list-scenarios\)" \
	'unknown built-in points at --list-scenarios'

expect_status 125 'odd PipeIo worker count is rejected' ktstr-vm --work-type PipeIo --workers 3
like "$(cat "$err")" "invalid number of workers 3 in cgroup 'cg0': PipeIo workers run in pairs" \
	'odd paired worker count is explained'

expect_status 125 'split needs a CPU per cgroup' ktstr-vm --cgroups 2 --cpuset split
like "$(cat "$err")" "invalid cpuset 'split': 2 cgroups cannot each get a CPU of their own, since the topology 1n1l1c1t has 1" \
	'split error names the counts'

expect_status 125 '--cgroups with --scenario is rejected' ktstr-vm --scenario steady --cgroups 2
expect_status 125 'three cpusets for two cgroups are rejected' \
	ktstr-vm --topology 1,1,2,1 --cgroups 2 --cpuset 0 --cpuset 1 --cpuset 0
like "$(head -1 "$err")" "3 --cpuset options for 2 cgroups" 'cpuset count error names both counts'
expect_status 125 'zero workers are rejected' ktstr-vm --workers 0
expect_status 125 'negative duration is rejected' ktstr-vm --duration -1
expect_status 125 'non-numeric threshold is rejected' ktstr-vm --max-gap-ms soon
like "$(head -1 "$err")" "invalid --max-gap-ms 'soon': expected a number" 'threshold error names the value'
expect_status 125 '--profile without a scheduler is rejected' ktstr-vm --profile llc
expect_status 125 '--exec with a scenario is rejected' ktstr-vm --scenario steady --exec true

check 'no sidecar is written for rejected input' test ! -e "$KTSTR_SIDECAR_DIR"
done_testing
