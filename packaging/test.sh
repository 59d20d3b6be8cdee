#!/usr/bin/env bash
# The README's test command: installs what is missing, builds with warnings as errors,
# and runs every test (unit, loopback integration, schema conformance, crash recovery).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

meadow_install_packages
meadow_build ON
meadow_say "running tests"
cd "$MEADOW_BUILD"
ctest --output-on-failure -j "$(nproc)" --timeout 600
