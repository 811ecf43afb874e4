#!/usr/bin/env bash
# build-all.sh [SRC] — compiles everything from scratch (libraries, and each
# lab's runner and demo from SRC, default solutions). Used under bear to make
# compile_commands.json, so editors see every file with its real flags.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
src=${1:-solutions}
make -s --no-print-directory -B MODE=debug libs
for dir in tests/[0-9][0-9]-*/; do
  lab=$(basename "$dir")
  make -s --no-print-directory -B -f mk/lab.mk MODE=debug LAB_DIR="$root/$src/$lab" \
    TEST_DIR="$root/tests/$lab" OUT="$root/build/debug/labs/$src/$lab" runner demo
done
