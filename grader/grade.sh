#!/usr/bin/env bash
# grade.sh — builds and grades labs, then hands the records to the reporter.
#
# Environment (set by the Makefile): SRC (folder laid out like labs/), LAB
# (a number like 00, or a full name; empty: every lab), MODE (debug|asan),
# RESULTS (output folder), STRICT (1: exit 1 below full marks),
# TIMEOUT_SCALE (multiplies each test's timeout), REPORT_VIEW (--brief for
# make watch), SANDBOX and SANDBOX_HIDE (grader/sandbox.sh), CLEAN_BUILD
# (before: the tree's build folder is removed first, a cold build; always:
# removed after too, as the gradebook does). For make check's mutants only:
# ONLY (test ids, blanks between) runs just those tests, FIRST_FAILURE=1
# none after the first that does not pass; a lab so graded says so.
# With --demo [ARG...], builds and runs the demo of LAB instead (with ARGs).
#
# The set of labs comes from tests/: a lab missing from SRC is graded as a
# lab that did not build, so a broken submission still gets every row.
#
# Per lab: its files are staged (grader/stage.sh: names checked, the
# course's headers), the harness is built from the tests alone, the lab's
# objects are compiled and checked (grader/objcheck.sh) before the test
# program is linked, and the harness runs the tests; its record (stdout)
# is stored here as $RESULTS/raw/<lab>.rec.
#
# Tamper evidence, in $RESULTS/tampered.txt for the reporter: in a handout
# (MANIFEST.sha256 present), grader files that differ from the manifest; in
# any tree, a submitted header that differs from the course's, lab code
# that objcheck.sh refuses (that lab is not run), and lab code that defines
# a name the grader or its libraries use.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
# shellcheck source=grader/labs.sh
. grader/labs.sh
SRC=${SRC:-labs}
LAB=${LAB:-}
MODE=${MODE:-debug}
RESULTS=${RESULTS:-build/results}
STRICT=${STRICT:-}

die() { echo "grade: $*" >&2; exit 2; }

ONLY=${ONLY:-}
[[ $ONLY =~ ^[a-z0-9_\ ]*$ ]] || die "ONLY names tests: lowercase letters, digits and _, blanks between"
read -ra only_ids <<< "$ONLY"
only_list=$(IFS=,; printf '%s' "${only_ids[*]}")
harness_filter=(${only_list:+--only "$only_list"})
[ -z "${FIRST_FAILURE:-}" ] || harness_filter+=(--first-failure)

[ -d "$SRC" ] || die "SRC=$SRC is not a folder (expected a folder laid out like labs/)"
src_abs=$(cd "$SRC" && pwd)
# The build folder of this tree: its last folder's name, letters, digits,
# _ . - only, then a hash of its path, so that two trees never share one and
# no name reaches make or a shell.
tag=$(printf '%s' "${src_abs##*/}" | tr -c 'A-Za-z0-9_.-' '_' | cut -c1-32)-$(printf '%s' "$src_abs" |
  sha256sum | cut -c1-12)

if [ -n "${TIMEOUT_SCALE:-}" ]; then
  export CK_TIMEOUT_MULTIPLIER=$TIMEOUT_SCALE
elif [ "$MODE" = asan ]; then
  export CK_TIMEOUT_MULTIPLIER=3
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# Labs known to the project, optionally narrowed by LAB.
select_labs() { labs_named "$LAB"; }

# make on the lab's staged copy; the student's names reach make only
# checked (stage.sh), SRC only through the environment. The tests' side
# (their objects, the harness) is built in tests_out, shared by every tree.
lab_make_command() { # lab target...: the command, each word ended by a NUL
  printf '%s\0' env "GRADE_SRC=$SRC" make -s --no-print-directory -f mk/lab.mk MODE="$MODE" \
    STAGE="build/$MODE/labs/$tag/$1/stage" TEST_DIR="tests/$1" OUT="build/$MODE/labs/$tag/$1" \
    TESTS_OUT="$(tests_out "$1")" TEST_STAGE="$(tests_out "$1")/stage" "${@:2}"
}

lab_make() { # lab target...
  local cmd
  mapfile -d '' -t cmd < <(lab_make_command "$@")
  "${cmd[@]}"
}

# The tests' objects and harness of a lab: made from tests/ and the course's
# headers only, so built once per lab and mode whatever tree is graded (a
# gradebook, make check's mutants), one grading at a time (flock).
tests_out() { echo "build/$MODE/tests/$1"; }

build_tests_side() { # lab
  local dir
  dir=$(tests_out "$1")
  mkdir -p "$dir"
  (
    flock 9 || exit 1
    grader/stage.sh - "$1" "$dir/stage" > /dev/null && lab_make "$1" test-objects harness grader-syms
  ) 9> "$dir.lock"
}

# The lab's own code compiled in the sandbox (grader/sandbox.sh): it sees
# mk/ and its build folder, writes its objects' folders only.
lab_compile() { # lab out
  local cmd
  mapfile -d '' -t cmd < <(lab_make_command "$1" lab-objects)
  mkdir -p "$2/lab" "$2/uses"
  sandboxed compile "$2" "$root/$2/lab" "$root/$2/uses" -- timeout --kill-after=10 300 "${cmd[@]}"
}

escape() { sed -e 's/\\/\\\\/g' -e 's/\t/\\t/g' | awk 'BEGIN{ORS="\\n"} {print}'; }

# Global names the lab's objects define that the grader's side also has:
# what the grader's and helpers' archives define or call and what the test
# objects define (the lab is linked before the archives, so its copy would
# win), and whatever the test program exports to shared libraries (a lab's
# write would serve libuv's).
check_symbols() { # lab out
  local lab=$1 out=$2 sources=() c
  [ -d "$out/lab" ] || return 0
  for c in "$out"/stage/lab/*.c; do [ -f "$c" ] && c=${c##*/} && sources+=("${c%.c}"); done
  { nm -D --defined-only "$out/tests" 2> /dev/null | awk 'NF >= 2 { print $NF }'
    cat "$(tests_out "$lab")/grader.syms"
  } > "$out/grader.syms"
  nm -A -g --defined-only "$out"/lab/*.o 2> /dev/null |
    SHOWN=$(escaped "$SRC")/$lab STAGED=" ${sources[*]} " awk -v syms="$out/grader.syms" '
      BEGIN { while ((getline line < syms) > 0) grader[line] = 1 }
      NF == 3 { obj = $1; sub(/:[0-9a-f]*$/, "", obj); sub(/.*\//, "", obj); sub(/\.o$/, "", obj)
        if (obj != "demo" && index(ENVIRON["STAGED"], " " obj " ") && ($3 in grader))
          printf "%s/%s.c\tdefines %s, a name the grader uses\n", ENVIRON["SHOWN"], obj, $3 }' \
    >> "$RESULTS/tampered.txt"
}

escaped() { printf '%s' "$1" | escape | sed 's/\\n$//'; }

# In a handout: the grader's files against the manifest it shipped with.
check_manifest() {
  : > "$RESULTS/tampered.txt"
  [ -f MANIFEST.sha256 ] || return 0
  tools/manifest.sh verify . MANIFEST.sha256 >> "$RESULTS/tampered.txt" ||
    printf 'MANIFEST.sha256\tunreadable\n' >> "$RESULTS/tampered.txt"
}

# The harness itself failed (it should not): keep a row for the lab.
record_crash() { # lab message
  printf 'lab\t%s\trunner-crashed\t%s\n' "$1" "$(printf '%s' "$2" | escape)" \
    > "$RESULTS/raw/$1.rec"
}

# Stages the lab: tampering to tampered.txt, skipped files to the note (the
# lab's line in the table). Fails when the lab cannot be built.
stage() { # lab log
  local kind path what findings
  findings=$(grader/stage.sh "$SRC" "$1" "build/$MODE/labs/$tag/$1/stage" 2>> "$2") || return 1
  while IFS=$'\t' read -r kind path what; do
    case "$kind" in
      tampered) printf '%s\t%s\n' "$path" "$what" >> "$RESULTS/tampered.txt" ;;
      skipped) note+="${note:+; }skipped $path: $what" ;;
    esac
  done <<< "$findings"
}

# The compiler's messages name the staged copies: the student's names instead.
unstage_log() { # lab log
  local stage="build/$MODE/labs/$tag/$1/stage" text
  text=$(cat "$2")
  text=${text//"$stage/lab/"/"$SRC/$1/"}
  text=${text//"$stage/uses/"/"$SRC/"}
  printf '%s\n' "${text//"$stage/inc/"/}" > "$2"
}

# The lab's code as built, refused (not run) or linked; the reason in log.
build_tests() { # lab out log
  local refused
  lab_compile "$1" "$2" >> "$3" 2>&1 || { unstage_log "$1" "$3"; return 1; }
  if ! refused=$(GRADE_SRC=$SRC grader/objcheck.sh "$2" "$2/stage" "$1" "$MODE"); then
    printf '%s\n' "$refused" >> "$RESULTS/tampered.txt"
    printf '%s\n' "$refused" | sed 's/\t/ /' > "$3"
    return 2
  fi
  lab_make "$1" tests >> "$3" 2>&1 || { unstage_log "$1" "$3"; return 1; }
  check_symbols "$1" "$2"
}

grade_lab() {
  local lab=$1 out="build/$MODE/labs/$tag/$1" log="$RESULTS/build/$1.log" status note="" staged=0
  [ -z "$only_list" ] || note="graded only: ${only_ids[*]}"
  [ -z "${FIRST_FAILURE:-}" ] || note+="${note:+; }graded up to its first failure"
  : > "$log"
  stage "$lab" "$log" || staged=$? # the tests' headers are staged even so
  if ! build_tests_side "$lab" >> "$log" 2>&1; then
    record_crash "$lab" "the lab's tests did not compile: $(head -c 4000 "$log")"
    return 0
  fi
  mkdir -p "$out" && cp -f "$(tests_out "$lab")/harness" "$out/harness" # run in the sandbox, which sees $out
  if [ $staged -eq 0 ] && build_tests "$lab" "$out" "$log"; then
    mkdir -p "$RESULTS/output/$lab"
    sandboxed run "$out" "$results_abs/output/$lab" -- timeout --kill-after=10 900 \
      "$out/harness" --tests "$out/tests" --out "$results_abs" ${note:+--note "$note"} "${harness_filter[@]}" \
      > "$RESULTS/raw/$lab.rec"
    status=$?
    [ $status -eq 0 ] && [ -s "$RESULTS/raw/$lab.rec" ] && return 0
    record_crash "$lab" "the grader's harness stopped with status $status before writing results"
  elif [ $? -eq 2 ]; then
    "$out/harness" --not-run refused "$log" > "$RESULTS/raw/$lab.rec"
  else
    "$out/harness" --not-run build-failed "$log" > "$RESULTS/raw/$lab.rec"
  fi
}

# One build or grading of a tree at a time: they share its build folder
# (make watch and make grade, a demo and a grading of make check). A
# read-only descriptor: the lab's processes inherit nothing they could write.
lock_tree() {
  mkdir -p "build/$MODE/labs" && : >> "build/$MODE/labs/$tag.lock" &&
    exec 8< "build/$MODE/labs/$tag.lock" && flock 8 || die "cannot lock build/$MODE/labs/$tag.lock"
}

run_demo() { # demo's arguments...
  local labs
  labs=$(select_labs)
  [ -n "$LAB" ] && [ "$(echo "$labs" | wc -w)" -eq 1 ] ||
    die "make run needs one lab: make run LAB=00 (labs: $(select_labs | tr '\n' ' '))"
  lock_tree # while it builds: a demo may run for long (a server), gradings go on
  grader/stage.sh "$SRC" "$labs" "build/$MODE/labs/$tag/$labs/stage" > /dev/null &&
    lab_make "$labs" demo || die "the demo of $labs did not compile (see above)"
  exec 8<&-
  echo "== demo of $SRC/$labs =="
  exec "build/$MODE/labs/$tag/$labs/demo" "$@"
}

if [ "${1:-}" = --demo ]; then
  [ -n "$LAB" ] || die "make run needs one lab: make run LAB=00"
  run_demo "${@:2}"
fi

labs=$(select_labs)
[ -n "$labs" ] || die "no lab matches LAB=$LAB (labs: $(labs_all | tr '\n' ' '))"
# shellcheck source=grader/sandbox.sh
. grader/sandbox.sh
sandbox_setup || exit 2
[ "$sandbox_on" = 1 ] || [ "${SANDBOX:-auto}" = 0 ] ||
  echo "grade: graded without a sandbox (bubblewrap cannot run here; see README, Grading)" >&2
lock_tree
rm -rf "$RESULTS/raw" "$RESULTS/output"
[ -z "${CLEAN_BUILD:-}" ] || rm -rf "build/$MODE/labs/$tag"
mkdir -p "$RESULTS/raw" "$RESULTS/build"
results_abs=$(cd "$RESULTS" && pwd)
check_manifest
for lab in $labs; do
  grade_lab "$lab"
done
echo "$src_abs" > "$RESULTS/source.txt" # which tree raw/ graded (make progress)
# A student's make grade (the default RESULTS) keeps each lab's record for
# make progress, which then re-grades only labs changed since.
if [ "$RESULTS" = build/results ]; then
  store=$(progress_store "$src_abs")/raw
  mkdir -p "$store" && for lab in $labs; do cp -p "$RESULTS/raw/$lab.rec" "$store/" 2> /dev/null; done
fi
[ "${CLEAN_BUILD:-}" != always ] || rm -rf "build/$MODE/labs/$tag" "build/$MODE/labs/$tag.lock"
build/tools/report --results "$RESULTS" ${STRICT:+--strict} --title "Grading $SRC/" \
  --tampered "$RESULTS/tampered.txt" ${REPORT_VIEW:+"$REPORT_VIEW"}
