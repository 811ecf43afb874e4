#!/usr/bin/env bash
# mkstarter.sh SOLUTIONS_DIR OUT_DIR — generates the starter tree (labs/)
# from the reference solutions; see mkstarter.awk for the markers.
set -euo pipefail
src=${1:?usage: mkstarter.sh SOLUTIONS_DIR OUT_DIR}
out=${2:?usage: mkstarter.sh SOLUTIONS_DIR OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$src"
find . -type f | LC_ALL=C sort | while read -r f; do
  mkdir -p "$out/$(dirname "$f")"
  awk -f "$here/mkstarter.awk" "$f" > "$out/$f"
done
