#!/usr/bin/env bash
# Install Debian's Chromium for the example app's browser test (test/browser/example.test.ts).
# Idempotent: when /usr/bin/chromium is already there, nothing is installed.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ -x "$CHROMIUM" ]]; then
  echo "chromium already installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# The package lists may be missing or stale on a fresh machine; refresh them first.
apt-get update
apt-get install -y --no-install-recommends chromium fonts-liberation

"$CHROMIUM" --version
