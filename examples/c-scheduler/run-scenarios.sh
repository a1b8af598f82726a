#!/bin/sh
# Run scenarios against a sched_ext scheduler written in C (such as the
# kernel's tools/sched_ext/scx_simple), one VM boot per scenario, then
# summarise the runs with ktstr test-stats.
#
# Usage: run-scenarios.sh [-h] [-k KERNEL] [-t TOPOLOGY] [-d SECONDS] [-a ARGS]
#                         SCHEDULER [SCENARIO...]
#
#   -k KERNEL    kernel to boot: a version, cache key, source tree or boot
#                image; default KTSTR_TEST_KERNEL, KTSTR_KERNEL or the
#                newest cached kernel
#   -t TOPOLOGY  NUMA nodes, LLCs, cores per LLC, threads per core
#                (default 1,1,2,1)
#   -d SECONDS   how long the workers of each scenario run (default 2)
#   -a ARGS      arguments for the scheduler, split at blanks
#   SCENARIO     built-in scenarios (ktstr-vm --list-scenarios) or scenario
#                files; default: steady two_cgroups
#
# The sidecars go to a new directory under $KTSTR_SIDECAR_DIR, or under
# ./ktstr-runs when that is not set; the script prints its path last.
# Exit status: 0 when every scenario passed, 1 when one failed, 2 on a
# usage error or when a VM run itself failed (no kernel, QEMU, timeout).
set -u
prog=${0##*/}

usage() {
	echo "usage: $prog [-h] [-k KERNEL] [-t TOPOLOGY] [-d SECONDS] [-a ARGS] SCHEDULER [SCENARIO...]" >&2
	exit 2
}

# The comment block at the top of this file is the help text.
print_help() {
	sed -n '2,/^set -u/{/^#/s/^# \{0,1\}//p}' "$0"
	exit 0
}

kernel= topology=1,1,2,1 duration=2 sched_args=
while getopts k:t:d:a:h opt; do
	case $opt in
	k) kernel=$OPTARG ;;
	t) topology=$OPTARG ;;
	d) duration=$OPTARG ;;
	a) sched_args=$OPTARG ;;
	h) print_help ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
scheduler=$1
shift
[ $# -ge 1 ] || set -- steady two_cgroups

if [ ! -x "$scheduler" ]; then
	echo "$prog: scheduler '$scheduler' is not an executable file" >&2
	exit 2
fi
for tool in ktstr-vm ktstr; do
	if ! command -v "$tool" >/dev/null; then
		echo "$prog: $tool not found on PATH; add the bin directory of ktstr" >&2
		exit 2
	fi
done

# run_scenario SCENARIO: one VM boot; returns the status of ktstr-vm.
run_scenario() {
	set -- --scheduler "$scheduler" --scenario "$1" --topology "$topology" \
		--duration "$duration" --sidecar-dir "$sidecars"
	[ -n "$kernel" ] && set -- "$@" --kernel "$kernel"
	[ -f "$kernel" ] && set -- "$@" --allow-image
	[ -n "$sched_args" ] && set -- "$@" --sched-args "$sched_args"
	ktstr-vm "$@" >/dev/null
}

sidecars=${KTSTR_SIDECAR_DIR:-./ktstr-runs}/$(date -u +%Y%m%dT%H%M%SZ)-$$
mkdir -p "$sidecars" || exit 2

failed=0 broken=0
for scenario in "$@"; do
	run_scenario "$scenario"
	status=$?
	case $status in
	0) echo "PASS $scenario" ;;
	1) echo "FAIL $scenario"; failed=$((failed + 1)) ;;
	*) echo "ERROR $scenario (ktstr-vm exit status $status)"; broken=$((broken + 1)) ;;
	esac
done

# The analysis goes to stderr, so stdout carries only the results.
ktstr test-stats --dir "$sidecars" >&2
echo "$sidecars"
[ "$broken" -eq 0 ] || exit 2
[ "$failed" -eq 0 ] || exit 1
exit 0
