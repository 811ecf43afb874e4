#!/usr/bin/env bash
# bench.sh — runs the benchmarks (bench/*.c, built by mk/bench.mk) and
# writes what the book and the summary show.
#
#   tools/bench.sh full OUT     every benchmark BENCH_RUNS times (default 5):
#                               OUT/NAME.csv (medians), OUT/runs/ (every run),
#                               OUT/NAME.svg (gnuplot), OUT/summary.md (the
#                               targets, pass/miss), OUT/machine.txt
#   tools/bench.sh smoke OUT    the same with tiny sizes, once: does it all work?
#   BENCH_ONLY="server sweep" tools/bench.sh full OUT
#                               only the benchmarks named (fanout order offload
#                               sweep grade server); OUT is rewritten with them alone
#   BENCH_REPLOT=1 tools/bench.sh full OUT
#                               measures nothing: redraws the plots and the
#                               summary from the CSVs already in OUT
#   tools/bench.sh book-svg NAME BENCH_DIR DEST
#                               the book's copy of plot NAME: BENCH_DIR/NAME.svg
#                               when make bench made it, else a placeholder
#
# Medians are taken column by column over the runs. Times are reported twice:
# wall, and the CPU time of the process (user + system, all threads); the
# per-job targets are judged on CPU time, because on a shared machine the wall
# time also counts the time spent waiting for a core. The peers (asyncio and
# uvloop on Debian's python3, Node.js) are required by the full run unless
# PEERS= names fewer; the smoke run uses those it finds. The grader's timing grades a copy of solutions/ (in OUT), so
# its "cold" run removes only that copy's build folder, never one that
# someone else's `make grade` is using.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
BIN=build/bench/bin
COLUMNS_C="bench,variant,param,n,wall_ns,wall_per_op_ns,cpu_ns,cpu_per_op_ns,maxrss_kb"

# ---- the book's copy of a plot --------------------------------------------------

placeholder_svg() { # name
  cat << EOF
<svg xmlns="http://www.w3.org/2000/svg" width="720" height="120" viewBox="0 0 720 120">
<rect x="1" y="1" width="718" height="118" fill="#f6f6f6" stroke="#999" stroke-dasharray="6,4"/>
<text x="360" y="52" font-family="sans-serif" font-size="16" text-anchor="middle">Benchmark plot "$1": not measured in this build.</text>
<text x="360" y="80" font-family="monospace" font-size="14" text-anchor="middle">make bench &amp;&amp; make book</text>
</svg>
EOF
}

if [ "${1:-}" = book-svg ]; then
  name=$2 dir=$3 dest=$4
  if [ -f "$dir/$name.svg" ]; then cp "$dir/$name.svg" "$dest"; else placeholder_svg "$name" > "$dest"; fi
  exit 0
fi

mode=${1:-}
OUT=${2:-}
case "$mode" in full | smoke) ;; *) echo "usage: tools/bench.sh full|smoke OUT | book-svg NAME DIR DEST" >&2; exit 2 ;; esac
[ -n "$OUT" ] || { echo "bench: no output folder" >&2; exit 2; }

if [ "$mode" = full ]; then
  RUNS=${BENCH_RUNS:-5}
  FAN_N=1000000 FAN_LIMIT=100 ORDER_N=100000 OFF_N=100000 OFF_DEPTHS="1 64"
  LAG_MS=2000 LAG_BLOCK=50 SWEEP_N=2000 SWEEP_LIMITS="1 2 4 8 16 32 64 128" SWEEP_MAX=32
  SRV_N=1200 SRV_BATCH=4 SRV_UNLOADED=200
  GRADE_LAB=""
else
  RUNS=1
  FAN_N=2000 FAN_LIMIT=100 ORDER_N=2000 OFF_N=200 OFF_DEPTHS="1 64"
  LAG_MS=300 LAG_BLOCK=50 SWEEP_N=40 SWEEP_LIMITS="1 64" SWEEP_MAX=32
  SRV_N=40 SRV_BATCH=4 SRV_UNLOADED=5
  GRADE_LAB=00
fi

# Lab 07's server and the peers' in the bounded configuration of its demo
# (solutions/07-server-side/demo.c): INFLIGHT QUEUED WORK_MS.
SRV_ARGS="4 4 2"
BENCHES="fanout order offload sweep grade server"
ONLY=${BENCH_ONLY:-}
for b in $ONLY; do
  case " $BENCHES " in *" $b "*) ;; *) echo "bench: BENCH_ONLY: unknown benchmark $b (benchmarks: $BENCHES)" >&2; exit 2 ;; esac
done
only() { [ -z "$ONLY" ] || case " $ONLY " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

REPLOT=${BENCH_REPLOT:-}
if [ -n "$REPLOT" ]; then
  [ -f "$OUT/machine.txt" ] || { echo "bench: nothing to redraw in $OUT: run make bench" >&2; exit 2; }
else
  # OUT may also hold the programs (build/bench/bin, obj, lib): remove only results.
  rm -rf "$OUT/runs" "$OUT/grade-src" "$OUT/grade-results" "$OUT"/*.csv "$OUT"/*.svg "$OUT"/*.dat \
    "$OUT/summary.md" "$OUT/machine.txt" "$OUT/notes.txt"
fi
mkdir -p "$OUT/runs"
[ -x "$BIN/fanout" ] || { echo "bench: $BIN/fanout missing: run make bench-bins" >&2; exit 2; }
failures=()
note() { printf 'bench: %s\n' "$*"; echo "$*" >> "$OUT/notes.txt"; }

# ---- the machine ------------------------------------------------------------------

# The peers: what a reader would pick instead. Python runs as Debian's own
# interpreter, the one python3-uvloop is installed for (another python3 may
# come first on PATH); asyncio and uvloop rows then come from the same one.
# PEERS names the peers to measure (default all three); in make bench a
# named peer that cannot run is a failure, not a row left out. The smoke
# run (make check) takes the peers it finds.
PY=$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || command -v python3 || true)
UVPY=""
[ -n "$PY" ] && "$PY" -c 'import uvloop' 2> /dev/null && UVPY=$PY
NODE=$(command -v node || command -v nodejs || true)
peer_path() { case "$1" in asyncio) echo "$PY" ;; uvloop) echo "$UVPY" ;; node) echo "$NODE" ;; esac; }
peer_missing() {
  case "$1" in
    asyncio) echo "python3 not found (Debian: python3)" ;;
    uvloop) echo "uvloop does not import in $PY (Debian: python3-uvloop)" ;;
    node) echo "node not found (Debian: nodejs)" ;;
    *) echo "unknown peer $1 (peers: asyncio uvloop node)" ;;
  esac
}
PEERS=${PEERS-asyncio uvloop node}
for p in $PEERS; do
  [ -n "$(peer_path "$p")" ] && continue
  [ "$mode" = smoke ] || [ -n "$REPLOT" ] || { echo "bench: peer $(peer_missing "$p"): install it (make deps-bench) or leave it out with PEERS=" >&2; exit 2; }
  PEERS=$(tr ' ' '\n' <<< "$PEERS" | grep -vx "$p" | tr '\n' ' ')
done
wants() { case " $PEERS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
wants asyncio || PY=""
wants uvloop || UVPY=""
wants node || NODE=""

# The single-threaded benchmarks (fan-out, completion order, the sweep) run
# pinned to one CPU. Unpinned, the scheduler moves a process between cores
# and a run costs up to half as much again, at random: on a shared 2-core VM
# that decided a ratio of medians more than the code did. The threaded ones
# (offloading, loop lag) are not pinned: their threads need the other cores.
PIN=
last_cpu=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status | sed 's/.*[-,]//')
command -v taskset > /dev/null && [ -n "$last_cpu" ] && PIN="taskset -c $last_cpu"

describe_machine() {
  echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
  echo "cores: $(nproc)"
  echo "memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "kernel: $(uname -sr)"
  echo "libuv: $("$BIN/fanout" --version | sed 's/^libuv //')"
  echo "compiler: $(${CC:-cc} --version | head -n 1) (-O2, no sanitizer)"
  if [ -n "$PY" ]; then echo "python: $("$PY" --version 2>&1) ($PY)"; else echo "python: none"; fi
  if [ -n "$UVPY" ]; then
    echo "uvloop: $("$UVPY" -c 'import uvloop; print(uvloop.__version__)') ($UVPY $("$UVPY" --version 2>&1 | sed 's/Python //'))"
  else
    echo "uvloop: none"
  fi
  if [ -n "$NODE" ]; then
    echo "node: $("$NODE" --version) ($NODE, libuv $("$NODE" -p process.versions.uv))"
  else
    echo "node: none"
  fi
  echo "peers measured: ${PEERS:-none}"
  echo "load average at start: $(cut -d ' ' -f 1-3 /proc/loadavg)"
  echo "single-threaded benchmarks pinned: ${PIN:-no (taskset not found)}"
  echo "runs: $RUNS (median of each column)"
  echo "benchmarks: ${ONLY:-all}"
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
}
if [ -z "$REPLOT" ]; then
  describe_machine > "$OUT/machine.txt"
  for p in asyncio uvloop node; do wants "$p" || note "peer $p not measured: $(peer_missing "$p")"; done
fi
sed 's/^/  /' "$OUT/machine.txt"

# ---- running and medians ------------------------------------------------------------


# measure NAME CMD...: each CMD is one command line (words split at spaces):
# RUNS rounds, each command once per round, so that a change in the machine's
# background load falls on every variant alike. Result lines: runs/NAME.csv.
measure() {
  local name=$1 i cmd; shift
  local -A failed=()
  for ((i = 1; i <= RUNS; i++)); do
    for cmd in "$@"; do
      [ -n "${failed[$cmd]:-}" ] && continue
      # shellcheck disable=SC2086
      if ! $cmd >> "$OUT/runs/$name.csv" 2>> "$OUT/runs/$name.err"; then
        failed[$cmd]=1
        failures+=("$name: $cmd (see $OUT/runs/$name.err)")
        note "FAILED: $cmd"
      fi
    done
  done
}

# The median of every numeric column (from the 4th on) per bench,variant,param.
medians() {
  awk -F, -v OFS=, '
    { key = $1 OFS $2 OFS $3
      if (!(key in seen)) { seen[key] = ++nkeys; order[nkeys] = key; width[key] = NF }
      c = ++count[key]
      for (j = 4; j <= NF; j++) { v[key, j, c] = $j; if ($j !~ /^-?[0-9.]+$/) text[key, j] = $j } }
    function median(key, j,   n, a, i, k, t) {
      n = count[key]
      for (i = 1; i <= n; i++) a[i] = v[key, j, i] + 0
      for (i = 2; i <= n; i++) for (k = i; k > 1 && a[k - 1] > a[k]; k--) { t = a[k]; a[k] = a[k - 1]; a[k - 1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    END { for (i = 1; i <= nkeys; i++) {
            key = order[i]; line = key
            for (j = 4; j <= width[key]; j++) {
              if ((key, j) in text) { line = line OFS text[key, j]; continue }
              m = median(key, j); line = line OFS (m == int(m) ? sprintf("%.0f", m) : sprintf("%.2f", m)) }
            print line } }'
}

# write_csv NAME HEADER: OUT/NAME.csv, the machine as # lines, then the medians.
write_csv() {
  local name=$1 header=$2
  { sed 's/^/# /' "$OUT/machine.txt"; echo "$header"
    [ -f "$OUT/runs/$name.csv" ] && medians < "$OUT/runs/$name.csv"; } > "$OUT/$name.csv"
}

# Whether OUT/NAME.csv was written (BENCH_ONLY may have left it out).
have() { [ -f "$OUT/$1.csv" ]; }

# The value of column COL (by header name) in OUT/NAME.csv for variant (and param).
value() { # name variant column [param]
  have "$1" || return 0
  awk -F, -v var="$2" -v col="$3" -v par="${4:-}" '
    /^#/ { next }
    !h { for (j = 1; j <= NF; j++) idx[$j] = j; h = 1; next }
    $2 == var && (par == "" || $3 == par) { print $(idx[col]); exit }' "$OUT/$1.csv"
}

# Every measurement, in the order of the issue; skipped by BENCH_REPLOT.
measure_all() {
  only fanout && measure_fanout
  only order && measure_order
  only offload && measure_offload
  only sweep && measure_sweep
  only grade && measure_grade
  only server && measure_server
  echo
}

# ---- 1. bounded fan-out ------------------------------------------------------------

measure_fanout() {
  echo "bench: 1. bounded fan-out: $FAN_N zero-delay jobs, limit $FAN_LIMIT"
  cmds=()
  # eager (asyncio's shape on the lab's semaphore) is measured for the book, with no target.
  for v in raw fetch_all stream eager; do cmds+=("$PIN $BIN/fanout $v $FAN_N $FAN_LIMIT"); done
  [ -n "$PY" ] && cmds+=("$PIN $PY bench/asyncio_bench.py fanout $FAN_N $FAN_LIMIT")
  [ -n "$UVPY" ] && cmds+=("$PIN $UVPY bench/asyncio_bench.py --uvloop fanout $FAN_N $FAN_LIMIT")
  [ -n "$NODE" ] && cmds+=("$PIN $NODE bench/node_bench.js fanout $FAN_N $FAN_LIMIT")
  measure fanout "${cmds[@]}"
  write_csv fanout "$COLUMNS_C"
}

# ---- 2. completion order -----------------------------------------------------------

measure_order() {
  echo "bench: 2. completion order: $ORDER_N operations"
  cmds=()
  for v in raw gather as_completed; do cmds+=("$PIN $BIN/order $v $ORDER_N"); done
  for v in gather as_completed; do
    [ -n "$PY" ] && cmds+=("$PIN $PY bench/asyncio_bench.py order $v $ORDER_N")
    [ -n "$UVPY" ] && cmds+=("$PIN $UVPY bench/asyncio_bench.py --uvloop order $v $ORDER_N")
    [ -n "$NODE" ] && cmds+=("$PIN $NODE bench/node_bench.js order $v $ORDER_N")
  done
  measure order "${cmds[@]}"
  write_csv order "$COLUMNS_C"
}

# ---- 3. offloading -------------------------------------------------------------------

measure_offload() {
  echo "bench: 3. offloading: $OFF_N round trips at depths $OFF_DEPTHS; loop lag"
  cmds=()
  for d in $OFF_DEPTHS; do
    for v in raw to_thread; do cmds+=("$BIN/offload $v $OFF_N $d"); done
    [ -n "$PY" ] && cmds+=("$PY bench/asyncio_bench.py offload $OFF_N $d")
    [ -n "$UVPY" ] && cmds+=("$UVPY bench/asyncio_bench.py --uvloop offload $OFF_N $d")
    [ -n "$NODE" ] && cmds+=("$NODE bench/node_bench.js offload $OFF_N $d")
  done
  measure offload "${cmds[@]}"
  write_csv offload "$COLUMNS_C"
  # The plot shows the series of the last round.
  measure lag "$BIN/lag inline $LAG_MS $LAG_BLOCK $OUT/runs/lag-inline.series.csv" \
    "$BIN/lag offload $LAG_MS $LAG_BLOCK $OUT/runs/lag-offload.series.csv"
  write_csv lag "$COLUMNS_C,max_gap_us,p99_gap_us,p50_gap_us,blocks"
}

# ---- 4. semaphore sweep against the echo server -------------------------------------------

measure_sweep() {
  echo "bench: 4. fetch_all against an echo server of max_conns $SWEEP_MAX, limits $SWEEP_LIMITS"
  cmds=()
  for l in $SWEEP_LIMITS; do cmds+=("$PIN $BIN/sweep $l $SWEEP_N $SWEEP_MAX"); done
  measure sweep "${cmds[@]}"
  write_csv sweep "$COLUMNS_C,ok,rejected,errors,throughput_rps,p50_us,p99_us,max_conns"
}

# ---- 5. the grader ------------------------------------------------------------------------

# grade_once LABEL: times one `make grade` of the copy; a line in runs/grade.csv.
grade_once() {
  local label=$1 t0 t1 score
  t0=$(date +%s%N)
  CLEAN_BUILD=${CLEAN_BUILD:-} make -s --no-print-directory grade SRC="$OUT/grade-src" LAB="$GRADE_LAB" \
    RESULTS="$OUT/grade-results" > "$OUT/runs/grade-$label.log" 2>&1 || return 1
  t1=$(date +%s%N)
  score=$(jq -r '"\(.score)/\(.max_score)"' "$OUT/grade-results/results.json" 2> /dev/null)
  echo "grade,$label,0,1,$((t1 - t0)),$((t1 - t0)),0,0,0,${score:-?}" >> "$OUT/runs/grade.csv"
}

# The grader: its own rounds (cold, then warm), a line each in runs/grade.csv.
measure_grade() {
  echo "bench: 5. make grade SRC=solutions${GRADE_LAB:+ LAB=$GRADE_LAB}: cold, then warm"
  rm -rf "$OUT/grade-src" && cp -r solutions "$OUT/grade-src"
  for ((i = 1; i <= RUNS; i++)); do
    CLEAN_BUILD=before grade_once cold && grade_once warm || { failures+=("grade (see $OUT/runs/grade-*.log)"); break; }
  done
  write_csv grade "$COLUMNS_C,score"
}

# ---- 6. chapter 07's server under overload ---------------------------------------------------

# One generator (overload) for every server, each in a process of its own:
# lab 07's reference and the peers', the same protocol and configuration.
# Not pinned: the servers' blocking parts run on threads.
SRV_COLUMNS="$COLUMNS_C,admitted,refused,failed,p50_ms,p99_ms,unloaded_p99_ms,unloaded_rss_kb"
measure_server() {
  echo "bench: 6. chapter 07's server: $SRV_N requests at $SRV_BATCH per ms (after $SRV_UNLOADED one at a time)"
  local gen="$BIN/overload" sizes="$SRV_N $SRV_BATCH $SRV_UNLOADED"
  cmds=("$gen lab07 $sizes -- $BIN/srvd $SRV_ARGS")
  [ -n "$PY" ] && cmds+=("$gen asyncio $sizes -- $PY bench/asyncio_bench.py server $SRV_ARGS")
  [ -n "$UVPY" ] && cmds+=("$gen uvloop $sizes -- $UVPY bench/asyncio_bench.py --uvloop server $SRV_ARGS")
  [ -n "$NODE" ] && cmds+=("$gen node $sizes -- $NODE bench/node_bench.js server $SRV_ARGS")
  measure server "${cmds[@]}"
  write_csv server "$SRV_COLUMNS"
}
[ -n "$REPLOT" ] || measure_all
echo

# ---- the targets ------------------------------------------------------------------------

# ratio A B: A / B with 1 decimal (or "n/a").
# Values keep four decimals: the verdict is on the value, the table rounds it.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.4f", a / b }'; }
# verdict VALUE OP LIMIT: pass, miss, or n/a.
verdict() { awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
  if (v == "n/a" || v == "") { print "n/a"; exit }
  ok = (op == "<=") ? (v + 0 <= l + 0) : (v + 0 >= l + 0); print ok ? "pass" : "miss" }'; }

rows=()
# shown VALUE: two decimals below 10, one below 100, none above.
shown() { awk -v v="$1" 'BEGIN { if (v == "n/a") print v; else if (v < 10) printf "%.2f", v;
  else if (v < 100) printf "%.1f", v; else printf "%.0f", v }'; }
target() { # text measured-value op limit unit detail
  local res; res=$(verdict "$2" "$3" "$4")
  [ -n "$ONLY" ] && [ "$res" = n/a ] && return # a benchmark left out by BENCH_ONLY
  rows+=("| $1 | $(shown "$2")$5 | $3 $4$5 | $6 | **$res** |")
}

cpu() { value fanout "$1" cpu_per_op_ns; }
raw=$(cpu raw) fa=$(cpu fetch_all) st=$(cpu stream) py=$(cpu asyncio)
target "fetch_all per job vs raw libuv (CPU)" "$(ratio "$fa" "$raw")" "<=" 1.5 "×" "$fa ns vs $raw ns"
target "bounded stream per job vs raw libuv (CPU)" "$(ratio "$st" "$raw")" "<=" 1.5 "×" "$st ns vs $raw ns"
target "asyncio per job vs fetch_all (CPU)" "$(ratio "$py" "$fa")" ">=" 100 "×" "$py ns vs $fa ns"
target "asyncio per job vs bounded stream (CPU)" "$(ratio "$py" "$st")" ">=" 100 "×" "$py ns vs $st ns"
# The peers a reader would pick instead: the reference is at least ten times
# faster per job, and holds a tenth of their memory at the same size.
for peer in uvloop node; do
  pj=$(cpu "$peer")
  target "$peer per job vs fetch_all (CPU)" "$(ratio "$pj" "$fa")" ">=" 10 "×" "${pj:-n/a} ns vs $fa ns"
  og=$(value order "$peer-gather" cpu_per_op_ns) cg=$(value order gather cpu_per_op_ns)
  target "$peer gather per operation vs gather (CPU)" "$(ratio "$og" "$cg")" ">=" 10 "×" "${og:-n/a} ns vs $cg ns"
  oc=$(value order "$peer-as_completed" cpu_per_op_ns) cc=$(value order as_completed cpu_per_op_ns)
  target "$peer as_completed per operation vs as_completed (CPU)" "$(ratio "$oc" "$cc")" ">=" 10 "×" "${oc:-n/a} ns vs $cc ns"
  pr=$(value fanout "$peer" maxrss_kb) fr=$(value fanout fetch_all maxrss_kb)
  target "fetch_all peak RSS vs $peer's, $FAN_N jobs" "$(ratio "$fr" "$pr")" "<=" 0.1 "×" "${fr:-n/a} kB vs ${pr:-n/a} kB"
done
rss=$(value fanout stream maxrss_kb)
target "bounded stream, $FAN_N jobs: peak RSS" "$(awk -v k="$rss" 'BEGIN { if (k == "") print "n/a"; else printf "%.4f", k / 1024 }')" "<=" 16 " MB" "ru_maxrss $rss kB"
gw=$(value grade warm wall_ns) gc=$(value grade cold wall_ns)
secs() { awk -v ns="$1" 'BEGIN { if (ns == "") print "n/a"; else printf "%.4f", ns / 1e9 }'; }
target "make grade SRC=solutions${GRADE_LAB:+ LAB=$GRADE_LAB}, warm" "$(secs "$gw")" "<=" 10 " s" "score $(value grade warm score)"
target "make grade SRC=solutions${GRADE_LAB:+ LAB=$GRADE_LAB}, cold" "$(secs "$gc")" "<=" 30 " s" "lab build folder removed first"
# Chapter 07's claim, on the server in a process of its own (the book checks it on the demo's run).
sp=$(value server lab07 p99_ms) su=$(value server lab07 unloaded_p99_ms)
target "lab 07's server, overloaded: p99 vs unloaded p99" "$(ratio "$sp" "$su")" "<=" 5 "×" "${sp:-n/a} ms vs ${su:-n/a} ms"

# table NAME COLUMNS...: a Markdown table of OUT/NAME.csv's columns.
table() {
  local name=$1; shift
  awk -F, -v cols="$*" '
    /^#/ { next }
    !h { for (j = 1; j <= NF; j++) idx[$j] = j; n = split(cols, want, " ")
         line = "|"; sep = "|"; for (i = 1; i <= n; i++) { line = line " " want[i] " |"; sep = sep "---|" }
         print line; print sep; h = 1; next }
    { line = "|"; for (i = 1; i <= n; i++) line = line " " $(idx[want[i]]) " |"; print line }' "$OUT/$name.csv"
}

summary_fanout() {
  echo
  echo "## 1. Bounded fan-out ($FAN_N zero-delay jobs, limit $FAN_LIMIT)"
  echo; table fanout variant n wall_per_op_ns cpu_per_op_ns maxrss_kb
  echo
  echo "eager is informational (no target): gather + \`async with sem\` on the lab's semaphore,"
  echo "one task and one waiter per item made up front."
}
summary_order() {
  echo
  echo "## 2. Completion order ($ORDER_N operations)"
  echo; table order variant n wall_per_op_ns cpu_per_op_ns maxrss_kb
}
summary_offload() {
  echo
  echo "## 3. Offloading ($OFF_N round trips; param: calls in flight)"
  echo; table offload variant param wall_per_op_ns cpu_per_op_ns maxrss_kb
  echo
  echo "Loop lag: a ${LAG_BLOCK} ms blocking call every 100 ms, heartbeat every 5 ms, for $LAG_MS ms."
  echo; table lag variant n p50_gap_us p99_gap_us max_gap_us blocks
}
summary_sweep() {
  echo
  echo "## 4. fetch_all against the echo server (max_conns $SWEEP_MAX, $SWEEP_N requests per limit)"
  echo; table sweep param ok rejected errors throughput_rps p50_us p99_us
}
summary_grade() {
  echo
  echo "## 5. The grader"
  echo; table grade variant wall_ns score
}
summary_server() {
  local v
  echo
  echo "## 6. Chapter 07's server under overload ($SRV_N requests at $SRV_BATCH per ms)"
  echo
  echo "Each server in a process of its own, bounded as lab 07's demo (max_inflight, max_queued,"
  echo "ms of blocking work on 4 threads: $SRV_ARGS), driven by one generator (bench/overload.c):"
  echo "$SRV_UNLOADED requests one at a time (unloaded), then $SRV_BATCH new connections every ms,"
  echo "twice what the pool can serve. admitted: answered \"done\"; refused: \"BUSY\"; latency from"
  echo "connect to answer; cpu and maxrss are the server's (its CPU over the overload, its VmHWM)."
  echo; table server variant admitted refused failed p50_ms p99_ms unloaded_p99_ms cpu_per_op_ns unloaded_rss_kb maxrss_kb
  echo
  printf 'p99 under overload / unloaded p99:'
  for v in lab07 asyncio uvloop node; do
    [ -n "$(value server "$v" p99_ms)" ] &&
      printf ' %s %s×;' "$v" "$(shown "$(ratio "$(value server "$v" p99_ms)" "$(value server "$v" unloaded_p99_ms)")")"
  done
  echo
}

{
  echo "# Benchmarks: the workbook's patterns, raw libuv, asyncio, uvloop and Node.js"
  echo
  echo "Mode: $mode. Made by \`make bench\` (tools/bench.sh); medians of $RUNS run(s)."
  echo
  sed 's/^/    /' "$OUT/machine.txt"
  echo
  echo "## Targets"
  echo
  echo "| target | measured | limit | detail | result |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Per-job targets compare CPU time (user + system) measured in the same run;"
  echo "wall times are in the tables below."
  if [ -f "$OUT/notes.txt" ]; then echo; echo "Notes:"; echo; sed 's/^/- /' "$OUT/notes.txt"; fi
  have fanout && summary_fanout
  have order && summary_order
  have offload && summary_offload
  have sweep && summary_sweep
  have grade && summary_grade
  have server && summary_server
} > "$OUT/summary.md"

echo
echo "Targets ($mode; $RUNS run(s); machine in $OUT/machine.txt):"
printf '%s\n' "| target | measured | limit | detail | result |" "${rows[@]}" | tr -d '*' | column -t -s '|' -o ' '

# ---- the plots ------------------------------------------------------------------------------

# data NAME AWK-PROGRAM: a whitespace-separated table for gnuplot, from OUT/NAME.csv
# (the program sees the columns by header name in c[]).
data() {
  awk -F, "/^#/ { next } !h { for (j = 1; j <= NF; j++) idx[\$j] = j; h = 1; next }
           { for (k in idx) c[k] = \$(idx[k]) } $2" "$OUT/$1.csv"
}

# Lines, boxes and labels only: weasyprint (the PDF) cannot draw gnuplot's point
# symbols (<use> of a currentColor symbol), so no plot uses points.
SVG_TERM="set terminal svg size 760,420 dynamic enhanced font 'sans,12' background rgb 'white'"
MACHINE="$(sed -n 's/^cpu: //p' "$OUT/machine.txt"), $(sed -n 's/^cores: //p' "$OUT/machine.txt") cores, libuv $(sed -n 's/^libuv: //p' "$OUT/machine.txt"); median of $RUNS"

plot_fanout() {
  data fanout '{ printf "%s %s %.1f\n", c["variant"], c["cpu_per_op_ns"], c["maxrss_kb"] / 1024 }' > "$OUT/fanout.dat"
  gnuplot << EOF2
$SVG_TERM
set output '$OUT/fanout.svg'
set multiplot layout 1,2 title "Bounded fan-out: $FAN_N zero-delay jobs, limit $FAN_LIMIT\n{/*0.8 $MACHINE}"
set style fill solid 0.6 border -1
set boxwidth 0.6
set logscale y
set grid ytics
set xtics rotate by -30 noenhanced
unset key
set ylabel 'CPU time per job (ns, log scale)'
set yrange [1:*]
plot '$OUT/fanout.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa', \
     '' using 0:(\$2*1.3):(sprintf('%.0f', \$2)) with labels
set ylabel 'peak RSS (MB, log scale)'
plot '$OUT/fanout.dat' using 0:3:xtic(1) with boxes lc rgb '#cc6677', \
     '' using 0:(\$3*1.3):(sprintf('%.1f', \$3)) with labels
unset multiplot
EOF2
}

plot_sweep() {
  data sweep '{ printf "%s %s %s %s %s %s\n", c["param"], c["throughput_rps"], 100 * c["rejected"] / c["n"], c["p50_us"], c["p99_us"], c["max_conns"] }' > "$OUT/sweep.dat"
  gnuplot << EOF2
$SVG_TERM
set output '$OUT/sweep.svg'
set multiplot layout 2,1 title "fetch\\\\_all against the echo server (max\\\\_conns $SWEEP_MAX), $SWEEP_N requests per limit\n{/*0.8 $MACHINE}"
set logscale x 2
set grid
set key center left
set arrow from $SWEEP_MAX, graph 0 to $SWEEP_MAX, graph 1 nohead dt 2 lc rgb '#888888'
set ylabel 'requests/s served'
set yrange [0:*]
set y2label 'rejected (%)'
set y2range [0:100]
set y2tics
set ytics nomirror
plot '$OUT/sweep.dat' using 1:2 with lines lw 2 lc rgb '#4477aa' title 'throughput (served)', \
     '' using 1:3 axes x1y2 with lines lw 2 lc rgb '#cc6677' title 'rejected (BUSY)'
unset y2label
unset y2tics
set ytics mirror
set logscale y
set yrange [*:*]
set key top left
set xlabel 'limit (permits of the semaphore)'
set ylabel 'latency of a served request (µs)'
plot '$OUT/sweep.dat' using 1:4 with lines lw 2 lc rgb '#228833' title 'p50', \
     '' using 1:5 with lines lw 2 lc rgb '#aa3377' title 'p99'
unset multiplot
EOF2
}

plot_offload() {
  data offload '{ t[c["variant"], c["param"]] = c["wall_per_op_ns"] / 1000; if (!(c["variant"] in seen)) { seen[c["variant"]] = 1; v[++n] = c["variant"] }
                  if (!(c["param"] in ds)) { ds[c["param"]] = 1; d[++m] = c["param"] } }
                END { printf "variant"; for (j = 1; j <= m; j++) printf " %s", d[j]; print ""
                      for (i = 1; i <= n; i++) { printf "%s", v[i]; for (j = 1; j <= m; j++) printf " %s", ((v[i], d[j]) in t) ? t[v[i], d[j]] : "NaN"; print "" } }' > "$OUT/offload.dat"
  gnuplot << EOF2
$SVG_TERM
set output '$OUT/offload.svg'
set title "Offloading: $OFF_N tiny calls to the thread pool and back\n{/*0.8 $MACHINE}"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.6 border -1
set xtics noenhanced
set logscale y
set grid ytics
set key top left
set ylabel 'wall time per call (µs, log scale)'
plot for [k=2:*] '$OUT/offload.dat' using k:xtic(1) title columnheader(k) . ' in flight' noenhanced
EOF2
}

plot_lag() {
  gnuplot << EOF2
$SVG_TERM
set output '$OUT/lag.svg'
set datafile separator ','
set title "Loop lag: a ${LAG_BLOCK} ms blocking call every 100 ms; a heartbeat every 5 ms\n{/*0.8 ${MACHINE%;*}; the last of $RUNS run(s)}"
set xlabel 'time (ms)'
set ylabel 'gap between heartbeats (ms)'
set grid
set key top right opaque box
set yrange [0:*]
set offsets 0, 0, graph 0.3, 0
plot '$OUT/runs/lag-inline.series.csv' using 1:2 every ::1 with impulses lw 1 lc rgb '#cc6677' title 'blocking call inline', \
     '$OUT/runs/lag-offload.series.csv' using 1:2 every ::1 with lines lw 1.5 lc rgb '#4477aa' title 'offloaded (off_to_thread)' noenhanced
EOF2
}

plot_server() {
  data server '{ printf "%s %s %s %s %.1f\n", c["variant"], c["unloaded_p99_ms"], c["p50_ms"], c["p99_ms"], c["maxrss_kb"] / 1024 }' > "$OUT/server.dat"
  gnuplot << EOF2
$SVG_TERM
set output '$OUT/server.svg'
set multiplot layout 1,2 title "Chapter 07's server, bounded: $SRV_N requests at $SRV_BATCH per ms, twice its capacity\n{/*0.8 $MACHINE}"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.6 border -1
set logscale y
set grid ytics
set xtics noenhanced
set key top left
set ylabel 'latency of an admitted request (ms, log scale)'
plot '$OUT/server.dat' using 2:xtic(1) title 'unloaded p99' lc rgb '#88ccee', \
     '' using 3 title 'p50' lc rgb '#4477aa', '' using 4 title 'p99' lc rgb '#aa3377'
unset key
set style data boxes
set boxwidth 0.6
set ylabel 'peak RSS of the server (MB, log scale)'
plot '$OUT/server.dat' using 0:5:xtic(1) with boxes lc rgb '#cc6677', \
     '' using 0:(\$5*1.3):(sprintf('%.1f', \$5)) with labels
unset multiplot
EOF2
}

# gnuplot repeats an id when the key is drawn apart (opaque): the EPUB wants
# every id once, so a repeat gets a suffix (nothing refers to these ids).
unique_ids() { # file.svg
  awk '{ while (match($0, /id="gnuplot_[^"]*"/)) {
           id = substr($0, RSTART + 4, RLENGTH - 5)
           out = out substr($0, 1, RSTART - 1) "id=\"" id (seen[id]++ ? "_" seen[id] : "") "\""
           $0 = substr($0, RSTART + RLENGTH) }
         print out $0; out = "" }' "$1" > "$1.tmp" && mv "$1.tmp" "$1"
}

if command -v gnuplot > /dev/null 2>&1; then
  for p in fanout sweep offload lag server; do
    have "$p" || continue
    if "plot_$p" 2> "$OUT/runs/plot-$p.err" && [ -s "$OUT/$p.svg" ]; then
      unique_ids "$OUT/$p.svg"
    else
      failures+=("plot $p (see $OUT/runs/plot-$p.err)")
    fi
  done
else
  note "gnuplot not found (Debian: gnuplot-nox): no plots"
fi

echo
echo "bench: $OUT/summary.md, $OUT/*.csv$(command -v gnuplot > /dev/null && echo ", $OUT/*.svg")"
if [ ${#failures[@]} -gt 0 ]; then
  printf 'bench: FAILED: %s\n' "${failures[@]}"
  exit 1
fi
