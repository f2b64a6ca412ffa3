#!/usr/bin/env bash
# `npm test` with the machine's clock moved, to show that no test depends on the day or the
# hour it runs: everything the suite starts (Node, the embedded PostgreSQL, Chromium) reads the
# moved clock through libfaketime (Debian: apt-get install faketime). By default two runs:
# Saturday 23:59 in Hà Nội (the suite crosses local midnight; Saturday has a morning session
# only) and Sunday 00:01 (the demo centre is closed all day). Times are UTC.
#   npm run test:any-day                        # both
#   npm run test:any-day -- '2026-12-07 01:30:00'  # any instant (Monday 08:30 in Hà Nội)
set -euo pipefail
command -v faketime >/dev/null || { echo "faketime is missing: apt-get install faketime" >&2; exit 2; }
cd "$(dirname "$0")/.."
instants=("$@")
[ ${#instants[@]} -gt 0 ] || instants=('2026-12-05 16:59:00' '2026-12-05 17:01:00')
status=0
for at in "${instants[@]}"; do
  echo "== npm test with the clock at $at UTC"
  TZ=UTC faketime "$at" npx vitest run || status=1
done
exit $status
