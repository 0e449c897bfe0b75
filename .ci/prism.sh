#!/usr/bin/env bash
# Install the Prism mock server (npm package @stoplight/prism-cli) under .ci/node, for
# tests/test_prism.py, which serves OpenAI's OpenAPI description with it. Idempotent: does
# nothing when the pinned version is already there. Never fails the build: without node/npm, or
# when the install fails, it says so and tests/test_prism.py skips.
set -uo pipefail
cd "$(dirname "$0")/.."
version="5.16.0"
prefix=".ci/node"
bin="$prefix/node_modules/.bin/prism"
if [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null)" = "$version" ]; then
    echo "prism $version already installed in $prefix"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: tests/test_prism.py will be skipped" >&2
    exit 0
fi
mkdir -p "$prefix"
if npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error \
        "@stoplight/prism-cli@$version" >/dev/null; then
    echo "prism $("$bin" --version) installed in $prefix"
else
    echo "could not install @stoplight/prism-cli@$version: tests/test_prism.py will be skipped" >&2
fi
exit 0
