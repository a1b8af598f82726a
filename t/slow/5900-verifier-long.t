#!/bin/sh
# The long ktstr-verifier cases: every profile of the fixture scheduler,
# a live A/B run, a cargo-built scheduler in the VM, and a scheduler that
# never answers --ktstr-list-flags.  Ten boots and a 10-second timeout, so
# this runs with `make check-slow`.
if [ -z "${RUSTUP_HOME:-}" ] && [ -d "${HOME:-/nonexistent}/.rustup" ]; then
	RUSTUP_HOME=$HOME/.rustup
	export RUSTUP_HOME
fi
KTSTR_SRC=${KTSTR_SRC:-$(cd "${0%/*}/../.." && pwd)}
. "${0%/*}/../lib/test-lib.sh"
require_assets
export CARGO_HOME="$T/cargo-home" CARGO_NET_OFFLINE=true
unset CARGO CARGO_TARGET_DIR

KERNEL=$KTSTR_ASSET_KERNEL
FIXTURE=$KTSTR_ASSET_FIXTURE

# Every profile of the fixture; the totals are those its README gives.
expect_status 0 'all fixture profiles load' ktstr-verifier --scheduler-bin "$FIXTURE" --kernel "$KERNEL" \
	--all-profiles --json
cp "$out" "$T/all.json"
is "$(jq -r '[.profiles[].profile] | join(" ")' "$T/all.json")" \
	'default llc llc+steal borrow llc+borrow llc+steal+borrow' 'every profile ran in mask order'
is "$(jq -r '[.profiles[].total_verified_insns] | join(" ")' "$T/all.json")" '200 310 398 238 348 436' \
	'totals per profile'
is "$(ls "$KTSTR_SIDECAR_DIR"/verifier-*.ktstr.json | wc -l | tr -d ' ')" 6 'one sidecar per profile'

# A/B of two copies of one binary: same programs, no delta.
cp "$FIXTURE" "$T/scx_fixture_b"
expect_status 0 'live A/B run' ktstr-verifier --scheduler-bin "$FIXTURE" --compare-bin "$T/scx_fixture_b" \
	--kernel "$KERNEL" --profiles borrow --json
is "$(jq -r '.diff[0].a_profile' "$out")" borrow 'A/B compares the selected profile'
is "$(jq -r '.diff[0].programs | length' "$out")" 7 'A/B lists every program'
check 'same binary has no delta' sh -c "[ -s '$out' ] && jq -e '[.diff[0].programs[].delta == 0] | all' '$out' >/dev/null"
is "$(jq -r '.b.scheduler_path' "$out")" "$T/scx_fixture_b" 'B side names its binary'

# A cargo-built scheduler in the guest gets the profile's arguments.
if command -v cargo >/dev/null 2>&1; then
	cp -R "$KTSTR_SRC/t/fixtures/cargo-sched" "$T/ws"
	(
		cd "$T/ws" &&
			ktstr-verifier --scheduler fake-sched --kernel "$KERNEL" --profiles fast --json
	) >"$T/fake.json" 2>"$T/fake.err"
	is "$?" 1 'cargo-built stand-in fails to load'
	is "$(jq -r '.profiles[0].outcome' "$T/fake.json")" scheduler-failed 'stand-in outcome'
	like "$(jq -r '.profiles[0].scheduler_log' "$T/fake.json")" 'not a real scheduler \(arguments: \["--fast"\]\)' \
		'profile arguments reached the guest binary'
else
	skip 'cargo is not installed'
fi

# A binary that never exits on --ktstr-list-flags.
printf '#!/bin/sh\nexec sleep 60\n' >"$T/hang"
chmod +x "$T/hang"
expect_status 2 'hanging flag query' ktstr-verifier --scheduler-bin "$T/hang" --all-profiles --list-profiles
like "$(cat "$err")" "cannot list the flags of '$T/hang' with --ktstr-list-flags: did not exit within 10 s" \
	'hang error names the timeout'
done_testing
