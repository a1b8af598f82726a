# Helpers for the tests of scheduler and scenario runs; source it after
# test-lib.sh and require_assets.

# The status a test file expects from most of its runs; a run that ends
# otherwise shows the first lines of its stderr as TAP diagnostics.
scenario_expect=${scenario_expect:-0}

# scenario NAME ARGS...: one ktstr-vm run of the test kernel on 2 vCPUs under
# TCG.  $sidecar is the path it printed on stdout; its stderr is kept in
# $T/NAME.err.
scenario() {
	local name=$1
	shift
	run ktstr-vm --kernel "$KTSTR_ASSET_KERNEL" --allow-image --accel tcg --topology 1,1,2,1 "$@"
	sidecar=$(head -1 "$out")
	cp "$err" "$T/$name.err"
	if [ "$status" != "$scenario_expect" ]; then
		diag "$name: status $status" "$(grep -v '^  |' "$err" | head -40)"
	fi
}

# parses FILE: the file is valid JSON.
parses() {
	jq -e . "$1" >/dev/null
}

# field FILTER: a jq filter applied to the last run's sidecar.
field() {
	jq -r "$1" "$sidecar"
}
