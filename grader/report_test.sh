#!/usr/bin/env bash
# Tests for grader/report.c: builds it (plainly and under ASan+UBSan), feeds
# it record files from honest to hostile, and checks that every output it
# writes still parses -- whatever a student's program printed.
#
# Run from anywhere: bash grader/report_test.sh.  Needs jq and xmllint.
set -euo pipefail

cd "$(dirname "$0")/.."
CFLAGS=(-std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -O1 -g)
mkdir -p build/tools
cc "${CFLAGS[@]}" grader/report.c -o build/tools/report
cc "${CFLAGS[@]}" -fsanitize=address,undefined -fno-sanitize-recover=all \
  -fno-omit-frame-pointer grader/report.c -o build/tools/report-asan
REPORT=$PWD/build/tools/report
REPORT_ASAN=$PWD/build/tools/report-asan

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir "$TMP/cwd"
unset COLUMNS  # the table's width: each test sets it when it matters
failures=0

pass() { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }
not() { ! "$@"; }
check() {  # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

# Runs the reporter with stdout/stderr captured; sets $rc.  It runs in
# $RUN_IN (default: an empty folder), where it looks for the book's pages.
run() {  # run DIR [ARGS...]
  local dir=$1; shift
  rc=0
  (cd "${RUN_IN:-$TMP/cwd}" && "$REPORT" --results "$dir" "$@") >"$dir/stdout" 2>"$dir/stderr" || rc=$?
}

# A record line from already-escaped fields (the caller escapes).
rec() { local IFS=$'\t'; printf '%s\n' "$*"; }

# Every byte 0x01-0x1f except the two the format forbids raw (tab ends a
# field, LF ends a line), then DEL.
control_bytes() {
  local i
  for ((i = 1; i < 32; i++)); do
    ((i == 9 || i == 10)) && continue
    printf '%b' "\\0$(printf '%03o' "$i")"
  done
  printf '\177'
}

# Quotes, backslashes (escaped, unknown-escape and raw), XML specials,
# invalid UTF-8 (stray bytes, overlong NUL, surrogate, > U+10FFFF, cut
# sequence), U+FFFE, ANSI and C1 escapes, GitHub workflow commands and
# TAP directives.
hostile() {
  printf '"q" '"'"'s'"'"' \\\\ back\\x \\\\n <a>&amp;]]> '
  control_bytes
  printf ' \xff\xfe\xc0\x80 \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82 \xef\xbf\xbe'
  printf ' \x1b[2J\x1b[31mred \xc2\x9b2J %%25 a:b,c'
  printf '\\n::error::injected\\n  ::add-mask::x # SKIP \\t tab \\r cr'
}

write_mixed() {  # a failing set: every kind of lab and test
  local raw=$1/raw
  mkdir -p "$raw"
  {
    rec lab 00-the-loop ok ''
    rec test 00-the-loop results_in_input_order pass 3 3 0 '00-the-loop#gathering' 'Keep order.' '' labs/00/test.c 12 ''
    rec test 00-the-loop done_after_every_close fail 0 2 0 '00-the-loop#the-close-protocol' \
      'Call done from the last close callback.' \
      'expected done once after all 3 timers closed\nobserved done while 1 timer was open\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\nline 9\nline 10' \
      labs/00/test.c 40 'tick\ntick\ntick\ntick\ntick\ntick'
    rec test 00-the-loop many_sleeps error 0 4 0 '00-the-loop#sleeping' '' \
      'the test crashed: SIGSEGV (segmentation fault)' labs/00/test.c 0 ''
    rec test 00-the-loop secret_case pass 5 5 1 '00-the-loop#hidden' '' '' labs/00/test.c 77 ''
  } >"$raw/00-the-loop.rec"
  {
    rec lab 01-build build-failed 'lab.c:3:1: error: expected ;\n 3 | }\n   | ^'
    rec test 01-build compiles error 0 6 0 '01-build#start' 'Read the compiler.' 'not built' lab.c 3 ''
  } >"$raw/01-build.rec"
  {
    printf 'lab\t02-"hostile"\tok\t'; hostile; printf '\n'
    printf 'test\t02-"hostile"\t'; hostile; printf '\tfail\t0\t1\t0\t'
    hostile; printf '\t'; hostile; printf '\t'; hostile; printf '\t'; hostile
    printf '\t42\t'
    # a 3 MB output field: the hostile text over and over
    (yes "$(hostile)" || true) | head -c 3000000 | tr -d '\n'
    printf '\n'
    printf 'test\t02-"hostile"\tbad_status\tweird\tx\t-1\t7\t\t\t\t\tnot-a-number\n'
    printf 'future-kind\tignored\n\n'
    printf 'test\t02-"hostile"\tlone_backslash\terror\t0\t1\t0\t\t\tends with \\\t\t0\t\\\n'
  } >"$raw/02-hostile.rec"
  printf 'not a record file\n' >"$raw/README.txt"
}

write_allpass() {
  mkdir -p "$1/raw"
  {
    rec lab 00-the-loop ok ''
    rec test 00-the-loop a pass 2 2 0 '00-the-loop#a' '' '' t.c 1 ''
    rec test 00-the-loop b pass 3 3 0 '00-the-loop#b' '' '' t.c 2 'some output'
  } >"$1/raw/00-the-loop.rec"
}

json_ok() { jq -e "$1" "$2" >/dev/null; }  # json_ok FILTER FILE
valid_utf8() { iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1; }
# Any C0 control but tab/LF, DEL, ESC, or a C1 control encoded in UTF-8.
no_controls() { ! LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]\|\xc2[\x80-\x9f]' "$1"; }
tap_plan() { sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$1"; }
tap_count() { grep -cE '^(not )?ok [0-9]+ ' "$1"; }

test_mixed() {
  local d=$TMP/mixed
  write_mixed "$d"
  run "$d"
  check "mixed: exit 0 without --strict" [ "$rc" -eq 0 ]
  check "mixed: results.json parses" json_ok . "$d/results.json"
  read -r score max passed failed <"$d/summary.txt"
  check "mixed: .score matches summary.txt" [ "$(jq .score "$d/results.json")" = "$score" ]
  check "mixed: .max_score matches summary.txt" [ "$(jq .max_score "$d/results.json")" = "$max" ]
  check "mixed: score is 8/22" [ "$score/$max" = 8/22 ]
  check "mixed: 2 passed, 6 failed" [ "$passed $failed" = "2 6" ]
  check "mixed: status error" [ "$(jq -r .status "$d/results.json")" = error ]
  check "mixed: message names the broken build" \
    json_ok '.message | test("01-build: build failed")' "$d/results.json"
  check "mixed: hidden_tests_run" json_ok '.hidden_tests_run == true' "$d/results.json"
  check "mixed: task_id counts labs" \
    json_ok '[.tests[].task_id] | unique == [1,2,3]' "$d/results.json"
  check "mixed: output capped at 500 code points" \
    json_ok '[.tests[].output // "" | length] | max <= 512' "$d/results.json"
  check "mixed: capped output says so" \
    json_ok '.tests[] | select(.test | startswith("\"q\"")) | .output | endswith("…[truncated]")' "$d/results.json"
  check "mixed: quotes and backslashes survive" \
    json_ok '.tests[] | select(.test | startswith("\"q\"")) | .message | contains("\"q\" '"'"'s'"'"' \\ back\\x")' "$d/results.json"
  check "mixed: invalid UTF-8 became U+FFFD" \
    json_ok '.labs[2].message | contains("\ufffd\ufffd\ufffd\ufffd \ufffd\ufffd\ufffd \ufffd\ufffd\ufffd\ufffd \ufffd \ufffe")' "$d/results.json"
  check "mixed: unknown status counts as error" \
    json_ok '.tests[] | select(.test == "bad_status") | .status == "error" and .max_points == 0 and .hidden == false' "$d/results.json"
  check "mixed: junit.xml is well-formed" xmllint --noout "$d/junit.xml"
  check "mixed: junit counts" [ "$(xmllint --xpath 'string(/testsuites/@tests)' "$d/junit.xml")" = 8 ]
  check "mixed: build failure in system-err" \
    [ "$(xmllint --xpath 'count(//testsuite[@name="01-build"]/system-err)' "$d/junit.xml")" = 1 ]
  check "mixed: TAP plan matches tests" [ "$(tap_plan "$d/results.tap")" = "$(tap_count "$d/results.tap")" ]
  check "mixed: TAP plan matches JSON" [ "$(tap_plan "$d/results.tap")" = "$(jq '.tests | length' "$d/results.json")" ]
  check "mixed: no TAP SKIP directive leaked" [ "$(grep -c '^\(not \)\?ok.*[^\\]# SKIP' "$d/results.tap" || true)" = 0 ]
  for f in results.json junit.xml results.tap stdout; do
    check "mixed: $f is valid UTF-8" valid_utf8 "$d/$f"
    check "mixed: $f carries no raw control characters" no_controls "$d/$f"
  done
  check "mixed: table total line" grep -q '^Total  *8/22  (1 hidden test included)$' "$d/stdout"
  check "mixed: table points at the chapter" \
    grep -q 'read: chapters/00-the-loop.md#the-close-protocol' "$d/stdout"
  check "mixed: table shows 8 message lines at most, then where the rest is" \
    bash -c "grep -q '^  *line 8$' '$d/stdout' && ! grep -q 'line 9' '$d/stdout' &&
             grep -qxF '               … more in $d/results.json' '$d/stdout'"
  check "mixed: hidden tests marked" grep -q 'secret_case (hidden)' "$d/stdout"
  check "mixed: next step named" \
    grep -q '^Next: 00-the-loop: done_after_every_close — Call done' "$d/stdout"
  check "mixed: summary line last" [ "$(tail -n1 "$d/stdout")" = "2 passed, 6 failed" ]
  check "mixed: no tmp files left" bash -c "! ls '$d'/*.tmp 2>/dev/null"
  run "$d" --strict
  check "mixed: --strict exits 1" [ "$rc" -eq 1 ]
  if python3 -c 'import yaml' 2>/dev/null; then
    check "mixed: TAP YAML blocks parse" python3 - "$d/results.tap" <<'EOF'
import sys, yaml
block, docs = None, 0
for line in open(sys.argv[1], encoding="utf-8"):
    if line == "  ---\n": block = []
    elif line == "  ...\n": yaml.safe_load("".join(block)); docs += 1; block = None
    elif block is not None: block.append(line[2:])
sys.exit(0 if docs == 6 else 1)
EOF
  fi
}

# Inside ::stop-commands:: nothing may reach the runner as a command.
commands_outside_stop() {
  awk '/^::stop-commands::/ { tok = "::" substr($0, 18) "::"; stop = 1; next }
       stop && $0 == tok { stop = 0; next }
       !stop && /^[ \t]*::/ { print }' "$1"
}

test_github() {
  local d=$TMP/mixed
  : >"$TMP/step_summary"
  rc=0
  GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$TMP/step_summary \
    "$REPORT" --results "$d" >"$d/gha" 2>&1 || rc=$?
  check "github: exit 0" [ "$rc" -eq 0 ]
  check "github: one annotation per failure plus the broken build" \
    [ "$(grep -c '^::error ' "$d/gha")" = 7 ]
  check "github: only our own commands outside stop-commands" \
    [ "$(commands_outside_stop "$d/gha" | grep -vc '^::error ' || true)" = 0 ]
  check "github: file/line/title properties" \
    grep -q '^::error file=labs/00/test.c,line=40,title=00-the-loop%3A done_after_every_close::expected done once after all 3 timers closed%0Aobserved' "$d/gha"
  check "github: ':' ',' '%' escaped in properties" \
    grep -q '%2525 a%3Ab%2Cc' "$d/gha"
  check "github: step summary table" grep -q '^| \*\*Total\*\* | .* | \*\*8/22\*\* |$' "$TMP/step_summary"
  check "github: step summary valid UTF-8" valid_utf8 "$TMP/step_summary"
  check "github: annotations valid UTF-8" valid_utf8 "$d/gha"
}

test_allpass() {
  local d=$TMP/allpass
  write_allpass "$d"
  run "$d" --strict --title 'All good'
  check "allpass: --strict exits 0" [ "$rc" -eq 0 ]
  check "allpass: status pass" [ "$(jq -r .status "$d/results.json")" = pass ]
  check "allpass: message null" [ "$(jq -r .message "$d/results.json")" = null ]
  check "allpass: summary.txt" [ "$(cat "$d/summary.txt")" = "5 5 2 0" ]
  check "allpass: public tests only" grep -q '^Total  *5/5  (public tests only)$' "$d/stdout"
  check "allpass: junit name is the title" grep -q '<testsuites name="All good"' "$d/junit.xml"
  check "allpass: TAP all ok" [ "$(grep -c '^ok' "$d/results.tap")" = 2 ]
}

test_crashed() {  # a runner that died: strict must not call it perfect
  local d=$TMP/crashed
  mkdir -p "$d/raw"
  {
    rec lab 00-the-loop runner-crashed 'killed by SIGKILL'
    rec test 00-the-loop a pass 2 2 0 '' '' '' t.c 1 ''
  } >"$d/raw/00.rec"
  : >"$d/raw/01-empty.rec"
  run "$d" --strict
  check "crashed: --strict exits 1 though every listed test passed" [ "$rc" -eq 1 ]
  check "crashed: empty file is a crashed lab" \
    json_ok '.labs[1] | .lab == "01-empty" and .status == "error"' "$d/results.json"
  run "$d"
  check "crashed: exit 0 without --strict" [ "$rc" -eq 0 ]
}

test_classroom() {  # --tampered (hostile paths), --brief, --progress
  local d=$TMP/classroom
  write_allpass "$d"
  run "$d"
  check "classroom: all public tests passed, never all tests" \
    bash -c "grep -q '^All public tests passed' '$d/stdout' && ! grep -q '^All tests passed' '$d/stdout'"
  check "classroom: tampered is [] without --tampered" json_ok '.tampered == []' "$d/results.json"
  {
    printf 'tests/00-the-loop/test_naps.c\tchanged\n'
    printf 'mk/\x1b[2Jevil\xff.mk\tadded\n'
    printf 'grader/grade.sh\n'
  } >"$d/tampered"
  run "$d" --tampered "$d/tampered" --strict
  check "classroom: --strict exits 1 when tampered" [ "$rc" -eq 1 ]
  check "classroom: tampered listed in results.json" \
    json_ok '.tampered | length == 3 and .[0] == "tests/00-the-loop/test_naps.c"' "$d/results.json"
  check "classroom: table says TAMPERED" grep -q '^TAMPERED: the grader was changed (3 findings)' "$d/stdout"
  check "classroom: tampered paths reach no terminal raw" no_controls "$d/stdout"
  check "classroom: no verdict line when tampered" bash -c "! grep -q '^All' '$d/stdout'"
  run "$d" --tampered "$TMP/no-such-file" --strict
  check "classroom: a missing --tampered file means none" [ "$rc" -eq 0 ]
  write_mixed "$TMP/brief"
  run "$TMP/brief" --brief
  check "classroom: --brief shows one hint" [ "$(grep -c 'hint: ' "$TMP/brief/stdout")" = 1 ]
  rm -f "$d/results.json"
  run "$d" --progress
  check "classroom: --progress shows a done lab" grep -q '^done  *00-the-loop  *5/5$' "$d/stdout"
  check "classroom: --progress writes no files" [ ! -e "$d/results.json" ]
}

# Lab 03's longest hints: cut at 160 code points they lost their point.
LONG_HINT="fetch_all runs on the stream's slots: a slot holds one permit and runs one item at a time, \
and a new slot is made only for a permit no slot holds. Check stream_reserve, stream_take and fetch_next."

write_long() {  # long hints and messages, a huge one, one word longer than a line
  mkdir -p "$1/raw"
  {
    rec lab 03-bounded-fan-out ok ''
    rec test 03-bounded-fan-out fetch_in_flight_equals_the_limit fail 0 3 0 \
      '03-bounded-fan-out#fetch-all' "$LONG_HINT" \
      "operations in flight at once: expected 3, got 4 (the limit is 3; the fake server counted \
every operation the fan-out started while another was still running)\n  expected: start 0, start 1, \
start 2, end 0, start 3, end 1, start 4, end 2\n  observed: x" t.c 1 ''
    rec test 03-bounded-fan-out huge fail 0 1 0 '03-bounded-fan-out#fetch-all' \
      "$(printf 'x%.0s' {1..5000})" "$(yes 'many words' | head -n 20000 | tr '\n' ' ')" t.c 2 ''
  } >"$1/raw/03.rec"
}

# Screen lines wider than $1 code points (C.UTF-8: "…" is one), but the
# total's (62 columns and a remark) and the one that says where the rest
# is (its path is as long as --results's).
wider_than() { [ "$(grep -v -e '… more in ' -e '^Total ' "$2" | LC_ALL=C.UTF-8 wc -L)" -gt "$1" ]; }
widest_between() { wider_than "$1" "$3" && ! wider_than "$2" "$3"; }  # MIN MAX FILE

# The hint of test $2 as the table shows it, its screen lines joined.
shown_hint() {  # file test
  sed -n "/ $2\$/,/read: /p" "$1" | sed -n '/hint: /,/read: /p' | sed '$d' |
    sed 's/^ *\(hint: \)\?//' | paste -sd ' '
}
# The "Next:" line and the lines it wraps onto, joined.
shown_next() { sed -n '/^Next: /,/ passed, /p' "$1" | sed '$d' | grep -v '^ *read: ' | sed 's/^Next: //; s/^ *//' | paste -sd ' '; }
same() { [ "$1" = "$2" ]; }
has_hint() { jq -e --arg h "$3" ".tests[$2].hint == \$h" "$1" >/dev/null; }  # FILE INDEX HINT
line_after() { grep -A1 -m1 -- "$2" "$1" | tail -n1 | grep -q -- "$3"; }     # FILE FIRST NEXT
# Test $2's part of the table: at most $3 lines of $4, then "… more in".
cut_after() {  # file test lines text
  local part
  part=$(sed -n "/ $2\$/,/read: /p" "$1")
  [ "$(grep -c -- "$4" <<<"$part")" -le "$3" ] && grep -q "^ *… more in $TMP/.*/results.json$" <<<"$part"
}

test_wrap() {
  local d=$TMP/wrap
  write_long "$d"
  COLUMNS=80 run "$d"
  check "wrap: no line wider than COLUMNS=80" widest_between 70 80 "$d/stdout"
  check "wrap: a long hint is whole, broken only at blanks" \
    same "$(shown_hint "$d/stdout" fetch_in_flight_equals_the_limit)" "$LONG_HINT"
  check "wrap: a hint's next lines line up under its first" \
    line_after "$d/stdout" 'hint: fetch_all' '^ \{21\}[a-z]'
  check "wrap: an indented message line stays indented when it wraps" \
    line_after "$d/stdout" '^ \{15\}  expected: start 0' '^ \{17\}[a-z].*end 2$'
  check "wrap: a huge message is 8 lines at most, then where the rest is" \
    cut_after "$d/stdout" huge 8 'many words'
  check "wrap: a word longer than a line is split, 6 hint lines at most" \
    cut_after "$d/stdout" huge 6 '^ *\(hint: \)\?xxxxxxxxxx'
  check "wrap: Next: is followed by its test's read: line, under its text" \
    grep -q '^      read: ' "$d/stdout"
  check "wrap: Next: wraps, its hint whole" same "$(shown_next "$d/stdout")" \
    "03-bounded-fan-out: fetch_in_flight_equals_the_limit — $LONG_HINT"
  check "wrap: results.json keeps the whole hint" has_hint "$d/results.json" 0 "$LONG_HINT"
  run "$d"
  check "wrap: without COLUMNS or a terminal, 100 columns" widest_between 90 100 "$d/stdout"
}

# A starter's stub stopped the first failing test (grader/child.c's message).
write_stub() {
  mkdir -p "$1/raw"
  {
    rec lab 00-the-loop ok ''
    rec test 00-the-loop starts_every_nap_before_returning fail 0 2 0 '00-the-loop#async-sleep' \
      'naps_gather must start all n timers before it returns.' \
      'not implemented yet: on_wake() at labs/00-the-loop/naps.c:40 still has its TODO stub' t.c 1 ''
    rec test 00-the-loop results_follow_input_order fail 0 3 0 '00-the-loop#async-sleep' \
      'Write each result at its index.' 'not implemented yet: this is no stub' t.c 2 ''
    printf 'test\t00-the-loop\tlookalike\tfail\t0\t1\t0\t\tIts hint.\t'
    printf 'not implemented yet: \x1b[2J() at \xc2\x9b1m:1 still has its TODO stub\tt.c\t3\t\n'
  } >"$1/raw/00.rec"
}

test_stub() {
  local d=$TMP/stub
  write_stub "$d"
  COLUMNS=200 run "$d"
  check "stub: Next: names the function to write and where" grep -qxF \
    'Next: 00-the-loop: write on_wake() at labs/00-the-loop/naps.c:40 — starts_every_nap_before_returning stops at its TODO stub' \
    "$d/stdout"
  check "stub: no hint about another function" not grep -q 'naps_gather must' "$d/stdout"
  check "stub: other failures keep their hints" grep -q 'hint: Write each result at its index.' "$d/stdout"
  check "stub: results.json keeps the hint" \
    json_ok '.tests[0].hint == "naps_gather must start all n timers before it returns."' "$d/results.json"
  check "stub: a stub's odd name reaches no terminal raw" no_controls "$d/stdout"
  rc=0
  GITHUB_ACTIONS=true "$REPORT" --results "$d" >"$d/gha" 2>&1 || rc=$?
  check "stub: its annotation has no hint" not grep -q 'naps_gather must' "$d/gha"
  check "stub: other annotations keep theirs" grep -q 'hint: Write each result' "$d/gha"
}

# read: the chapter's HTML page when the book is there, else its .md.
test_read() {
  local d=$TMP/read w=$TMP/read-cwd dir
  write_stub "$d"
  mkdir -p "$w/book" "$w/build/book" "$w/build/book-student"
  : >"$w/book/page.html"
  printf 'test\t00-the-loop\todd_section\tfail\t0\t1\t0\tpage#x\t\tno\tt.c\t4\t\n' >>"$d/raw/00.rec"
  RUN_IN=$w run "$d"
  check "read: no book built: the chapter's .md" \
    grep -q '^ *read: chapters/00-the-loop.md#async-sleep$' "$d/stdout"
  for dir in build/book build/book-student book; do
    : >"$w/$dir/00-the-loop.html"
    RUN_IN=$w run "$d"
    check "read: $dir/ built: its page" grep -q "^ *read: $dir/00-the-loop.html#async-sleep$" "$d/stdout"
  done
  check "read: only NN-slug names a page" grep -q '^ *read: chapters/page.md#x$' "$d/stdout"
  rm -f "$d/results.json"
  RUN_IN=$w run "$d" --progress
  check "read: --progress points at the page too" \
    grep -q '^ *read: book/00-the-loop.html#async-sleep$' "$d/stdout"
}

test_usage() {
  local d=$TMP/empty
  mkdir -p "$d/raw"
  run "$d"
  check "empty raw: exit 2" [ "$rc" -eq 2 ]
  check "empty raw: says why" grep -q 'no .rec files' "$d/stderr"
  run "$d" --strict
  check "empty raw --strict: exit 2" [ "$rc" -eq 2 ]
  rc=0; "$REPORT" --results "$TMP/does-not-exist" >/dev/null 2>&1 || rc=$?
  check "missing dir: exit 2" [ "$rc" -eq 2 ]
  rc=0; "$REPORT" >/dev/null 2>&1 || rc=$?
  check "no arguments: exit 2" [ "$rc" -eq 2 ]
  rc=0; "$REPORT" --results "$d" --bogus >/dev/null 2>&1 || rc=$?
  check "unknown option: exit 2" [ "$rc" -eq 2 ]
  rc=0; "$REPORT" --results >/dev/null 2>&1 || rc=$?
  check "option without value: exit 2" [ "$rc" -eq 2 ]
}

test_sanitizers() {
  local d rc=0
  for d in "$TMP/mixed" "$TMP/wrap" "$TMP/stub"; do
    rc=0
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 COLUMNS=50 \
      GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$TMP/asan_summary \
      "$REPORT_ASAN" --results "$d" --strict >"$TMP/asan.out" 2>"$TMP/asan.err" || rc=$?
    check "asan+ubsan: $(basename "$d"), --strict exits 1" [ "$rc" -eq 1 ]
    check "asan+ubsan: $(basename "$d"), no reports" [ ! -s "$TMP/asan.err" ]
    if [ -s "$TMP/asan.err" ]; then head -n 40 "$TMP/asan.err"; fi
  done
  rc=0
  "$REPORT_ASAN" --results "$TMP/empty" >/dev/null 2>"$TMP/asan.err" || rc=$?
  check "asan+ubsan: empty dir exits 2" [ "$rc" -eq 2 ]
  check "asan+ubsan: empty dir, no reports" \
    bash -c "! grep -q Sanitizer '$TMP/asan.err'"
}

test_mixed
test_github
test_allpass
test_crashed
test_classroom
test_wrap
test_stub
test_read
test_usage
test_sanitizers

if ((failures)); then
  printf '%d check(s) failed\n' "$failures"
  exit 1
fi
echo "all report checks passed"
