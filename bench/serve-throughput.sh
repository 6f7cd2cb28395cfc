#!/usr/bin/env bash
# Serving throughput of `vane serve` on the bundled organism: one client at a time, 16 concurrent clients on a
# server that decodes one sequence at a time, and 16 concurrent clients with continuous batching
# (docs/performance.md, "Serving throughput"). With --scaling DIR: decode step time with 1, 4 and 16 sequences
# on the checkpoint DIR instead. Keep the machine idle while it runs.
set -euo pipefail
main=dev.vane.server.ServeThroughput
if [ "${1:-}" = "--scaling" ]; then main=dev.vane.server.BatchScaling; shift; fi
exec "$(dirname "$0")/run-server-test-main.sh" "$main" "$@"
