#!/usr/bin/env bash
# Golden-file tests for the reporter (grader/report/): builds it plainly and
# under ASan+UBSan, runs both on every case in tests/report/CASE/ and compares
# what they write with CASE/expected/, byte for byte (the diff on failure).
#
#   bash grader/report_test.sh            every case
#   bash grader/report_test.sh CASE...    the cases named
#   UPDATE=1 bash grader/report_test.sh   rewrite expected/ from the plain build
#
# UPDATE=1 is for a deliberate change of the reporter's output only: review
# `git diff tests/report` before committing what it wrote.
#
# A case (all optional but raw/ or args):
#   raw/*.rec      the records, in DIR/raw of --results DIR
#   tampered.txt   copied next to them, for "--tampered tampered.txt"
#   args           the reporter's arguments, one a line; "--results results"
#                  names the results folder (the whole argv: none means none)
#   env            NAME=VALUE lines: COLUMNS, GITHUB_ACTIONS,
#                  GITHUB_STEP_SUMMARY=step_summary.md, ...
#   cwd/           copied into the folder the reporter runs in (book pages)
#   expected/      what results/ holds after the run (raw/ aside), with
#                  stdout.txt, stderr.txt, status, and step_summary.md
#
# The stop-commands token of GitHub mode is random: it is compared as TOKEN.
# Beyond the golden files each run is checked for what one cannot show:
# results.json parses (jq) and adds up, junit.xml is well-formed (xmllint),
# TAP's plan matches its tests, no raw control byte reaches a terminal, no
# workflow command outside stop-commands but the reporter's own, no *.tmp
# left. Needs jq, xmllint and iconv.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
CASES=$ROOT/tests/report
SRCS=(grader/report/*.c)
CFLAGS=(-std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -O1 -g)
# Its own builds, not build/tools/report, which gradings beside it may be
# running (make check's jobs).
BIN=build/report-test
mkdir -p "$BIN"
cc "${CFLAGS[@]}" "${SRCS[@]}" -o "$BIN/report"
cc "${CFLAGS[@]}" -fsanitize=address,undefined -fno-sanitize-recover=all \
  -fno-omit-frame-pointer "${SRCS[@]}" -o "$BIN/report-asan"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() {
  printf 'FAIL %s\n' "$1"
  failures=$((failures + 1))
}
check() { # check CASE DESCRIPTION COMMAND...
  local name=$1 what=$2
  shift 2
  "$@" || fail "$name: $what"
}

# ---- running a case ----

# Sets up $1 (the folder the reporter runs in) from case folder $2.
stage_case() { # work case
  mkdir -p "$1/results"
  if [ -d "$2/cwd" ]; then cp -R "$2/cwd/." "$1/"; fi
  if [ -d "$2/raw" ]; then cp -RL "$2/raw" "$1/results/raw"; fi
  if [ -f "$2/tampered.txt" ]; then cp "$2/tampered.txt" "$1/tampered.txt"; fi
}

# Runs binary $3 on case $2 in $1 with a clean environment: the case's env
# lines, nothing of the caller's (COLUMNS, GITHUB_ACTIONS, NO_COLOR).
run_case() { # work case binary
  local -a args=() envs=()
  if [ -f "$2/args" ]; then mapfile -t args <"$2/args"; fi
  if [ -f "$2/env" ]; then mapfile -t envs <"$2/env"; fi
  local rc=0
  (cd "$1" && env -i PATH="$PATH" ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "${envs[@]}" "$3" "${args[@]}") >"$1/stdout.txt" 2>"$1/stderr.txt" || rc=$?
  echo "$rc" >"$1/status"
}

# What the run wrote, as expected/ holds it: results/ but raw/, and the rest.
collect() { # work out
  local f
  mkdir -p "$2"
  for f in "$1/results"/*; do
    case $(basename "$f") in raw | '*') ;; *) cp -R "$f" "$2/" ;; esac
  done
  for f in stdout.txt stderr.txt status step_summary.md; do
    if [ -f "$1/$f" ]; then cp "$1/$f" "$2/"; fi
  done
  token=$(sed -n 's/^::stop-commands::\(.*\)$/\1/p' "$2/stdout.txt")
  if [ -n "$token" ]; then sed -i "s/$token/TOKEN/g" "$2/stdout.txt"; fi
}

# ---- checks a golden file cannot make ----

valid_utf8() { iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1; }
# Any C0 control but tab/LF, DEL, ESC, or a C1 control encoded in UTF-8.
no_controls() { ! LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]\|\xc2[\x80-\x9f]' "$1"; }
tap_plan() { sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$1"; }
tap_count() { grep -cE '^(not )?ok [0-9]+ ' "$1" || true; }
json_tests() { jq '.tests | length' "$1"; }
json_parses() { jq -e . "$1" >/dev/null; }

# The score is the sum of the tests' points, and summary.txt agrees.
adds_up() { # out
  local score max passed failed
  read -r score max passed failed <"$1/summary.txt"
  jq -e --argjson s "$score" --argjson m "$max" --argjson p "$passed" --argjson f "$failed" '
    .score == $s and .max_score == $m and
    ([.tests[].points] | add // 0) == $s and ([.tests[].max_points] | add // 0) == $m and
    ([.labs[].score] | add // 0) == $s and ([.labs[].max_score] | add // 0) == $m and
    ([.tests[] | select(.status == "pass")] | length) == $p and
    ([.tests[] | select(.status != "pass")] | length) == $f' "$1/results.json" >/dev/null
}

# Inside ::stop-commands:: nothing may reach the runner as a command.
commands_outside_stop() {
  awk '/^::stop-commands::/ { tok = "::" substr($0, 18) "::"; stop = 1; next }
       stop && $0 == tok { stop = 0; next }
       !stop && /^[ \t]*::/ { print }' "$1"
}
only_our_commands() { [ "$(commands_outside_stop "$1" | grep -vc '^::error ' || true)" = 0 ]; }

# TAP's diagnostics are YAML: each block of each file parses. One python
# for all the files (PyYAML, when it is there): it takes a second to start.
tap_yaml_parses() {
  python3 - "$@" <<'EOF'
import sys, yaml
for path in sys.argv[1:]:
    block = None
    for line in open(path, encoding="utf-8"):
        if line == "  ---\n": block = []
        elif line == "  ...\n": yaml.safe_load("".join(block)); block = None
        elif block is not None: block.append(line[2:])
EOF
}
TAP_FILES=()

check_files() { # label out work case
  local f
  for f in results.json junit.xml results.tap stdout.txt step_summary.md; do
    [ -f "$2/$f" ] || continue
    check "$1" "$f is valid UTF-8" valid_utf8 "$2/$f"
    check "$1" "$f carries no raw control characters" no_controls "$2/$f"
  done
  check "$1" "no *.tmp left" bash -c "! ls '$3/results'/*.tmp 2>/dev/null"
  if grep -qx GITHUB_ACTIONS=true "$4/env" 2>/dev/null; then
    check "$1" "workflow commands only the reporter's own" only_our_commands "$2/stdout.txt"
  fi
  if [ "$(cat "$2/status")" != 2 ]; then
    check "$1" "nothing on stderr" [ ! -s "$2/stderr.txt" ]
  fi
  [ -f "$2/results.json" ] || return 0
  check "$1" "results.json parses" json_parses "$2/results.json"
  check "$1" "results.json adds up, summary.txt agrees" adds_up "$2"
  check "$1" "junit.xml is well-formed" xmllint --noout "$2/junit.xml"
  check "$1" "junit.xml counts the tests" [ "$(xmllint --xpath 'string(/testsuites/@tests)' \
    "$2/junit.xml")" = "$(json_tests "$2/results.json")" ]
  check "$1" "TAP plan matches its tests" [ "$(tap_plan "$2/results.tap")" = "$(tap_count "$2/results.tap")" ]
  check "$1" "TAP plan matches results.json" [ "$(tap_plan "$2/results.tap")" = "$(json_tests "$2/results.json")" ]
  TAP_FILES+=("$2/results.tap")
}

# Runs one build on a case; compares with expected/ (rewrites it first on
# UPDATE=1, from the plain build).
run_one() { # case build binary
  local name=$1 work=$TMP/$1.$2 out=$TMP/$1.$2.out
  stage_case "$work" "$CASES/$name"
  run_case "$work" "$CASES/$name" "$3"
  collect "$work" "$out"
  if [ -n "${UPDATE:-}" ] && [ "$2" = plain ]; then
    rm -rf "$CASES/$name/expected" && cp -R "$out" "$CASES/$name/expected"
  fi
  # Same bytes as expected/ make the same verdicts: check one build's.
  if [ "$2" = plain ]; then check_files "$name" "$out" "$work" "$CASES/$name"; fi
  if ! diff -ru "$CASES/$name/expected" "$out" >"$TMP/diff" 2>&1; then
    fail "$name ($2): output differs from expected/"
    cut -c1-300 "$TMP/diff" | head -n 60 | LC_ALL=C tr '\001-\010\013-\037\177' '?'  # no raw escape reaches the terminal
  fi
}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for d in "$CASES"/*/; do names+=("$(basename "$d")"); done
fi
for name in "${names[@]}"; do
  [ -d "$CASES/$name" ] || { fail "$name: no such case in tests/report"; continue; }
  before=$failures
  run_one "$name" plain "$ROOT/$BIN/report"
  run_one "$name" asan "$ROOT/$BIN/report-asan"
  if ((failures == before)); then printf 'ok   %s\n' "$name"; fi
done

if [ ${#TAP_FILES[@]} -gt 0 ] && python3 -c 'import yaml' 2>/dev/null; then
  check "every case" "TAP YAML blocks parse" tap_yaml_parses "${TAP_FILES[@]}"
fi
if ((failures)); then
  printf '%d check(s) failed\n' "$failures"
  exit 1
fi
printf 'all %d report cases passed, plainly and under ASan+UBSan\n' "${#names[@]}"
