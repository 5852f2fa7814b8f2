#!/usr/bin/env bash
# Names each missing or too-old prerequisite and how to get it, before anything is installed.
# `check_prereqs.sh run` (make run) leaves out the note about the browser tests' Chromium.
#
# The minimums are the locked packages' own: Node.js is package.json's "engines" (the highest
# any package in package-lock.json declares, tests/scripts/test_check_prereqs.py keeps them
# equal), Java 17 is what DynamoDB Local's jar is compiled for, Python 3.13 is the Lambda runtime.
# Each hint works on Debian 12, Ubuntu 24.04 and macOS (Homebrew), or says where it does not.
set -u
cd "$(dirname "$0")/.."
python=${PYTHON:-python3.13}
node_min=$(sed -n 's/.*"node": *">=\([0-9.]*\)".*/\1/p' package.json | head -n1)
missing=0
say() { echo "missing prerequisite: $*" >&2; missing=1; }
# at_least v18.19.1 18.16: whether the first version (a leading v allowed) is the second or later.
at_least() {
  local IFS=. i have need
  read -r -a have <<<"${1#v}"
  read -r -a need <<<"$2"
  for i in 0 1 2; do
    [ "${have[i]:-0}" -gt "${need[i]:-0}" ] 2>/dev/null && return 0
    [ "${have[i]:-0}" -lt "${need[i]:-0}" ] 2>/dev/null && return 1
  done
  return 0
}
if [ "$(uname -s)" = Darwin ]; then mac=1; else mac=0; fi

if ! command -v "$python" >/dev/null 2>&1 || \
   ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1; then
  if [ $mac = 1 ]; then
    how="brew install python@3.13"
  else
    how="Debian 12's and Ubuntu 24.04's python3 (3.11, 3.12) are too old; get 3.13 with uv: apt-get install pipx && pipx install uv && ~/.local/bin/uv python install 3.13, then make PYTHON=\$(~/.local/bin/uv python find 3.13)"
  fi
  say "Python 3.13 ($python). $how; or run make with PYTHON=/path/to/python3.13"
fi

if [ $mac = 1 ]; then node_how="brew install node"; else node_how="apt-get install nodejs npm (Debian 12 and Ubuntu 24.04 ship Node.js 18.19 or later, new enough)"; fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  say "Node.js $node_min+ with npm (npm installs DynamoDB Local). Install it: $node_how"
elif ! at_least "$(node --version)" "$node_min"; then
  say "Node.js $node_min+ (found $(node --version)). Install a newer one: $node_how"
fi

if [ $mac = 1 ]; then java_how="brew install openjdk@17 (and put \$(brew --prefix openjdk@17)/bin on PATH)"; else java_how="apt-get install openjdk-17-jre-headless"; fi
major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
if ! command -v java >/dev/null 2>&1 || [ -z "$major" ]; then
  say "Java 17+ runtime (DynamoDB Local is a Java program). Install it: $java_how"
elif [ "$major" -lt 17 ]; then
  say "Java 17+ (found version $major). Install it: $java_how"
fi

if [ "${1:-}" != run ] && ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  if [ $mac = 1 ]; then chromium_how="brew install --cask chromium"; else chromium_how="apt-get install chromium (Ubuntu: chromium-browser)"; fi
  echo "note: Chromium not found, so the browser tests (tests/browser) will be skipped. Install it: $chromium_how" >&2
fi
exit $missing
