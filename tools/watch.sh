#!/usr/bin/env bash
# watch.sh — re-grades one lab each time one of its files is saved
# (make watch LAB=NN).
#
# Environment: LAB (required), SRC (default labs), MODE, TIMEOUT_SCALE;
# WATCH_POLL=1 polls even when inotifywait is there; WATCH_MAX=N stops
# after N grades (for tests).
#
# Waits with inotifywait (Debian's inotify-tools) when it is installed, else
# compares the files' modification times every second. Each grade clears the
# screen (on a terminal) and shows the lab's table with only the first
# failing test in full: its message, hint and the section to read.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
SRC=${SRC:-labs}
LAB=${LAB:-}
WATCH_MAX=${WATCH_MAX:-0}
RESULTS=${RESULTS:-build/results}

die() { echo "watch: $*" >&2; exit 2; }

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  dim=$'\033[2m' reset=$'\033[0m'
else
  dim='' reset=''
fi

[ -n "$LAB" ] || die "which lab? make watch LAB=00"
# shellcheck source=grader/labs.sh
. grader/labs.sh
lab=$(labs_named "$LAB" | head -n 1)
[ -n "$lab" ] || die "no lab matches LAB=$LAB"
[ -d "$SRC/$lab" ] || die "$SRC/$lab is not a folder"

# The lab's folder and the folders of earlier labs it uses.
dirs=("$SRC/$lab")
while IFS= read -r used; do
  [ -d "$SRC/$used" ] && dirs+=("$SRC/$used")
done < <(labs_used_by "$lab" "$SRC")

# Changes when any file is saved, created, renamed or removed.
signature() {
  find "${dirs[@]}" -type f ! -name '.*' ! -name '*~' -printf '%T@ %s %p\n' 2> /dev/null |
    LC_ALL=C sort | cksum
}

grade() {
  [ -t 1 ] && [ "${TERM:-dumb}" != dumb ] && printf '\033[H\033[2J'
  SRC="$SRC" LAB="$lab" RESULTS="$RESULTS" REPORT_VIEW=--brief grader/grade.sh
  printf '%swatching %s (%s): save a file to re-grade, Ctrl-C to stop. Graded at %s.%s\n' \
    "$dim" "${dirs[*]}" "$how" "$(date +%H:%M:%S)" "$reset"
}

# Returns once the files' signature differs from $1.
wait_for_change() {
  local before=$1
  while [ "$(signature)" = "$before" ]; do
    if [ "$how" = inotify ]; then
      # Returns on the first event; the timeout re-checks now and then
      # (a folder created after the watch started, a missed event).
      inotifywait -qq -r -t 30 -e close_write,moved_to,create,delete "${dirs[@]}" 2> /dev/null
      sleep 0.2 # an editor's save is often several events
    else
      sleep 1
    fi
  done
}

how=polling
command -v inotifywait > /dev/null && [ -z "${WATCH_POLL:-}" ] && how=inotify
make -s --no-print-directory libs || die "the grader does not build"
graded=0
while :; do
  sig=$(signature)
  grade
  graded=$((graded + 1))
  [ "$WATCH_MAX" -gt 0 ] && [ "$graded" -ge "$WATCH_MAX" ] && exit 0
  wait_for_change "$sig"
done
