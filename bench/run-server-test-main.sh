#!/usr/bin/env bash
# Runs a main class of vane-server's test sources (benchmarks, the playground's screenshot) with Vane's JVM flags:
#   bench/run-server-test-main.sh dev.vane.server.ServeThroughput [ARGS...]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
main="$1"
shift
# test-compile and the class path in one reactor run, so that Vane's own modules are their target/classes.
./mvnw -q test-compile dependency:build-classpath -pl vane-server -am \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/classpath.txt
cp="vane-server/target/test-classes:vane-server/target/classes:$(cat vane-server/target/classpath.txt)"
# A JDK 25: JAVA_HOME, else the first /usr/lib/jvm/*25* (./vane's launcher looks in more places).
jdk="${JAVA_HOME:-$(ls -d /usr/lib/jvm/*25* 2>/dev/null | head -n 1)}"
[ -x "$jdk/bin/java" ] || { echo "$(basename "$0"): set JAVA_HOME to a JDK 25" >&2; exit 2; }
exec "$jdk/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dvane.home="$root" \
  -cp "$cp" "$main" "$@"
