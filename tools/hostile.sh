#!/usr/bin/env bash
# hostile.sh [NAME...] — grades the hostile fixtures (tests/hostile/NAME, default all)
# and checks each against its EXPECT line (tests/hostile/README.md says what it holds),
# in the sandbox (grader/sandbox.sh): the outcomes are those of a gradebook.
# Without NAME, then the sandbox's own guarantees (tools/sandbox-test.sh) and
# the attacks that need a gradebook (tools/hostile-gradebook.sh): make
# check-hostile. Prints "ok"/"FAIL" per check; exits 1 if one failed. MODE as
# for make grade.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
failed=0

fail() { printf '  FAIL  hostile %s: %s\n' "$name" "$1"; failed=1; }

# The record's lab status, the score, and every text the student and the
# instructor see: findings, the lab's message, the tests' messages.
check() { # dir lab status score text
  local out=$1 got score
  got=$(jq -r --arg l "$2" '[.labs[] | select(.lab == $l) | .outcome] | first // ""' "$out/results.json" 2> /dev/null)
  score=$(jq -r '.score' "$out/results.json" 2> /dev/null)
  if [ "$got" != "$3" ]; then
    fail "lab status $got, expected $3"
  elif [ "$score" != "$4" ]; then
    fail "score $score, expected $4"
  # grep reads the files itself: `cat | grep -q` fails under pipefail when grep
  # stops at a match before cat has written everything (SIGPIPE), a false miss.
  elif [ "${5#!}" != "$5" ] && grep -sqrF -- "${5#!}" "$out/tampered.txt" "$out/raw/$2.rec" \
         "$out/results.json" "$out"/output/; then
    fail "\"${5#!}\" appears in what it left (results, outputs)"
  elif [ "$5" != - ] && [ "${5#!}" = "$5" ] && ! grep -sqF -- "$5" "$out/tampered.txt" "$out/raw/$2.rec"; then
    fail "no \"$5\" in its findings or messages"
  elif compgen -G "P" > /dev/null || [ -n "$(find build tests/hostile -name P -print -quit)" ]; then
    fail "a file named P was created: a name reached a shell"
  else
    printf '  ok    hostile %s: %s, %s points %s\n' "$name" "$3" "$4" "${5/#-/}"
  fi
}

all=$(($# == 0)) # no argument: every submission, then the sandbox's own tests
[ $# -gt 0 ] || set -- tests/hostile/*/
for dir in "$@"; do
  dir=tests/hostile/$(basename "$dir")
  name=$(basename "$dir")
  read -r lab status score text < "$dir/EXPECT" || { fail "no EXPECT line"; continue; }
  out=build/hostile/$name
  mkdir -p build/hostile
  rm -rf "$out"
  SANDBOX=1 SRC="$dir" LAB="$lab" RESULTS="$out" grader/grade.sh > "$out.table" 2>&1 || true
  check "$out" "$lab" "$status" "$score" "$text"
done
if [ "$all" = 1 ]; then
  tools/sandbox-test.sh || failed=1
  tools/hostile-gradebook.sh || failed=1
fi
exit $failed
