#!/usr/bin/env bash
# Install the Debian packages the app (and, with "test", the test suite) needs, when missing.
# As root it runs apt-get; otherwise it prints the exact command to run and fails.
set -euo pipefail

want=(python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libjpeg62-turbo)
if [ "${1:-}" = "test" ]; then
  # pdftotext/pdftoppm for checking letters, Chromium for the browser tests.
  want+=(poppler-utils chromium)
fi

missing=()
for pkg in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing system packages: ${missing[*]} (install them with your package manager)" >&2
  exit 1
fi
cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages. Run as root:" >&2
  echo "  apt-get update && $cmd" >&2
  exit 1
fi
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
$cmd -qq
