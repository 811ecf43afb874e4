#!/usr/bin/env bash
# gradebook-one.sh [--lost] ENTRY — grades one submission for tools/gradebook.sh,
# which runs many of these at once and sets the environment:
#
#   SUBMISSIONS  the folder holding ENTRY (a folder or a .tar.gz)
#   GRADEBOOK    the output folder; labs.txt there lists the CSV's labs
#   REFERENCE    the instructor's handout manifest, to compare copies with
#   LAB, SUBMISSION_TIMEOUT, TIMEOUT_SCALE
#
# Writes GRADEBOOK/rows/ID.csv (one CSV line) and GRADEBOOK/results/ENTRY/
# (the grader's files, table.txt). Whatever the submission does, it ends
# with a row: a submission that is not a folder or a good tarball, has no
# lab folders, does not compile, crashes or hangs gets one that says so.
# --lost writes the row of an entry whose grading died without writing one
# (nothing when it has one).
#
# Names are data: the entry is graded under an internal name, ID (a hash of
# its name: work/ID/ is its copy, and the grader's build folder is named
# from that path), never one made by replacing characters; the name itself
# is only ever quoted, and written, quoted, into the row.
#
# Isolation: its own copy or unpack folder, build folder and results
# folder; its code compiled and run in the sandbox (grader/sandbox.sh,
# unless SANDBOX=0), which hides the submissions and the gradebook; a time
# limit on the whole grading (the grader already limits each test), and
# file sizes capped.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
lost=
[ "${1:-}" = --lost ] && { lost=1; shift; }
entry=$1
id=$(printf '%s' "$entry" | sha256sum | cut -c1-16)
work=$GRADEBOOK/work/$id
res=$GRADEBOOK/results/$entry
row=$GRADEBOOK/rows/$id.csv
limit=${SUBMISSION_TIMEOUT:-900}
status=ok
notes=()
tampered=0

# One CSV field: quoted, quotes doubled, one line; a leading = + - @ is
# defused so that a spreadsheet does not run a submission's name.
csv() {
  local s=${1//$'\n'/ }
  s=${s//$'\r'/ }
  case "$s" in [=+@-]*) s="'$s" ;; esac
  printf '"%s"' "${s//\"/\"\"}"
}

write_row() { # total max (lab scores come from scores[])
  local IFS=,
  {
    csv "$entry"; printf ','; csv "$status"; printf ','
    [ ${#scores[@]} -gt 0 ] && printf '%s,' "${scores[*]}"
    printf '%s,%s,%s,' "$1" "$2" "$tampered"
    local IFS='' n
    n=$(printf '%s; ' "${notes[@]}"); csv "${n%; }"; printf '\n'
  } > "$row.tmp" && mv "$row.tmp" "$row"
  local on='' off=''
  if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
    off=$'\033[0m'
    [ "$status" = ok ] && on=$'\033[32m' || on=$'\033[31m'
  fi
  printf '  %-32s %s%-10s%s %s/%s\n' "${entry//[[:cntrl:]]/?}" "$on" "$status" "$off" "$1" "$2"
}

# A row without grading: every lab 0.
give_up() { # status note
  status=$1
  notes+=("$2")
  scores=()
  while IFS= read -r _; do scores+=(0); done < "$GRADEBOOK/labs.txt"
  write_row 0 "" # nothing was graded: no maximum to show
  exit 0
}

# The folder that holds the NN-slug lab folders: the submission itself, its
# labs/ (a whole handout), or the same one folder level down (a tarball of
# a folder).
find_labs() { # dir depth
  local dir=$1 only
  if compgen -G "$dir/[0-9][0-9]-*/" > /dev/null; then
    echo "$dir"
  elif [ -d "$dir/labs" ]; then
    echo "$dir/labs"
  elif [ "$2" -lt 2 ]; then
    only=$(find "$dir" -mindepth 1 -maxdepth 1 -type d ! -name '.*' ! -name __MACOSX)
    [ -n "$only" ] && [ "$(printf '%s\n' "$only" | wc -l)" -eq 1 ] && find_labs "$only" $(($2 + 1))
  fi
}

# Tarballs: only folders and regular files (no links, devices or FIFOs),
# listed before anything is unpacked, at most UNPACK_LIMIT bytes in all
# (the listing's sizes, and a cap on what tar may write), dates reset, no
# owners or modes kept.
UNPACK_LIMIT=$((64 << 20))
check_listing() { # tarball
  local listing
  listing=$(timeout 60 tar -tvzf "$1" 2>&1) || { printf 'bad tarball: %s' "$(grep -m 1 . <<< "$listing" | cut -c1-200)"; return 1; }
  awk -v limit="$UNPACK_LIMIT" '
    substr($0, 1, 1) != "-" && substr($0, 1, 1) != "d" { bad = "holds something that is not a file or a folder: " $0; exit }
    { total += $3 }
    END { if (bad != "") { print bad; exit 1 }
          if (total > limit) { printf "unpacks to %d bytes, more than %d\n", total, limit; exit 1 } }' <<< "$listing"
}

unpack() { # sets top to where the tarball was unpacked
  local err
  top=$work/src
  mkdir -p "$top"
  err=$(check_listing "$SUBMISSIONS/$entry") || give_up invalid "$(printf '%s' "$err" | cut -c1-200)"
  if ! err=$(cd "$top" && ulimit -f $((UNPACK_LIMIT / 1024)) &&
             timeout 120 tar -xzf "$SUBMISSIONS/$entry" -m --no-same-owner \
               --no-same-permissions 2>&1); then
    give_up invalid "bad tarball: $(printf '%s\n' "$err" | grep -m 1 . | cut -c1-200)"
  fi
  chmod -R u+rwX "$top" 2> /dev/null
}

# A folder submission is graded from a copy (never in place): its regular
# files and folders, nothing it links to, at most UNPACK_LIMIT bytes.
copy_folder() { # sets top
  top=$work/src
  mkdir -p "$top"
  [ "$(du -0sb --apparent-size -- "$SUBMISSIONS/$entry" 2> /dev/null | head -z -n 1 | cut -f1 -z | tr -d '\0')" -le "$UNPACK_LIMIT" ] ||
    give_up invalid "holds more than $UNPACK_LIMIT bytes"
  (cd "$SUBMISSIONS/$entry" && find . \( -type d -o -type f \) -print0 |
     tar --null --no-recursion -T - -cf - |
     tar -C "$top" -xmf - --no-same-owner --no-same-permissions) 2> /dev/null
  chmod -R u+rwX "$top" 2> /dev/null
}

# Copies of the grader that the submission carries are ignored for grading
# but compared with the instructor's: changed or added ones are flagged.
check_copies() { # submission root
  local line
  [ -e "$1/Makefile" ] || [ -d "$1/tests" ] || [ -d "$1/grader" ] || return 0
  while IFS= read -r line; do
    case "$line" in *$'\t'missing) continue ;; esac
    tampered=$((tampered + 1))
    notes+=("tampered: ${line/$'\t'/ (})")
  done < <(tools/manifest.sh verify "$1" "$REFERENCE")
}

# Per lab: its score, and a note when it was not graded normally.
lab_scores() { # labs_dir
  local lab state
  scores=()
  while IFS= read -r lab; do
    scores+=("$(jq -r --arg l "$lab" '[.labs[] | select(.lab == $l) | .score] | first // 0' \
      "$res/results.json" 2> /dev/null || echo 0)")
    state=$(jq -r --arg l "$lab" '[.labs[] | select(.lab == $l) | .outcome] | first // ""' \
      "$res/results.json" 2> /dev/null)
    case "$state" in
      ok) ;;
      build-failed) [ -d "$1/$lab" ] && notes+=("$lab: does not compile") ||
                      notes+=("$lab: not submitted") ;;
      runner-crashed) notes+=("$lab: crashed the grader's runner") ;;
      refused) notes+=("$lab: refused (tampering), not run") ;;
      *) notes+=("$lab: not graded") ;;
    esac
    [ "$state" = ok ] || [ "$status" != ok ] || status=incomplete
  done < "$GRADEBOOK/labs.txt"
}

# Evidence the grader itself found (lab code redefining its names).
grader_findings() { # labs_dir
  local line
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    tampered=$((tampered + 1))
    line=${line//"$1/"/} # the submission's paths, not where it was graded
    notes+=("tampered: ${line/$'\t'/ (})")
  done < "$res/tampered.txt"
}

# The grader on this submission's labs, the instructor's tests, hidden ones
# included; every file it writes capped at 256 MiB.
run_grader() { # labs_dir
  ( ulimit -f 262144
    exec timeout --kill-after=10 "$limit" env -u SUBMISSIONS -u ONLY -u FIRST_FAILURE GRADEBOOK_JOB="$token" SRC="$1" LAB="${LAB:-}" \
      SANDBOX="${SANDBOX:-1}" SANDBOX_HIDE="$SUBMISSIONS"$'\n'"$GRADEBOOK" CLEAN_BUILD=always \
      MODE=debug RESULTS="$res" STRICT= NO_COLOR=1 GITHUB_ACTIONS= grader/grade.sh
  ) > "$res/table.txt" 2>&1
}

# Check puts each test in its own process group, which a time limit on the
# grader does not reach: every process that inherited this grading's token
# is killed, so nothing of this submission outlives its row.
sweep() {
  local pids
  for _ in 1 2 3 4 5; do
    pids=$(grep -lsz "^GRADEBOOK_JOB=$token\$" /proc/[0-9]*/environ | cut -d/ -f3)
    [ -n "$pids" ] || return 0
    xargs -r kill -KILL <<< "$pids" 2> /dev/null
    sleep 0.2
  done
}

[ -z "$lost" ] || [ -s "$row" ] || give_up error "its grading stopped without a result (see results/$entry/)"
[ -z "$lost" ] || exit 0
rm -rf "$work" "$res"
mkdir -p "$work" "$res" "$(dirname "$row")"
if [ -d "$SUBMISSIONS/$entry" ] && [ ! -L "$SUBMISSIONS/$entry" ]; then
  copy_folder
elif [[ "$entry" == *.tar.gz || "$entry" == *.tgz ]]; then
  unpack
else
  give_up invalid "not a folder or a .tar.gz"
fi
labs_dir=$(find_labs "$top" 0)
[ -n "$labs_dir" ] || give_up invalid "no lab folders (expected NN-slug folders, or labs/)"
case "$labs_dir" in */labs) check_copies "${labs_dir%/labs}" ;; *) check_copies "$labs_dir" ;; esac
token=$$-$RANDOM-$RANDOM
run_grader "$labs_dir"
rc=$?
sweep
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  status=timeout
  notes+=("grading took longer than ${limit} s; labs graded by then count")
  build/tools/report --results "$res" --tampered "$res/tampered.txt" > /dev/null 2>&1
elif [ ! -s "$res/results.json" ]; then
  give_up error "the grader stopped with status $rc: $(tail -n 1 "$res/table.txt")"
fi
[ -s "$res/results.json" ] || give_up "$status" "no lab was graded"
lab_scores "$labs_dir"
grader_findings "$labs_dir"
hidden=$(jq -r '[.tests[] | select(.hidden)] | "\(map(.points) | add // 0)/\(map(.max_points) | add // 0)"' "$res/results.json")
[ "$hidden" = 0/0 ] || notes+=("hidden tests: $hidden points")
write_row "$(jq -r .score "$res/results.json")" "$(jq -r .max_score "$res/results.json")"
