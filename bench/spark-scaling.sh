#!/usr/bin/env bash
# Wall time of a head sweep on the bundled organism: in one JVM (no --spark), then on a Spark standalone cluster
# started here on loopback (a master and 1, then 2 workers of one core each, separate JVMs from vane-spark's
# jars), each run in a fresh run directory (docs/performance.md, "Head sweep on Spark"). Every run's results are
# compared with the local run's, row for row.
#
#   bench/spark-scaling.sh [WORKERS=1,2] [SCALES=20]
#
# The sweep is the README's: every head's direction from A/B questions part 1/2, the log-odds on part 2/4 at
# SCALES (48 heads x scales items). Keep the machine otherwise idle. Environment: JAVA_HOME (a JDK 25; else one
# is looked for in /usr/lib/jvm), OUT=DIR to keep the runs and logs (default: a fresh folder under /tmp),
# WORKER_MEMORY (default 2g).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
workers_list="${1:-1,2}"
scales="${2:-20}"
out="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/vane-spark-scaling.XXXXXX")}"
mkdir -p "$out"

java=""
for home in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
  [ -n "$home" ] && [ -x "$home/bin/java" ] || continue
  if "$home/bin/java" -version 2>&1 | grep -q 'version "2[5-9]\|version "[3-9][0-9]'; then java="$home/bin/java"; break; fi
done
[ -n "$java" ] || { echo "spark-scaling.sh: no JDK 25 found (set JAVA_HOME)" >&2; exit 2; }

"$root/vane" --version >/dev/null        # builds Vane and vane-spark when needed
# A progress line every second, so that each run's log ends with the items' own time ("... done in 9 s").
export VANE_JAVA_OPTS="-Dvane.progress.seconds=1 ${VANE_JAVA_OPTS:-}"

# A Spark home for the master and workers: Spark's jars, from vane-spark's build (Spark 4.2, Scala 2.13).
spark_home="$out/spark-home"
mkdir -p "$spark_home/jars"
ln -sf "$root"/vane-spark/target/lib/*.jar "$spark_home/jars/"
ln -sf "$root"/vane-cli/target/lib/slf4j-simple-*.jar "$spark_home/jars/"
export SPARK_HOME="$spark_home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1
daemon_flags=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx256m)
port=$(( 20000 + RANDOM % 20000 ))
master="spark://127.0.0.1:$port"
pids=()

stop() {
  # Workers first, then the executors they started (a killed worker's executors see it go and exit), then the master.
  for pid in "${pids[@]}"; do
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
trap 'stop; [ -n "${master_pid:-}" ] && kill "$master_pid" 2>/dev/null; wait 2>/dev/null || true' EXIT

wait_for() {   # FILE PATTERN SECONDS
  for _ in $(seq "$(( $3 * 5 ))"); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.2; done
  echo "spark-scaling.sh: timed out waiting for '$2' in $1" >&2; tail -n 20 "$1" >&2; exit 1
}

"$java" "${daemon_flags[@]}" -cp "$spark_home/jars/*" org.apache.spark.deploy.master.Master \
  --host 127.0.0.1 --port "$port" --webui-port 0 >"$out/master.log" 2>&1 &
master_pid=$!
wait_for "$out/master.log" "I have been elected leader" 60

sweep=(sweep heads --data "$root/models/organism-data/coordination_ab.jsonl" --part 1/2 --eval-part 2/4
       --metric ab-logodds --scales "$scales")

timed() {   # NAME ARGS...: runs vane, prints the wall time in seconds and the items' time
  local name="$1"; shift
  local start end
  start=$(date +%s.%N)
  "$root/vane" "${sweep[@]}" --out "$out/$name" "$@" >"$out/$name.log" 2>&1 || { echo "spark-scaling.sh: $name failed" >&2; tail -n 20 "$out/$name.log" >&2; exit 1; }
  end=$(date +%s.%N)
  printf '%9.1f %9s' "$(echo "$end - $start" | bc)" "$(items_time "$name")"
}

same_rows() {   # RUN: how the run's results compare with the local run's, row by row
  python3 - "$out/local/results.jsonl" "$out/$1/results.jsonl" <<'PY'
import json, sys
a, b = ({json.loads(l)["id"]: json.loads(l) for l in open(f)} for f in sys.argv[1:])
if a == b:
    print("same %d rows" % len(a))
elif a.keys() != b.keys():
    print("ROWS DIFFER: %d against %d ids" % (len(a), len(b)))
else:
    d = max(abs(a[k]["metric"] - b[k]["metric"]) for k in a)
    print("%d of %d rows differ, by at most %.1e" % (sum(a[k] != b[k] for k in a), len(a), d))
PY
}

items_time() {   # RUN: the seconds vane's progress line gives the sweep's items (the rest is start-up); none under 1 s
  local t
  t=$(sed -n 's/.*sweep heads: .*done in \([0-9.]*\) s.*/\1/p' "$out/$1.log" | tail -n 1)
  echo "${t:-<1}"
}

items=$(( 1 + 48 * $(echo "$scales" | tr ',' '\n' | wc -l) ))
echo "head sweep of the organism: $items items (baseline + 48 heads x scales $scales); $(nproc) cores here, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-38s %9s %9s  %s\n' "where" "wall (s)" "items (s)" "results"
printf '%-38s %s  %s\n' "one JVM (no --spark)" "$(timed local)" "reference"
printf '%-38s %s  %s\n' "--spark local[2] (one JVM, 2 threads)" "$(timed local2 --spark 'local[2]')" "$(same_rows local2)"

IFS=, read -r -a counts <<< "$workers_list"
for n in "${counts[@]}"; do
  for i in $(seq "$n"); do
    "$java" "${daemon_flags[@]}" -cp "$spark_home/jars/*" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 \
      --cores 1 --memory "${WORKER_MEMORY:-2g}" --webui-port 0 --work-dir "$out/work-$n-$i" "$master" \
      >"$out/worker-$n-$i.log" 2>&1 &
    pids+=($!)
  done
  for i in $(seq "$n"); do wait_for "$out/worker-$n-$i.log" "Successfully registered with master" 60; done
  cluster=(--spark "$master" --spark-conf spark.driver.host=127.0.0.1 --spark-conf spark.executor.memory=1g)
  printf '%-38s %s  %s\n' "cluster, $n worker(s) x 1 core" "$(timed "cluster$n" "${cluster[@]}")" "$(same_rows "cluster$n")"
  printf '%-38s %s  %s\n' "  the same, spark.vane.threads=1" \
    "$(timed "cluster$n-t1" "${cluster[@]}" --spark-conf spark.vane.threads=1)" "$(same_rows "cluster$n-t1")"
  stop
done
echo "runs and logs: $out"
