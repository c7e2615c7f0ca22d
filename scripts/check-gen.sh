#!/usr/bin/env bash
# Fails when the committed generated code differs from what `npm run gen` makes.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run gen --silent
if ! git diff --quiet --exit-code -- libs/api/src/gen || [[ -n $(git ls-files --others --exclude-standard -- libs/api/src/gen) ]]; then
  echo "generated code is stale: run 'npm run gen' and commit libs/api/src/gen" >&2
  git status --short -- libs/api/src/gen >&2
  exit 1
fi
echo "generated code is up to date"
