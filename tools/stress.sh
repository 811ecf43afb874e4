#!/usr/bin/env bash
# stress.sh N — grades the reference solutions N times in a row, with a busy
# loop on the other core, and fails unless every run gives the same results.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
runs=${1:-50}
out=build/stress
rm -rf "$out" && mkdir -p "$out"

# Keep the other core busy for the whole run.
( while :; do :; done ) &
burner=$!
trap 'kill $burner 2> /dev/null' EXIT

for i in $(seq "$runs"); do
  SRC=solutions RESULTS="$out/run" grader/grade.sh > /dev/null 2>&1
  jq -r '.tests[] | "\(.name) \(.status)"' "$out/run/results.json" > "$out/$i.txt"
  printf '.'
done
printf '\n'
distinct=$(for f in "$out"/[0-9]*.txt; do md5sum < "$f"; done | sort -u | wc -l)
if [ "$distinct" -eq 1 ]; then
  echo "stress: $runs runs, identical results ($(grep -c ' pass$' "$out/1.txt") passing tests each)"
else
  echo "stress: results differ between runs:"
  for f in "$out"/[0-9]*.txt; do diff -q "$out/1.txt" "$f" > /dev/null || diff "$out/1.txt" "$f"; done | sort | uniq -c
  exit 1
fi
