#!/usr/bin/env bash
# Names each missing prerequisite and how to get it, before anything is installed.
set -u
python=${PYTHON:-python3.13}
missing=0
say() { echo "missing prerequisite: $*" >&2; missing=1; }

if ! command -v "$python" >/dev/null 2>&1 || \
   ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1; then
  say "Python 3.13 ($python). Install it (pyenv install 3.13, or your OS packages) or run make with PYTHON=/path/to/python3.13"
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  say "Node.js 20+ with npm (for DynamoDB Local). Install it: apt-get install nodejs npm, or from nodejs.org"
elif ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)'; then
  say "Node.js 20+ (found $(node --version)). Upgrade Node.js"
fi
if ! command -v java >/dev/null 2>&1; then
  say "Java 17+ runtime (DynamoDB Local is a Java program). Install it: apt-get install openjdk-17-jre-headless"
else
  major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
  if [ -z "$major" ] || [ "$major" -lt 17 ]; then
    say "Java 17+ (found version ${major:-unknown}). Install openjdk-17-jre-headless"
  fi
fi
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  echo "note: Chromium not found, so the browser tests (tests/browser) will be skipped. Install it: apt-get install chromium" >&2
fi
exit $missing
