#!/usr/bin/env bash
# perturb.sh [--mutants] — verdicts must not depend on timing.
#
# Grades the reference solutions (and with --mutants every known-wrong one,
# tests/*/mutants/*.patch) under several seeds of the helpers' perturbation
# mode (AP_PERTURB, helpers/ap.h: the loop stalls before some polls, as on a
# loaded machine) and without it, and fails when a test's verdict differs
# (pass or not) between two of those runs. Environment: LAB (one lab), SEEDS (default
# "0 1 2": 0 is unperturbed), JOBS (default 2).
# Prints one line per variant graded; ends with "N variants, M differ".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
# shellcheck source=grader/labs.sh
. grader/labs.sh
SEEDS=${SEEDS:-0 1 2}
JOBS=${JOBS:-2}
work=build/perturb

# One variant (the solution, or a mutant) graded under every seed.
# Prints "ok NAME" or "DIFFERS NAME: test: seed=status ...". Given SRC, the
# mutant's tree is graded where it is (make check's own copy: its build is
# reused), and given SEED0, the results of an unperturbed grading already
# made (results.json's folder) stand for seed 0.
grade_variant() { # lab patch|- [src [seed0]]
  local lab=$1 patch=$2 name src=${3:-} seed0=${4:-} seed out verdicts=() diff
  name=$lab/${patch##*/}
  [ "$patch" = - ] && name=$lab/solution
  if [ -n "$src" ]; then :
  elif [ "$patch" = - ]; then src=solutions
  else
    src=$work/src/$lab/$(basename "$patch" .patch)
    tools/mutant.sh "$lab" "$patch" "$src" > /dev/null 2>&1 || { echo "DIFFERS $name: does not apply"; return; }
  fi
  for seed in $SEEDS; do
    out=$work/results/$name/seed-$seed
    if [ "$seed" = 0 ] && [ -n "$seed0" ]; then
      out=$seed0
    else
      rm -rf "$out"
      AP_PERTURB=$seed SRC=$src LAB=$lab MODE=debug RESULTS=$out grader/grade.sh > /dev/null 2>&1
    fi
    # A verdict is pass or not: how a wrong solution fails (an assertion, a
    # crash) may vary with memory it corrupts, whether it fails may not.
    verdicts+=("$(jq -r --arg s "$seed" '.tests[] | "\(.test) \($s)=\(if .status == "pass" then "pass" else "lost" end)"' \
      "$out/results.json" 2> /dev/null)")
  done
  diff=$(printf '%s\n' "${verdicts[@]}" | awk 'NF == 2 { v[$1] = v[$1] " " $2; split($2, a, "=")
      if (!($1 in first)) first[$1] = a[2]; else if (first[$1] != a[2]) bad[$1] = 1 }
    END { for (t in bad) printf "%s:%s; ", t, v[t] }')
  if [ -z "$diff" ]; then echo "ok $name"; else echo "DIFFERS $name: $diff"; fi
}

if [ "${1:-}" = --one ]; then # LAB PATCH|- [SRC [SEED0]]: one variant (make check's jobs)
  grade_variant "${@:2}"
  exit 0
fi

variants() {
  local lab p
  while IFS= read -r lab; do
    printf '%s\0-\0' "$lab"
    if [ "${1:-}" = --mutants ]; then
      for p in tests/"$lab"/mutants/*.patch; do [ -e "$p" ] && printf '%s\0%s\0' "$lab" "$p"; done
    fi
  done < <(labs_named "${LAB:-}")
}

make -s --no-print-directory MODE=debug libs || exit 2
rm -rf "$work" && mkdir -p "$work"
variants "${1:-}" | xargs -0 -r -n 2 -P "$JOBS" "$0" --one > "$work/verdicts.txt"
sort "$work/verdicts.txt"
total=$(wc -l < "$work/verdicts.txt")
bad=$(grep -c '^DIFFERS' "$work/verdicts.txt")
echo "$total variants, $bad differ (seeds: $SEEDS)"
[ "$bad" -eq 0 ]
