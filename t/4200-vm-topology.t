#!/bin/sh
# --topology N,L,C,T as the guest kernel sees it in sysfs: the CPU count, the
# NUMA nodes and their memory, the LLC groups and the SMT siblings.  One
# boot per topology, each printing everything at once.
: "${KTSTR_ASSET_DIR:=${XDG_CACHE_HOME:-$HOME/.cache}/ktstr/test-assets}"
export KTSTR_ASSET_DIR
. "${0%/*}/lib/test-lib.sh"
require_assets
export KTSTR_ACCEL=tcg KTSTR_TEST_KERNEL=$KTSTR_ASSET_KERNEL

probe='
cpu=/sys/devices/system/cpu
echo "cpus $(ls -d $cpu/cpu[0-9]* | wc -l)"
echo "nodes $(ls -d /sys/devices/system/node/node[0-9]* | wc -l)"
for n in /sys/devices/system/node/node[0-9]*; do
	echo "node ${n##*/} $(cat $n/cpulist) $(sed -n "s/.*MemTotal: *\([0-9]*\) kB/\1/p" $n/meminfo)"
done
echo "llcs $(cat $cpu/cpu[0-9]*/cache/index3/shared_cpu_list | sort -u | tr "\n" " ")"
echo "smt $(cat $cpu/cpu[0-9]*/topology/thread_siblings_list | sort -u | tr "\n" " ")"
'

# field KEY: the rest of the probe's line that starts with KEY.
field() {
	sed -n "s/^$1 //p" "$out"
}

# boot TOPOLOGY MEMORY: run the probe; the checks read $out.
boot() {
	run ktstr-vm --topology "$1" --memory-mb "$2" --exec "$probe"
	is "$status" 0 "$1: the probe ran"
}

boot 1,1,1,1 256
is "$(field cpus)" 1 '1,1,1,1: 1 CPU'
is "$(field nodes)" 1 '1,1,1,1: 1 NUMA node'
is "$(field llcs)" '0 ' '1,1,1,1: one LLC'
is "$(field smt)" '0 ' '1,1,1,1: no SMT sibling'

boot 1,2,2,1 256
is "$(field cpus)" 4 '1,2,2,1: 4 CPUs'
is "$(field nodes)" 1 '1,2,2,1: 1 NUMA node'
is "$(field llcs)" '0-1 2-3 ' '1,2,2,1: two LLCs of two CPUs'
is "$(field smt)" '0 1 2 3 ' '1,2,2,1: no SMT siblings'

boot 2,2,2,1 512
is "$(field cpus)" 4 '2,2,2,1: 4 CPUs'
is "$(field nodes)" 2 '2,2,2,1: 2 NUMA nodes'
is "$(field node | cut -d' ' -f1,2 | tr '\n' ' ')" 'node0 0-1 node1 2-3 ' '2,2,2,1: each node holds one LLC'
is "$(field llcs)" '0-1 2-3 ' '2,2,2,1: two LLCs of two CPUs'
# 256 MiB each, less what the kernel reserves: at least 200 MiB per node.
for kb in $(field node | cut -d' ' -f3); do
	check "2,2,2,1: a node has ${kb} kB, half the memory" test "$kb" -gt 204800 -a "$kb" -le 262144
done

boot 1,1,2,2 256
is "$(field cpus)" 4 '1,1,2,2: 4 CPUs'
is "$(field llcs)" '0-3 ' '1,1,2,2: one LLC of four CPUs'
is "$(field smt)" '0-1 2-3 ' '1,1,2,2: two cores of two SMT siblings'
done_testing
