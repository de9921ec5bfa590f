#!/usr/bin/env bash
# Side-by-side load test of svcnet's dnsserver and CoreDNS's kubernetes
# plugin with dnsperf, as in the README's table: each server alone in a
# process pinned to core 0 (GOMAXPROCS=1), dnsperf pinned to core 1, the
# same 10 000 Services / 50 000 endpoints, the same query files.
#
#   peers/coredns/bench.sh [seconds]     (default 10 s per run)
#
# Prints, per query mix and server: queries per second (64 queries in
# flight), p50 and p99 latency (from a second run with dnsperf -v's
# per-query times, under the same load); the same three from the Go load
# generator TestPeerLoad (gen-qps: 64 in flight too, but sent and
# received in batches, so that the load's core saturates later than
# dnsperf's, which tops out near 130 000 qps here); the server's CPU
# time per query during that run (cpu-µs); and the heap the server
# holds for the cluster (MiB), measured before it serves.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null || true' EXIT
go test -c -o "$work/peer.test" .

# Query files: ClusterIP A queries, and a mix of A, AAAA, SRV, PTR,
# NXDOMAIN and headless A (every tenth Service is headless).
awk 'BEGIN { srand(1); for (n = 0; n < 20000; n++) { i = int(rand() * 10000); if (i % 10 == 0) i++;
  printf "svc-%d.ns-%d.svc.cluster.local A\n", i, int(i / 100) } }' > "$work/A.txt"
awk 'BEGIN { srand(2); for (n = 0; n < 20000; n++) { i = int(rand() * 10000); if (i % 10 == 0) i++;
  name = sprintf("svc-%d.ns-%d.svc.cluster.local", i, int(i / 100)); k = n % 6;
  if (k == 0) print name " A"; else if (k == 1) print name " AAAA"; else if (k == 2) print "_http._tcp." name " SRV";
  else if (k == 3) printf "%d.%d.%d.10.in-addr.arpa PTR\n", i % 256, int(i / 256) % 256, 96 + int(i / 65536);
  else if (k == 4) print "nope-" name " A";
  else { h = int(i / 10) * 10; printf "svc-%d.ns-%d.svc.cluster.local A\n", h, int(h / 100) } } }' > "$work/mix.txt"

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-5s %-8s %10s %9s %9s %10s %9s %9s %7s %9s\n' mix server qps p50-ms p99-ms gen-qps p50-ms p99-ms cpu-µs held-MB
for mix in A mix; do
  for server in coredns svcnet; do
    mkfifo "$work/in-$server-$mix"
    PEER_SERVE=$server GOMAXPROCS=1 taskset -c 0 "$work/peer.test" -test.run '^TestPeerServer$' \
      < "$work/in-$server-$mix" > "$work/out-$server-$mix" &
    pid=$!
    exec 3> "$work/in-$server-$mix"
    for _ in $(seq 600); do grep -q '^addr' "$work/out-$server-$mix" && break; sleep 0.1; done
    read -r _ addr _ held < <(grep '^addr' "$work/out-$server-$mix")
    port=${addr##*:}
    # Throughput: dnsperf alone. Latency: a second run with -v, which
    # prints every query's time (and so slows dnsperf itself).
    taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d "$work/$mix.txt" -l "$secs" -c 4 -q 64 \
      > "$work/qps-$server-$mix" 2>&1 || true
    taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d "$work/$mix.txt" -l "$secs" -c 4 -q 64 -v \
      > "$work/perf-$server-$mix" 2>&1 || true
    # The same load from TestPeerLoad, which batches its system calls
    # so that its core does not limit the rate (see load_test.go), with
    # every query's latency at full rate.
    # The server's CPU time over that run (utime + stime, in ticks),
    # per answered query: what a query costs the server, which the
    # other work on a shared machine disturbs far less than the rate.
    cpu0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    PEER_LOAD=$addr PEER_LOAD_FILE="$work/$mix.txt" PEER_LOAD_SECS=$secs PEER_LOAD_CLIENTS=4 PEER_LOAD_INFLIGHT=64 \
      GOMAXPROCS=1 taskset -c 1 "$work/peer.test" -test.run '^TestPeerLoad$' > "$work/gen-$server-$mix" 2>&1 || true
    cpu1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    exec 3>&-
    wait
    read -r _ gqps _ gp50 _ gp99 _ < <(grep '^qps' "$work/gen-$server-$mix" || echo "qps - p50 - p99 -")
    usq=$(awk -v c=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" -v q="$gqps" -v s="$secs" \
      'BEGIN { if (q > 0) printf "%.1f", c / hz / (q * s) * 1e6; else print "-" }')
    qps=$(awk '/Queries per second/ { printf "%.0f", $4 }' "$work/qps-$server-$mix")
    # dnsperf -v: "> NOERROR name TYPE 0.000123" per answered query.
    read -r p50 p99 < <(awk '/^> / { print $NF }' "$work/perf-$server-$mix" | sort -g |
      awk '{ v[NR] = $1 } END { if (NR) printf "%.3f %.3f\n", v[int(NR * 0.5)] * 1000, v[int(NR * 0.99)] * 1000 }')
    printf '%-5s %-8s %10s %9s %9s %10s %9s %9s %7s %9.1f\n' "$mix" "$server" "$qps" "$p50" "$p99" "$gqps" "$gp50" "$gp99" "$usq" \
      "$(awk -v h="$held" 'BEGIN { print h / 1048576 }')"
  done
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
done
