#!/bin/sh
# The dispatcher's own behaviour: help, version, unknown commands, cargo's argv.
. "${0%/*}/lib/test-lib.sh"

expect_status 0 'ktstr --help exits 0' ktstr --help
like "$(cat "$out")" 'test-stats' 'help lists test-stats'

expect_status 0 'cargo-ktstr --version through cargo argv' cargo-ktstr ktstr --version
like "$(cat "$out")" '^cargo ktstr [0-9]+\.[0-9]+\.[0-9]+' 'version names cargo ktstr'

expect_status 2 'unknown command is a usage error' ktstr frobnicate
like "$(cat "$err")" "unknown command 'frobnicate'.*kernel" 'unknown command lists valid ones'
one_line_error 'unknown command error is one line'

expect_status 2 'unknown kernel subcommand is a usage error' ktstr kernel frob
expect_status 2 'no command prints usage and exits 2' ktstr
done_testing
