#!/usr/bin/env bash
# progress.sh — which labs are done, partly done or not started, with
# points, and the next step to take (make progress).
#
# Environment: SRC (default labs), RESULTS (default build/results), MODE.
#
# Each lab's result is its last grading (make grade keeps every lab's
# record in the tree's store, grader/labs.sh's progress_store, whether it
# graded one lab or all) when that came after the lab's files last changed;
# else the last `make grade`'s (RESULTS/raw) when it graded this tree; else
# the lab is graded again, quietly. So only labs whose files changed are
# ever re-graded.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
# shellcheck source=grader/labs.sh
. grader/labs.sh
SRC=${SRC:-labs}
RESULTS=${RESULTS:-build/results}

die() { echo "progress: $*" >&2; exit 2; }

[ -d "$SRC" ] || die "SRC=$SRC is not a folder"
src_abs=$(cd "$SRC" && pwd)
cache=$(progress_store "$src_abs")
mkdir -p "$cache/raw"

# A record is fresh when nothing it depends on changed after it was made.
fresh() { # rec lab
  local used dirs=("$src_abs/$2" "tests/$2" helpers grader)
  [ -s "$1" ] || return 1
  while IFS= read -r used; do dirs+=("$src_abs/$used"); done < <(labs_used_by "$2" "$src_abs")
  [ -z "$(find "${dirs[@]}" -type f -newer "$1" -print -quit 2> /dev/null)" ]
}

# The last make grade's record, when it graded this tree.
from_last_grade() { # lab
  [ "$(cat "$RESULTS/source.txt" 2> /dev/null)" = "$src_abs" ] &&
    fresh "$RESULTS/raw/$1.rec" "$1" && cp -p "$RESULTS/raw/$1.rec" "$cache/raw/$1.rec"
}

grade_again() { # lab
  printf 'progress: grading %s...\n' "$1" >&2
  SRC="$SRC" LAB="$1" RESULTS="$cache/run" grader/grade.sh > /dev/null 2>&1
  cp "$cache/run/raw/$1.rec" "$cache/raw/$1.rec" 2> /dev/null ||
    printf 'lab\t%s\trunner-crashed\tthe grader did not finish\n' "$1" > "$cache/raw/$1.rec"
}

make -s --no-print-directory libs || die "the grader does not build"
while IFS= read -r lab; do
  fresh "$cache/raw/$lab.rec" "$lab" || from_last_grade "$lab" || grade_again "$lab"
done < <(labs_all)
# Labs that left tests/ since last time are not progress.
for rec in "$cache"/raw/*.rec; do
  [ -d "tests/$(basename "$rec" .rec)" ] || rm -f "$rec"
done
build/tools/report --results "$cache" --progress --title "Progress in $SRC/"
