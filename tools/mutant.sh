#!/usr/bin/env bash
# mutant.sh LAB PATCH DIR — lays out one known-wrong solution to grade.
#
# Copies solutions/LAB (and the labs its "uses" file names, which it is built
# with) into DIR, a folder laid out like labs/, and applies PATCH to LAB's
# copy. DIR is emptied first. Exit 1, with patch's messages, when the patch
# does not apply. Used by tools/selftest.sh and tools/perturb.sh.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lab=${1:?usage: mutant.sh LAB PATCH DIR}
patch=${2:?usage: mutant.sh LAB PATCH DIR}
dir=${3:?usage: mutant.sh LAB PATCH DIR}
rm -rf "$dir" && mkdir -p "$dir"
cp -r "$root/solutions/$lab" "$dir/$lab"
# shellcheck source=grader/labs.sh
. "$root/grader/labs.sh"
while IFS= read -r dep; do
  cp -r "$root/solutions/$dep" "$dir/$dep"
done < <(labs_used_by "$lab" "$root/solutions")
# No fuzz: a patch whose context drifted from the solution is re-cut
# (tools/remutate.sh), never applied to a place it no longer describes.
patch -s -F0 -p1 -d "$dir/$lab" < "$patch"
