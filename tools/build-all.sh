#!/usr/bin/env bash
# build-all.sh [SRC] — compiles everything from scratch (libraries, and each
# lab's harness, test program and demo from SRC, default solutions). Used under bear to make
# compile_commands.json, so editors see every file with its real flags.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
# shellcheck source=grader/labs.sh
. grader/labs.sh
src=${1:-solutions}
make -s --no-print-directory -B MODE=debug libs
labs_all | while IFS= read -r lab; do
  out=build/debug/labs/all-$lab
  grader/stage.sh "$src" "$lab" "$out/stage" > /dev/null
  GRADE_SRC=$src make -s --no-print-directory -B -f mk/lab.mk MODE=debug STAGE="$out/stage" \
    TEST_DIR="tests/$lab" OUT="$out" runner demo
done
