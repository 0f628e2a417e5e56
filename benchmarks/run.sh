#!/usr/bin/env bash
# Runs the benchmark suites against a real Kafka broker (each suite starts the test fixture's broker as a
# child process) and writes benchmarks/results/latest/{jmh.json,jmh.log,summary.md}.
#   bash benchmarks/run.sh           the full run: about 23 - 30 minutes on a 2-core machine
#   bash benchmarks/run.sh --smoke   a few seconds, no broker: checks that the benchmarks build and run
set -euo pipefail
cd "$(dirname "$0")/.."
jar=benchmarks/target/benchmarks.jar
if [ "${1:-}" = "--smoke" ]; then
  [ -f "$jar" ] || mvn -B -q -ntp install -DskipTests
  out=$(mktemp -d)
  java -jar "$jar" 'SpoolAppendBenchmark|MessageKeyBenchmark' -f 1 -wi 0 -i 1 -r 200ms -rf json -rff "$out/jmh.json" > "$out/jmh.log"
  java -cp "$jar" dev.forwarder.bench.Summary "$out/jmh.json"
  echo "benchmark smoke run: ok"
  exit 0
fi
mvn -B -q -ntp install -DskipTests
out=benchmarks/results/latest
mkdir -p "$out"
# The benchmarks append their lines to these files: a run starts them afresh.
rm -f "$out/throughput-cpu.txt" "$out/open-loop.txt" "$out/virtual-threads.txt"
java -jar "$jar" 'PublishLatencyBenchmark|ForwardingThroughputBenchmark|BacklogDrainBenchmark|SpoolAppendBenchmark' \
  -rf json -rff "$out/jmh.json" | tee "$out/jmh.log"
java -cp "$jar" dev.forwarder.bench.Summary "$out/jmh.json" | tee "$out/summary.md"
# Typed records and the LangChain4j listener (three languages), each against send() of the same bytes in the
# same run, with bytes allocated per call; about 6 minutes.
java -jar "$jar" 'TypedPublishBenchmark|LangChain4jListenerBenchmark' -prof gc -rf json -rff "$out/jmh-typed.json" \
  | tee -a "$out/jmh.log" | grep -E '^[A-Za-z0-9]+Benchmark\.[A-Za-z0-9]+(:p0\.50|:gc\.alloc\.rate\.norm)? '
# The request path at a fixed rate (open loop; lines in $out/open-loop.txt), about 7 minutes.
java -jar "$jar" 'OpenLoopPublishBenchmark' | tee -a "$out/jmh.log" | grep '^open-loop'
# The first publish of a process and the append that opens a roll cycle, each against its baseline in the same
# run (a bare producer's first send(); an append within a cycle), about 4 minutes. LargeBacklog (10 GB of spool,
# about 10 minutes) is not run here: its command is in the README.
java -jar "$jar" 'FirstCallBenchmark|RollAppendBenchmark' -rf json -rff "$out/jmh-start.json" | tee -a "$out/jmh.log" \
  | grep -E '^(FirstCall|RollAppend)Benchmark\.'
# Virtual threads need JDK 21+: $VT_JAVA, else the first one found under /usr/lib/jvm, else said and skipped.
# (A glob, not ls: under pipefail an ls of a pattern that matches nothing failed the script.)
vt_java=${VT_JAVA:-}
if [ -z "$vt_java" ]; then
  for jdk in /usr/lib/jvm/*-2[1-9]-* /usr/lib/jvm/*-2[1-9]; do
    if [ -x "$jdk/bin/java" ]; then
      vt_java=$jdk/bin/java
      break
    fi
  done
fi
if [ -n "$vt_java" ] && [ -x "$vt_java" ]; then
  "$vt_java" -jar "$jar" 'VirtualThreadPublish' | tee -a "$out/jmh.log" | grep '^virtual-threads'
else
  echo "no JDK 21+ found (set VT_JAVA=/path/to/java): VirtualThreadPublishBenchmark not run"
fi
