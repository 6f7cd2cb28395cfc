#!/usr/bin/env bash
# Screenshot of the web playground of `vane serve` in a real conversation with the bundled organism, taken by
# headless Chromium through chromedriver (docs/playground-screenshot.png is one):
#   bench/screenshot-playground.sh [OUT.png (default docs/playground-screenshot.png)]
# Needs Chromium and its driver (Debian: apt-get install chromium chromium-driver); exit 2 without them.
set -euo pipefail
out="$(realpath -m "${1:-$(dirname "$0")/../docs/playground-screenshot.png}")"
exec "$(dirname "$0")/run-server-test-main.sh" dev.vane.server.PlaygroundScreenshot "$out"
