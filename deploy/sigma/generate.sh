#!/usr/bin/env bash
# Regenerates the conversions of the Sigma pack (deploy/sigma/converted/, and the Splunk app's
# savedsearches.conf) with the pinned tool chain of `bash .ci/setup`.
#   bash deploy/sigma/generate.sh            write into the repository
#   bash deploy/sigma/generate.sh --out DIR  write under DIR instead (the drift test does)
set -euo pipefail
venv="${AUDITFWD_SIGMA_VENV:-$HOME/.cache/auditfwd/sigma-venv}"
[ -x "$venv/bin/python" ] || { echo "no Sigma venv at $venv: run bash .ci/setup" >&2; exit 1; }
exec "$venv/bin/python" "$(dirname "$0")/generate.py" "$@"
