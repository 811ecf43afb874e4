#!/usr/bin/env bash
# gradebook.sh — grades a folder of submissions (make gradebook).
#
# Environment (set by the Makefile):
#   SUBMISSIONS  a folder with one entry per submission: a folder laid out
#                like labs/ (or a whole handout, or either one level down)
#                or a .tar.gz of one; the entry's name names the row
#   SHARD=k/n    grade only the k-th of n slices (entries in byte order by
#                name, dealt round-robin), to spread the work over machines
#   GRADEBOOK    output folder (default build/gradebook)
#   JOBS         submissions graded at once (default: the number of cores)
#   LAB          grade only that lab (a number or NN-slug)
#   SUBMISSION_TIMEOUT  seconds for one submission (default 900)
#   TIMEOUT_SCALE       multiplies each test's timeout
#
# Writes GRADEBOOK/gradebook.csv — submission, status, one column per lab,
# total, max, tampered (findings), notes — and GRADEBOOK/results/<entry>/
# with the grader's files for each submission. Status is ok, incomplete (a
# lab missing, not compiling or crashing the runner), timeout, invalid (not
# a submission) or error (the grader failed). Hidden tests are included; the
# instructor's tests and grader are used whatever the submission carries.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
# shellcheck source=grader/labs.sh
. grader/labs.sh
SUBMISSIONS=${SUBMISSIONS:-}
SHARD=${SHARD:-1/1}
GRADEBOOK=${GRADEBOOK:-build/gradebook}
JOBS=${JOBS:-$(nproc 2> /dev/null || echo 2)}
LAB=${LAB:-}

die() { echo "gradebook: $*" >&2; exit 2; }

# Only an earlier gradebook (or nothing) is ever deleted to make room.
replaceable() { # dir
  [ ! -e "$1" ] || [ -f "$1/shard.txt" ] || [ -z "$(ls -A "$1" 2> /dev/null)" ]
}

[ -n "$SUBMISSIONS" ] || die "usage: make gradebook SUBMISSIONS=dir [SHARD=k/n] [LAB=NN]"
[ -d "$SUBMISSIONS" ] || die "SUBMISSIONS=$SUBMISSIONS is not a folder"
[[ "$SHARD" =~ ^([0-9]+)/([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -ge 1 ] &&
  [ "${BASH_REMATCH[1]}" -le "${BASH_REMATCH[2]}" ] ||
  die "SHARD=$SHARD: expected k/n with 1 <= k <= n"
shard_k=${BASH_REMATCH[1]}
shard_n=${BASH_REMATCH[2]}
[ -d solutions ] || die "the gradebook needs the full repository (solutions/, hidden tests)"
# Every submission's code runs in the sandbox (grader/sandbox.sh), unless
# the instructor says SANDBOX=0.
if [ "${SANDBOX:-1}" != 0 ]; then
  (. grader/sandbox.sh && SANDBOX=1 sandbox_setup) || die "refusing to grade strangers' code without the sandbox"
fi
command -v jq > /dev/null || die "needs jq: sudo apt-get install -y jq"

# The labs of the CSV, as the grader will see them.
list_labs() { labs_named "$LAB"; }

# This shard's entries, NUL-separated; hidden files are not submissions.
shard_entries() {
  find "$SUBMISSIONS" -mindepth 1 -maxdepth 1 ! -name '.*' -printf '%f\0' | LC_ALL=C sort -z |
    awk -v RS='\0' -v ORS='\0' -v k="$shard_k" -v n="$shard_n" '(NR - 1) % n == k - 1'
}

header() {
  printf '"submission","status"'
  local lab
  while IFS= read -r lab; do printf ',"%s"' "$lab"; done < "$GRADEBOOK/labs.txt"
  printf ',"total","max","tampered","notes"\n'
}

# The CSV: the header, then the rows in byte order (a row starts with its
# quoted name). An entry whose grading died without a row still gets one.
assemble() {
  local entry
  while IFS= read -r -d '' entry; do
    SUBMISSIONS=$SUBMISSIONS GRADEBOOK=$GRADEBOOK tools/gradebook-one.sh --lost "$entry"
  done < <(shard_entries)
  { header; cat "$GRADEBOOK"/rows/*.csv 2> /dev/null | LC_ALL=C sort; } > "$GRADEBOOK/gradebook.csv.tmp"
  mv "$GRADEBOOK/gradebook.csv.tmp" "$GRADEBOOK/gradebook.csv"
}

SUBMISSIONS=$(cd "$SUBMISSIONS" && pwd)
replaceable "$GRADEBOOK" || die "GRADEBOOK=$GRADEBOOK holds files that are not a gradebook's; not replacing it"
rm -rf "$GRADEBOOK"
mkdir -p "$GRADEBOOK/rows" "$GRADEBOOK/results" "$GRADEBOOK/work"
GRADEBOOK=$(cd "$GRADEBOOK" && pwd)
list_labs > "$GRADEBOOK/labs.txt"
[ -s "$GRADEBOOK/labs.txt" ] || die "no lab matches LAB=$LAB"
echo "$SHARD" > "$GRADEBOOK/shard.txt"
make -s --no-print-directory MODE=debug libs || die "the grader's libraries do not build"
# What a handout ships, to compare the copies a submission carries with.
MANIFEST_ONLY=1 tools/handout.sh "$GRADEBOOK/work/.reference" > /dev/null || die "cannot build the reference handout"
export SUBMISSIONS GRADEBOOK LAB SUBMISSION_TIMEOUT TIMEOUT_SCALE
export REFERENCE=$GRADEBOOK/work/.reference/MANIFEST.sha256
count=$(shard_entries | tr -cd '\0' | wc -c)
echo "gradebook: $count submission(s) in slice $SHARD of $SUBMISSIONS, $JOBS at a time"
shard_entries | xargs -0 -r -n 1 -P "$JOBS" tools/gradebook-one.sh
assemble
echo "gradebook: $GRADEBOOK/gradebook.csv ($count row(s)), results in $GRADEBOOK/results/"
