#!/usr/bin/env bash
# Runs the packaged demo (forwarder-app/target/forwarder.jar, built by `mvn verify`) on JDK 25, as a new user
# would, and fails on a WARNING: line the README does not declare.
#
#   plain `java -jar`: the manifest's Add-Opens/Add-Exports/Enable-Native-Access cover everything a manifest
#     can; the one warning left is JDK 24+'s about sun.misc.Unsafe's memory access (Chronicle and jffi use it),
#     which only the command line can allow. Its four lines are expected; any other WARNING: line fails.
#   `java --sun-misc-unsafe-memory-access=allow -jar`: the README's command for JDK 24+; no WARNING: line at all.
#
# The JDK: $JDK25_HOME, else the first /usr/lib/jvm/*25* with a bin/java.
set -euo pipefail
cd "$(dirname "$0")/.."

jdk="${JDK25_HOME:-}"
if [[ -z "$jdk" ]]; then
  for candidate in /usr/lib/jvm/*25*; do
    if [[ -x "$candidate/bin/java" ]]; then jdk="$candidate"; break; fi
  done
fi
if [[ -z "$jdk" || ! -x "$jdk/bin/java" ]]; then
  echo "jdk25-demo: no JDK 25 found (set JDK25_HOME to one); the packaged demo was not run on JDK 25" >&2
  exit 1
fi
version="$("$jdk/bin/java" -version 2>&1 | head -1)"
if [[ "$version" != *'"25'* ]]; then
  echo "jdk25-demo: $jdk/bin/java is not a JDK 25: $version" >&2
  exit 1
fi

jar="$PWD/forwarder-app/target/forwarder.jar"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The lines of JDK 24+'s sun.misc.Unsafe warning (JEP 498), whoever the first caller is.
expected='^WARNING: (A terminally deprecated method in sun\.misc\.Unsafe has been called|sun\.misc\.Unsafe::[A-Za-z]+ has been called by .*|Please consider reporting this to the maintainers of .*|sun\.misc\.Unsafe::[A-Za-z]+ will be removed in a future release)$'

run_demo() { # name, java options...: the output in $work/<name>.txt
  local name="$1"; shift
  local out="$work/$name.txt"
  if ! (cd "$work" && "$jdk/bin/java" "$@" -jar "$jar" demo --short >"$out" 2>&1); then
    echo "jdk25-demo: the demo failed on JDK 25 ($name):" >&2
    cat "$out" >&2
    exit 1
  fi
  grep -q '^Every accepted record arrived\.$' "$out" || { echo "jdk25-demo: no closing account ($name)" >&2; cat "$out" >&2; exit 1; }
}

# Both at once (each starts its own embedded Kafka on free ports).
run_demo plain &
plain_pid=$!
run_demo allowed --sun-misc-unsafe-memory-access=allow &
allowed_pid=$!
wait "$plain_pid"
wait "$allowed_pid"
plain="$work/plain.txt"
allowed="$work/allowed.txt"
unexpected="$(grep '^WARNING:' "$plain" | grep -Ev "$expected" || true)"
if [[ -n "$unexpected" ]]; then
  echo "jdk25-demo: java -jar on JDK 25 printed warnings the manifest should have prevented:" >&2
  echo "$unexpected" >&2
  exit 1
fi

if grep -q '^WARNING:' "$allowed"; then
  echo "jdk25-demo: java --sun-misc-unsafe-memory-access=allow -jar on JDK 25 printed warnings:" >&2
  grep '^WARNING:' "$allowed" >&2
  exit 1
fi
echo "jdk25-demo: $version ran the demo: java -jar printed $(grep -c '^WARNING:' "$plain") expected Unsafe warning lines; with --sun-misc-unsafe-memory-access=allow, none"
