#!/usr/bin/env bash
# grade.sh — builds and grades labs, then hands the records to the reporter.
#
# Environment (set by the Makefile): SRC (folder laid out like labs/), LAB
# (a number like 00, or a full name; empty: every lab), MODE (debug|asan),
# RESULTS (output folder), STRICT (1: exit 1 below full marks),
# TIMEOUT_SCALE (multiplies each test's timeout), REPORT_VIEW (--brief for
# make watch).
# With --demo, builds and runs the demo of LAB instead.
#
# The set of labs comes from tests/: a lab missing from SRC is graded as a
# lab that did not build, so a broken submission still gets every row.
#
# Tamper evidence, in $RESULTS/tampered.txt for the reporter: in a handout
# (MANIFEST.sha256 present), grader files that differ from the manifest; in
# any tree, lab code that defines a name the grader or its libraries use
# (its own grade_main, say, would replace the grader's).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
SRC=${SRC:-labs}
LAB=${LAB:-}
MODE=${MODE:-debug}
RESULTS=${RESULTS:-build/results}
STRICT=${STRICT:-}

die() { echo "grade: $*" >&2; exit 2; }

[ -d "$SRC" ] || die "SRC=$SRC is not a folder (expected a folder laid out like labs/)"
src_abs=$(cd "$SRC" && pwd)
case "$src_abs" in
  "$root"/*) tag=${src_abs#"$root"/} ;;
  *) tag=ext${src_abs} ;;
esac
tag=${tag//\//_}

if [ -n "${TIMEOUT_SCALE:-}" ]; then
  export CK_TIMEOUT_MULTIPLIER=$TIMEOUT_SCALE
elif [ "$MODE" = asan ]; then
  export CK_TIMEOUT_MULTIPLIER=3
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# Labs known to the project, optionally narrowed by LAB.
select_labs() {
  local d name
  for d in tests/[0-9][0-9]-*/; do
    name=$(basename "$d")
    case "$LAB" in
      "" | "$name" | "${name%%-*}") echo "$name" ;;
    esac
  done
}

lab_make() { # lab target
  make -s --no-print-directory -f mk/lab.mk MODE="$MODE" \
    LAB_DIR="$src_abs/$1" TEST_DIR="$root/tests/$1" \
    OUT="$root/build/$MODE/labs/$tag/$1" "$2"
}

escape() { sed -e 's/\\/\\\\/g' -e 's/\t/\\t/g' | awk 'BEGIN{ORS="\\n"} {print}'; }

# Global names the lab's objects define that the grader's side also has:
# what the grader's and helpers' archives define or call and what the test
# objects define (the lab is linked before the archives, so its copy would
# win), and whatever the runner exports to shared libraries (a lab's fork
# would serve Check).
check_symbols() { # lab out
  local lab=$1 out=$2 obj sym
  [ -d "$out/lab" ] || return 0
  local libs=("$root/build/$MODE/lib/libgrade.a" "$root/build/$MODE/lib/libap.a")
  { nm -D --defined-only "$out/runner"
    nm -g "${libs[@]}" # defined and used: a lab's uv_run would serve the helpers
    nm -g --defined-only "$out"/test/*.o "$out"/test/hidden/*.o
  } 2> /dev/null | awk 'NF >= 2 { print $NF }' | sort -u > "$out/grader.syms"
  nm -A -g --defined-only "$out"/lab/*.o 2> /dev/null |
    awk 'NF == 3 { sub(/:[0-9a-f]*$/, "", $1); print $1, $3 }' |
    while read -r obj sym; do
      obj=$(basename "$obj" .o)
      [ "$obj" != demo ] && grep -qxF -- "$sym" "$out/grader.syms" || continue
      printf '%s/%s/%s.c\tdefines %s, a name the grader uses\n' "$SRC" "$lab" "$obj" "$sym"
    done >> "$RESULTS/tampered.txt"
}

# In a handout: the grader's files against the manifest it shipped with.
check_manifest() {
  : > "$RESULTS/tampered.txt"
  [ -f MANIFEST.sha256 ] || return 0
  tools/manifest.sh verify . MANIFEST.sha256 >> "$RESULTS/tampered.txt" ||
    printf 'MANIFEST.sha256\tunreadable\n' >> "$RESULTS/tampered.txt"
}

# The runner itself died (it should not): keep a row for the lab.
record_crash() { # lab message
  printf 'lab\t%s\trunner-crashed\t%s\n' "$1" "$(printf '%s' "$2" | escape)" \
    > "$RESULTS/raw/$1.rec"
}

grade_lab() {
  local lab=$1 out="build/$MODE/labs/$tag/$1" log="$RESULTS/build/$1.log" status
  if [ ! -d "$src_abs/$lab" ]; then
    printf 'the folder %s/%s is missing\n' "$SRC" "$lab" > "$log"
  elif lab_make "$lab" runner > "$log" 2>&1; then
    check_symbols "$lab" "$out"
    timeout --kill-after=10 900 "$out/runner" --out "$RESULTS"
    status=$?
    [ $status -eq 0 ] && [ -s "$RESULTS/raw/$lab.rec" ] && return 0
    record_crash "$lab" "the grader's runner stopped with status $status before writing results"
    return 0
  fi
  if lab_make "$lab" runner-list >> "$log" 2>&1 &&
     "$out/runner-list" --out "$RESULTS" --build-failed "$log"; then
    return 0
  fi
  record_crash "$lab" "the lab and its tests did not compile: $(head -c 4000 "$log")"
}

run_demo() {
  local labs
  labs=$(select_labs)
  [ -n "$LAB" ] && [ "$(echo "$labs" | wc -w)" -eq 1 ] ||
    die "make run needs one lab: make run LAB=00 (labs: $(select_labs | tr '\n' ' '))"
  lab_make "$labs" demo || die "the demo of $labs did not compile (see above)"
  echo "== demo of $SRC/$labs =="
  exec "build/$MODE/labs/$tag/$labs/demo"
}

if [ "${1:-}" = --demo ]; then
  [ -n "$LAB" ] || die "make run needs one lab: make run LAB=00"
  run_demo
fi

labs=$(select_labs)
[ -n "$labs" ] || die "no lab matches LAB=$LAB (labs: $(LAB= select_labs | tr '\n' ' '))"
rm -rf "$RESULTS/raw" "$RESULTS/output"
mkdir -p "$RESULTS/raw" "$RESULTS/build"
check_manifest
for lab in $labs; do
  grade_lab "$lab"
done
echo "$src_abs" > "$RESULTS/source.txt" # which tree raw/ graded (make progress)
build/tools/report --results "$RESULTS" ${STRICT:+--strict} --title "Grading $SRC/" \
  --tampered "$RESULTS/tampered.txt" ${REPORT_VIEW:+"$REPORT_VIEW"}
