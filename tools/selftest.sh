#!/usr/bin/env bash
# selftest.sh — `make check`: the project's own tests.
#
# 1. the helper layer's unit tests, under ASan+UBSan;
# 2. the reporter's golden-file tests (tests/report/: every output byte for
#    byte from honest and hostile records, valid JSON/XML/TAP);
# 3. labs/ is exactly what the generator makes from solutions/ (no drift),
#    and the C sources are in .clang-format's shape (make format-check);
# 4. per lab: the solution gets full marks (plain and under ASan+UBSan), the
#    starter fails every graded test, and every mutant loses the tests its
#    patch names on its "Kills:" line, and every graded test is named by one;
#    a seeded sample of generated mutants (tools/mutate.py) is killed or
#    reviewed equivalent;
# 4b. each solution graded under several seeds of the perturbation mode gets
#    the same verdicts (a job of step 4; make check-perturb: every mutant too);
# 4c. the hostile submissions (tests/hostile) are refused or get their
#    honest score, the sandbox holds, and the gradebook's attacks (names,
#    tarballs, sabotage) fail (tools/hostile.sh, a job of step 4; alone:
#    make check-hostile);
# 5. the benchmarks run once with tiny sizes (make bench-smoke; speed is
#    judged by make bench only);
# 6. the book builds and its checks pass (when mk/book.mk exists);
# 7. the classroom tools: the handout builds and grades on its own, the
#    gradebook's CSV over good, wrong, broken and hung submissions, the CI
#    templates parse, make watch re-grades (tools/classroom-test.sh, its
#    parts jobs of step 4).
# PERTURB=mutants grades every mutant under the perturbation seeds too (make
# check-perturb's work, done on make check's trees: CI's run).
# LAB=NN limits step 4 to one lab and skips steps 4c and 7; PARTS names the
# parts to run (below). A job of step 4-6 whose inputs are unchanged since it
# last passed is replayed, not run (the cache below; CACHE=0: run it).
# Steps 2, 3's format check and 4-7 are jobs run side by side (below); the
# helper tests and the drift check, a few seconds, come first.
# Ends with "N passed, M failed"; exits 1 if anything failed.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
# make -j2 check: this script runs its jobs side by side itself; the makes
# it starts are not given make's job slots (whose descriptors it closed).
MAKEFLAGS=$(printf '%s' "${MAKEFLAGS:-}" | sed -E 's/(^| )(-j[0-9]*|--jobserver-(auth|fds)=[^ ]*)//g')
# shellcheck source=grader/labs.sh
. grader/labs.sh
passed=0
failed=0
failures=()

# PARTS: which parts run (default all of them; with LAB=NN, all but the
# hostile submissions and the classroom tools). The Makefile's tiers:
# make check-lab LAB=NN, make check-book, make check-classroom.
ALL_PARTS="helpers reporter drift format labs perturb hostile classroom book bench"
if [ -n "${PARTS:-}" ]; then :
elif [ -n "${LAB:-}" ]; then PARTS="helpers reporter drift format labs perturb book bench"
else PARTS=$ALL_PARTS; fi
part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
for p in $PARTS; do
  case " $ALL_PARTS " in *" $p "*) ;; *) echo "selftest: no part named $p (parts: $ALL_PARTS)"; exit 2 ;; esac
done

ok() { passed=$((passed + 1)); printf '  ok    %s\n' "$1"; }
not_ok() {
  failed=$((failed + 1)); failures+=("$1")
  printf '  FAIL  %s\n' "$1"
  [ -n "${2:-}" ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/        /'
  return 0
}
# Each step's wall time is kept so that the 10-minute budget of make check
# can be watched (printed at the end, slowest first).
step_name="" step_start=$SECONDS step_times=()
end_step() {
  [ -n "$step_name" ] && step_times+=("$((SECONDS - step_start))s  $step_name")
  step_name="" step_start=$SECONDS
}
step() { end_step; step_name=$1; printf '\n== %s\n' "$1"; }

# ---- verdicts kept from the last run ------------------------------------------
# A job whose inputs have not changed since it last passed is not run again:
# its output and verdicts are replayed from build/selftest/cache, keyed by a
# hash of the job (function and arguments) and of the contents of every file
# it can read. A lab's job reads the grader, the helpers, mk/, tools/, and
# the lab's and its "uses" labs' solutions, starters and tests; a job of no
# lab (the book, the benchmarks, the handouts) reads every file in the
# repository; the gradebook's and make watch's jobs read lab 00's, the
# hostile submissions' their labs' and tests/hostile. (A gradebook also
# builds a reference handout of every lab, but only the checksums of the
# files those jobs' submissions carry, lab 00's and the grader's, reach
# their verdicts; a lab that breaks the handout fails the handout's job,
# which reads every file.) A
# failed job is always run again. CACHE=0 runs everything.
CACHE=${CACHE:-1}
cache_dir=build/selftest/cache
declare -A inputs_hash=()

files_hash() { # path... : one hash of the files' names and contents
  find "$@" -type f ! -path '*/build/*' -print0 2> /dev/null | LC_ALL=C sort -z |
    xargs -0 -r sha256sum | sha256sum | cut -c1-32
}

# A job's scope names what it reads: "" every file, else words, each a lab
# (as above) or a path (a word with a slash).
lab_inputs_hash() { # scope : cached per run in inputs_hash
  local key=${1:-all} dirs=() used word
  if [ -z "${inputs_hash[$key]:-}" ]; then
    if [ -z "$1" ]; then
      mapfile -t dirs < <(git ls-files 2> /dev/null | cut -d/ -f1 | sort -u)
      [ ${#dirs[@]} -gt 0 ] || dirs=(.)
    else
      dirs=(grader helpers mk tools Makefile)
      for word in $1; do
        case $word in
          */*) dirs+=("$word"); continue ;;
        esac
        dirs+=("tests/$word" "solutions/$word" "labs/$word")
        while IFS= read -r used; do dirs+=("solutions/$used" "labs/$used"); done < <(labs_used_by "$word" solutions)
      done
    fi
    inputs_hash[$key]=$(files_hash "${dirs[@]}")
  fi
  printf '%s' "${inputs_hash[$key]}"
}

job_key() { # scope function args... (and the settings jobs read)
  { lab_inputs_hash "$1"; shift; printf '%s\0' "$@" "${PERTURB:-}" "${SEEDS:-}" "$MUTATE_SAMPLE"; } |
    sha256sum | cut -c1-32
}

# ---- jobs side by side -------------------------------------------------------
# The labs' gradings are independent: they run in the background, at most
# JOBS at once, each job's verdicts written to a file and replayed by collect
# in the order the jobs were started, so the output reads as a serial run's.
# Two more than the cores: a job waits on its sandbox, its timers, its
# children and Chromium much of the time (measured on 2 cores: a full run
# as fast with 4 as with 3, a run after one lab's change 11% faster). make's
# own -j does not change it: JOBS does.
JOBS=${JOBS:-$(($(nproc) + 2))}
job_files=()
cached_jobs=0
spawn() { # header|"" scope function args...
  local f key
  f=build/selftest/jobs/$(printf '%04d' "${#job_files[@]}")
  mkdir -p build/selftest/jobs "$cache_dir"
  job_files+=("$f")
  printf '%s' "$1" > "$f.head"
  rm -f "$f.sec" "$f.rec" "$f.out" "$f.key"
  key=$(job_key "${@:2}")
  shift 2
  if [ "$CACHE" != 0 ] && [ -f "$cache_dir/$key.sec" ]; then
    cp "$cache_dir/$key.out" "$f.out" && cp "$cache_dir/$key.rec" "$f.rec" && echo 0 > "$f.sec"
    cached_jobs=$((cached_jobs + 1))
    return
  fi
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
  (
    exec 3> "$f.rec"
    start=$SECONDS
    # shellcheck disable=SC2317 # called by the job's function
    ok() { printf 'ok\t%s\0' "$1" >&3; }
    # shellcheck disable=SC2317 # called by the job's function
    not_ok() { printf 'FAIL\t%s\0%s\0' "$1" "${2:-}" >&3; }
    "$@"
    echo "$((SECONDS - start))" > "$f.sec"
  ) > "$f.out" 2>&1 &
  echo "$key" > "$f.key"
}

# Waits for every job, then replays their output and verdicts; a header
# starts a group, shown with the seconds its jobs took in all.
collect() {
  wait
  local f group=() secs
  for f in "${job_files[@]}" ""; do
    if [ -z "$f" ] || [ -s "$f.head" ]; then
      if [ ${#group[@]} -gt 0 ]; then
        secs=$(cat "${group[@]/%/.sec}" 2> /dev/null | awk '{ s += $1 } END { print s + 0 }')
        printf '\n== %s (%ss of jobs)\n' "$(cat "${group[0]}.head")" "$secs"
        replay "${group[@]}"
      fi
      group=()
    fi
    [ -n "$f" ] && group+=("$f")
  done
  job_files=()
}

# A job run (not replayed) that reached its end and passed in full is kept
# for the next run.
keep_verdicts() { # job file
  local key
  [ -f "$1.key" ] && [ -f "$1.sec" ] && ! grep -qaz '^FAIL' "$1.rec" || return 0
  key=$(cat "$1.key")
  cp "$1.out" "$cache_dir/$key.out" && cp "$1.rec" "$cache_dir/$key.rec" && cp "$1.sec" "$cache_dir/$key.sec"
}

replay() { # job files...
  local f rec detail
  for f in "$@"; do
    cat "$f.out"
    [ -f "$f.sec" ] || not_ok "a job did not reach its end: $(cat "$f.head")" "$(tail -n 20 "$f.out")"
    keep_verdicts "$f"
    while IFS= read -r -d '' rec; do
      case $rec in
        ok$'\t'*) ok "${rec#ok$'\t'}" ;;
        FAIL$'\t'*) IFS= read -r -d '' detail; not_ok "${rec#FAIL$'\t'}" "$detail" ;;
      esac
    done < "$f.rec"
  done
}

# grade RESULTS_DIR [VAR=value...]: runs the grader quietly, keeps its table.
grade() {
  local out=$1; shift
  mkdir -p "$(dirname "$out")"
  env "$@" RESULTS="$out" grader/grade.sh > "$out.table" 2>&1
}

# Results files must stay valid and agree with themselves.
check_results_files() { # dir label
  local dir=$1 label=$2
  if ! jq -e '.version == 3 and ([.tests[].points] | add // 0) == .score
              and ([.tests[].max_points] | add // 0) == .max_score' \
        "$dir/results.json" > /dev/null 2>&1; then
    not_ok "$label: results.json is valid and its score adds up" "$(head -c 2000 "$dir/results.json" 2>&1)"
  elif ! xmllint --noout "$dir/junit.xml" 2> /dev/null; then
    not_ok "$label: junit.xml is well-formed" "$(xmllint --noout "$dir/junit.xml" 2>&1 | head)"
  elif ! grep -q '^1\.\.[0-9]' "$dir/results.tap"; then
    not_ok "$label: results.tap has a plan"
  else
    ok "$label: results.json, junit.xml and results.tap are valid"
  fi
}

full_marks() { # dir label
  if jq -e '.score == .max_score and .max_score > 0 and .status == "pass"' "$1/results.json" > /dev/null 2>&1; then
    ok "$2: full marks ($(jq -r '"\(.score)/\(.max_score)"' "$1/results.json"))"
  else
    not_ok "$2: full marks" "$(cat "$1.table")"
  fi
}

helper_tests() {
  step "helper layer unit tests (ASan+UBSan)"
  local out=build/selftest/helpers mode=asan bin=build/asan/helpers-tests
  rm -rf "$out" && mkdir -p "$out/raw"
  if ! make -s --no-print-directory MODE=$mode libs > "$out/build.log" 2>&1 ||
     ! grader/stage.sh - helpers "$bin/stage" >> "$out/build.log" 2>&1 ||
     ! make -s --no-print-directory -f mk/lab.mk MODE=$mode STAGE="$bin/stage" \
       TEST_DIR=tests/helpers OUT="$bin" runner >> "$out/build.log" 2>&1; then
    not_ok "helper tests build" "$(cat "$out/build.log")"
    return
  fi
  CK_TIMEOUT_MULTIPLIER=3 "$bin/harness" --tests "$bin/tests" --out "$out" > "$out/raw/helpers.rec" &&
    build/tools/report --results "$out" --strict > "$out.table" 2>&1
  full_marks "$out" "helper layer"
}

reporter_tests() {
  [ -f grader/report_test.sh ] || return 0
  if out=$(bash grader/report_test.sh 2>&1); then ok "grader/report_test.sh"; else not_ok "grader/report_test.sh" "$out"; fi
}

drift_check() {
  step "starter code is generated from the solutions"
  local gen=build/selftest/gen-labs out
  if ! out=$(tools/mkstarter.sh solutions "$gen" 2>&1); then
    not_ok "generator accepts every marker in solutions/" "$out"
  elif ! out=$(diff -ru "$gen" labs 2>&1); then
    not_ok "labs/ matches the generator's output (run: make starters)" "$out"
  else
    ok "labs/ matches the generator's output"
  fi
}

format_check() {
  local out
  if out=$(make -s --no-print-directory format-check 2>&1); then
    ok "make format-check"
  else
    not_ok "make format-check" "$out"
  fi
  if out=$(tools/shellcheck.sh 2>&1); then
    ok "make shellcheck: $(tail -n 1 <<< "$out")"
  else
    not_ok "make shellcheck" "$out"
  fi
}

grade_solution() { # lab mode
  local out=build/selftest/$1/solution-$2
  rm -rf "$out"
  grade "$out" SRC=solutions LAB="$1" MODE="$2"
  full_marks "$out" "$1 solution ($2)"
  [ "$2" = debug ] && check_results_files "$out" "$1 solution"
}

grade_starter() { # lab
  local out=build/selftest/$1/starter passing
  rm -rf "$out"
  grade "$out" SRC=labs LAB="$1"
  check_results_files "$out" "$1 starter"
  passing=$(jq -r '[.tests[] | select(.status == "pass") | .test] | join(" ")' "$out/results.json" 2>/dev/null)
  if [ -z "$passing" ] && jq -e '.tests | length > 0' "$out/results.json" > /dev/null 2>&1; then
    ok "$1 starter: every graded test fails"
  else
    not_ok "$1 starter: every graded test fails (passing: $passing)" "$(cat "$out.table")"
  fi
  # Its first test stops at a stub: the reporter reads the grader's message
  # (grader/child.c) and says which function to write, not the test's hint.
  if tr -s ' \n' ' ' < "$out.table" | grep "Next: $1: write [A-Za-z_0-9]*() at labs/[^ ]*:[0-9]* — " > /dev/null; then
    ok "$1 starter: Next: names the stub to write"
  else
    not_ok "$1 starter: Next: names the stub to write" "$(grep -A3 '^Next: ' "$out.table")"
  fi
}

# A mutant is graded in the grading mode (debug, what make grade uses: a
# student's grade is what must reject it), unless its "Mode:" line says asan,
# for one only the sanitizers catch; on the tests its "Kills:" line names
# (grade.sh ONLY), which are all its verdict needs, or on every test when
# its verdicts are compared under perturbation (PERTURB=mutants).
grade_mutant() { # lab patch
  local lab=$1 patch=$2 name kills mode dir out survived
  name=$(basename "$patch" .patch)
  kills=$(sed -n 's/^Kills: *//p' "$patch")
  mode=$(sed -n 's/^Mode: *//p' "$patch")
  dir=build/selftest/$lab/mutant-$name
  out=$dir/results
  rm -rf "$dir" && mkdir -p "$dir"
  if [ -z "$kills" ] || ! tools/mutant.sh "$lab" "$patch" "$dir/src" > "$dir/patch.log" 2>&1; then
    not_ok "$lab mutant $name: applies and names its target tests" "$(cat "$dir/patch.log")"
    return
  fi
  grade "$out" SRC="$dir/src" LAB="$lab" MODE="${mode:-debug}" \
    ONLY="$([ "${PERTURB:-}" = mutants ] || echo "$kills")"
  survived=""
  for t in $kills; do
    jq -e --arg t "$t" '.tests[] | select(.test == $t and .status != "pass")' "$out/results.json" \
      > /dev/null 2>&1 || survived="$survived $t"
  done
  if [ -z "$survived" ]; then
    ok "$lab mutant $name: loses $(echo "$kills" | wc -w) targeted test(s) (${mode:-debug})"
  else
    not_ok "$lab mutant $name survived:$survived" "$(cat "$out.table")"
  fi
  check_results_files "$out" "$lab mutant $name"
  mutant_hint "$lab" "$patch" "$out/results.json"
  [ "${PERTURB:-}" = mutants ] || return 0
  # make check-perturb's work for this mutant, on the tree just graded.
  local verdicts
  verdicts=$(tools/perturb.sh --one "$lab" "$patch" "$dir/src" "$([ "${mode:-debug}" = debug ] && echo "$out")" 2>&1)
  case $verdicts in
    "ok "*) ok "$lab mutant $name: the same verdicts under every perturbation seed (${SEEDS:-0 1 2})" ;;
    *) not_ok "$lab mutant $name: the same verdicts under every perturbation seed" "$verdicts" ;;
  esac
}

# A patch's "Hint:" line is a phrase the hint of each targeted test it fails
# (by an assertion or a crash) must carry: the hint shown is about the failure shown
# (grade_hint, grader/grade.h), not about another check of the same test.
mutant_hint() { # lab patch results.json
  local lab=$1 patch=$2 json=$3 hint name off
  hint=$(sed -n 's/^Hint: *//p' "$patch")
  [ -n "$hint" ] || return 0
  name=$(basename "$patch" .patch)
  off=$(jq -r --arg h "$hint" --arg k "$(sed -n 's/^Kills: *//p' "$patch")" \
    '.tests[] | select(.test as $t | ($k | split(" ") | index($t)) and .status != "pass"
      and (.hint | contains($h) | not)) | "\(.test): \(.hint)"' "$json" 2>&1)
  if [ -z "$off" ] && [ -s "$json" ]; then
    ok "$lab mutant $name: its failures' hints say \"$hint\""
  else
    not_ok "$lab mutant $name: its failures' hints say \"$hint\"" "$off"
  fi
}

# Every graded test rejects at least one known-wrong solution: it is named on
# the "Kills:" line of a mutant (whether that mutant loses it is checked above).
mutant_coverage() { # lab
  local lab=$1 tests kills missing
  tests=$(tools/clauses.sh "$lab" --tests 2> /dev/null | cut -f1 | sort -u)
  kills=$(sed -n 's/^Kills: *//p' tests/"$lab"/mutants/*.patch 2> /dev/null | tr ' ' '\n' | sort -u)
  missing=$(comm -23 <(echo "$tests") <(echo "$kills") | tr '\n' ' ')
  if [ -z "$tests" ]; then
    not_ok "$lab: every graded test has a mutant" "tools/clauses.sh $lab --tests lists no test"
  elif [ -n "${missing// /}" ]; then
    not_ok "$lab: every graded test has a mutant (none for: $missing)"
  else
    ok "$lab: every graded test has a mutant ($(echo "$tests" | wc -l) tests)"
  fi
}

# The lab's contract: every clause of its headers has a graded test, and
# every test names clauses that exist (tools/clauses.sh). A lab whose headers
# number no clause yet is listed, not failed.
clause_coverage() { # lab
  local lab=$1 out
  if ! grep -qs '^ *\*  *\(- *\)\{0,1\}\[[a-z][a-z0-9_]*\.[0-9]' solutions/"$lab"/*.h; then
    printf '  note  %s: its headers number no contract clause yet\n' "$lab"
  elif out=$(tools/clauses.sh "$lab" --table 2>&1); then
    ok "$lab: every contract clause has a test"
    printf '%s\n' "$out"
  else
    not_ok "$lab: every contract clause has a test, every test names a clause" "$out"
  fi
}

# A fixed, seeded sample of the mutants tools/mutate.py generates (make
# mutate grades them all), each graded up to its first failing test
# (FIRST_FAILURE=1): each compiling one is killed or listed reviewed-
# equivalent in tests/LAB/mutants/equivalent.txt. A lab without that file
# has not been reviewed yet: its sampled survivors are a note, not a failure.
MUTATE_SAMPLE=${MUTATE_SAMPLE:-6}
mutation_sample() { # lab
  local lab=$1 log=build/selftest/$1/mutate.log
  if ! /usr/bin/python3 -c 'import clang.cindex' > /dev/null 2>&1; then
    not_ok "$lab mutation sample" "python3-clang-14 is missing (make deps-dev)"
  elif FIRST_FAILURE=1 /usr/bin/python3 tools/mutate.py "$lab" --sample "$MUTATE_SAMPLE" --seed selftest --strict \
       --jobs 1 --out build/selftest/mutate > "$log" 2>&1; then
    ok "$lab mutation sample: $MUTATE_SAMPLE generated mutants, none survives unreviewed"
  elif [ ! -f "tests/$lab/mutants/equivalent.txt" ]; then
    # Not reviewed yet (no equivalent.txt): its survivors are shown, and
    # the gate closes once the lab's survivors have been worked through.
    printf '  note  %s mutation sample: survivors not reviewed yet (make mutate LAB=%s)\n' "$lab" "${lab%%-*}"
    grep -v '^  \[' "$log" | grep -i 'surviv' | head -n 5 | sed 's/^/        /'
  else
    not_ok "$lab mutation sample (make mutate LAB=${lab%%-*} SAMPLE=$MUTATE_SAMPLE SEED=selftest)" "$(grep -v '^  \[' "$log")"
  fi
}

lab_tests() {
  local lab patch labs=() group title scope parts
  part labs && mapfile -t labs < <(labs_named "${LAB:-}")
  [ ${#labs[@]} -gt 0 ] || part book || part bench || part classroom || part hostile ||
    part reporter || part format || return 0
  step "jobs, $JOBS at once: the labs (solutions, starters, mutants, mutation samples, perturbed runs), the book, the classroom tools, the hostile submissions, the reporter, the sources' form, the benchmarks"
  # The longest jobs first, so that they overlap the labs' many short ones.
  part book && spawn "the book" "" book_tests
  part reporter && spawn "reporter (golden files: hostile input, valid files)" "tests/report/" reporter_tests
  part format && spawn "the C sources are clang-formatted, the shell scripts shellcheck-clean" "" format_check
  if part classroom; then
    rm -rf "$CT" && mkdir -p "$CT"
    for group in "${CLASSROOM_GROUPS[@]}"; do
      IFS='|' read -r title scope parts <<< "$group"
      # shellcheck disable=SC2086 # the parts' names, one word each
      spawn "$title" "$scope" classroom_job $parts
    done
  fi
  part hostile && spawn "hostile submissions (tests/hostile)" "$(hostile_scope)" hostile_tests
  part bench && spawn "benchmarks: smoke run (make bench-smoke)" "" bench_smoke
  for lab in "${labs[@]}"; do
    spawn "lab $lab" "$lab" clause_coverage "$lab"
    spawn "" "$lab" grade_solution "$lab" debug
    spawn "" "$lab" grade_solution "$lab" asan
    spawn "" "$lab" grade_starter "$lab"
    for patch in tests/"$lab"/mutants/*.patch; do
      [ -e "$patch" ] && spawn "" "$lab" grade_mutant "$lab" "$patch"
    done
    spawn "" "$lab" mutation_sample "$lab"
    part perturb && spawn "" "$lab" perturb_solution "$lab"
  done
  collect
  [ "$cached_jobs" -eq 0 ] || printf '\n  (%d jobs whose inputs had not changed since they passed: replayed, not run; CACHE=0 runs them)\n' "$cached_jobs"
  [ ${#labs[@]} -gt 0 ] || return 0
  step "every graded test has a mutant"
  for lab in "${labs[@]}"; do mutant_coverage "$lab"; done
}

# The solution's verdicts do not move with the perturbation mode's seeds
# (tools/perturb.sh; make check-perturb does the same for every mutant).
perturb_solution() { # lab
  local out
  out=$(tools/perturb.sh --one "$1" - 2>&1)
  case $out in
    "ok "*) ok "$1 solution: the same verdicts under every perturbation seed (${SEEDS:-0 1 2})" ;;
    *) not_ok "$1 solution: the same verdicts under every perturbation seed" "$out" ;;
  esac
}

# Submissions that attack the grader get their honest score or are refused
# (tests/hostile/README.md).
hostile_tests() {
  local line
  while IFS= read -r line; do
    case "$line" in
      "  ok "*) ok "${line#  ok    }" ;;
      "  FAIL "*) not_ok "${line#  FAIL  }" ;;
      *) printf '%s\n' "$line" ;; # a failure's details, a skipped part
    esac
  done < <(tools/hostile.sh 2>&1)
}

# What the hostile submissions read: their labs (the EXPECT files' first
# words) and tests/hostile.
hostile_scope() {
  { cut -d' ' -f1 tests/hostile/*/EXPECT | LC_ALL=C sort -u; echo tests/hostile/; } | tr '\n' ' '
}

book_tests() {
  [ -f mk/book.mk ] || return 0
  local log=build/selftest/book.log
  if make -s --no-print-directory -j2 book-check > "$log" 2>&1; then ok "make book-check"; else not_ok "make book-check" "$(tail -n 40 "$log")"; fi
}

# The classroom tools (tools/classroom-test.sh), its parts as jobs.
# shellcheck source=tools/classroom-test.sh
source tools/classroom-test.sh
classroom_job() { # part...
  local p
  for p in "$@"; do "$p"; done
}

# The benchmarks once, with tiny sizes: they build, run, and write their
# files. Speed is never judged here (make bench does that).
bench_smoke() {
  [ -f mk/bench.mk ] || return 0
  local log=build/selftest/bench-smoke.log
  if make -s --no-print-directory bench-smoke > "$log" 2>&1 && [ -s build/bench-smoke/summary.md ]; then
    ok "make bench-smoke"
  else
    not_ok "make bench-smoke" "$(tail -n 40 "$log")"
  fi
}

mkdir -p build/selftest
for mode in debug asan; do
  make -s --no-print-directory MODE=$mode libs || { echo "selftest: the libraries do not build ($mode)"; exit 1; }
done
part helpers && helper_tests
part drift && drift_check
lab_tests

end_step
printf '\n== time per step (slowest first), %ds in all\n' "$SECONDS"
printf '%s\n' "${step_times[@]}" | sort -rn | sed 's/^/  /'
printf '\n'
for f in "${failures[@]}"; do printf 'failed: %s\n' "$f"; done
printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
