#!/usr/bin/env bash
# demo-csv.sh LAB OUT.csv — runs lab LAB's reference demo once and keeps its
# trace, for the book's timeline picture.
#
# Builds solutions/LAB/demo.c (MODE=debug, after `make libs`; grader/grade.sh
# --demo), runs it with --csv, and fails, naming the lab, if the demo does not build, exits
# non-zero (the leak check included), or writes no events.
# The demo's terminal output is kept next to the CSV as LAB.log.
set -euo pipefail

lab=$1 out=$2
log=${out%.csv}.log
mkdir -p "$(dirname "$out")"

if ! SRC=solutions LAB=$lab MODE=debug timeout 120 grader/grade.sh --demo --csv "$out.tmp" \
     > "$log" 2>&1; then
  echo "book: the demo of lab $lab did not build or failed (solutions/$lab/demo.c --csv):" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
if [ "$(head -n 1 "$out.tmp" 2> /dev/null)" != "ms,event,id,value" ] || [ "$(wc -l < "$out.tmp")" -lt 2 ]; then
  echo "book: the demo of lab $lab wrote no trace with --csv $out (expected ms,event,id,value and events)" >&2
  exit 1
fi
mv "$out.tmp" "$out"
