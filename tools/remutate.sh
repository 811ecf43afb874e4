#!/usr/bin/env bash
# remutate.sh OLD_REV [LAB...] — carries the mutants over a reformat of the
# solutions (make format, or a rebase onto solutions changed before it).
#
# For each tests/LAB/mutants/*.patch as it is at OLD_REV: applies it to
# solutions/LAB/FILE as it is at OLD_REV, formats that file and the mutated
# copy with the current .clang-format, and moves the difference onto the
# current solutions/LAB/FILE (a three-way merge, which is a plain copy when
# the current file is the formatted old one). The patch is rewritten in place:
# its header (Mutant:, Kills:, the blank line), then `diff -u` of
# a/FILE and b/FILE. It must apply with no offset and no fuzz.
#
# When the current file is the formatted old one, the new mutant is proved to
# be the old one: both mutated files have the same text but for whitespace.
# Stops at the first patch that does not apply, does not merge, or that
# formatting turned into no change. LABs: numbers or NN-slugs; default all.
# Then run make check: every mutant must still lose its tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
old=${1:?usage: remutate.sh OLD_REV [LAB...]}
shift
git rev-parse --verify -q "$old^{commit}" > /dev/null || { echo "remutate: no commit $old" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
die() { echo "remutate: $*" >&2; exit 1; }
fmt() { clang-format --style=file:"$root/.clang-format" --assume-filename="$2" < "$1"; }
bare() { tr -d ' \t\n' < "$1"; }
wanted() { # lab
  local w
  [ -z "$LABS" ] && return 0
  for w in $LABS; do case "$1" in "$w" | "$w"-*) return 0 ;; esac; done
  return 1
}
LABS="$*"
count=0

for p in $(git ls-tree -r --name-only "$old" tests | grep '^tests/[^/]*/mutants/[^/]*\.patch$'); do
  lab=${p#tests/}
  lab=${lab%%/*}
  wanted "$lab" || continue
  git show "$old:$p" > "$tmp/old.patch"
  file=$(sed -n 's|^--- a/||p' "$tmp/old.patch")
  if [ -z "$file" ] || [ "$(printf '%s\n' "$file" | wc -l)" -ne 1 ]; then die "$p: not a one-file patch"; fi
  cur=solutions/$lab/$file
  [ -f "$cur" ] || die "$p: $cur is gone"
  rm -rf "$tmp/mut" && mkdir -p "$tmp/mut/$(dirname "$file")"
  git show "$old:solutions/$lab/$file" > "$tmp/base"
  cp "$tmp/base" "$tmp/mut/$file"
  patch -s -p1 -d "$tmp/mut" < "$tmp/old.patch" > "$tmp/log" 2>&1 || die "$p does not apply at $old: $(cat "$tmp/log")"
  fmt "$tmp/base" "$file" > "$tmp/fbase"
  fmt "$tmp/mut/$file" "$file" > "$tmp/fmut"
  [ "$(bare "$tmp/base")" = "$(bare "$tmp/fbase")" ] || die "$p: formatting $file changed more than whitespace"
  if cmp -s "$tmp/fbase" "$cur"; then
    cp "$tmp/fmut" "$tmp/new"
    [ "$(bare "$tmp/mut/$file")" = "$(bare "$tmp/new")" ] || die "$p: the formatted mutant is not the old one"
  elif ! git merge-file -p "$cur" "$tmp/fbase" "$tmp/fmut" > "$tmp/new"; then
    die "$p: the mutant conflicts with the changes to $cur since $old"
  fi
  cmp -s "$tmp/new" "$cur" && die "$p: formatted, the mutant changes nothing"
  sed '/^--- a\//,$d' "$tmp/old.patch" > "$tmp/new.patch"
  diff -u --label "a/$file" --label "b/$file" "$cur" "$tmp/new" >> "$tmp/new.patch" || true
  # The new patch applies exactly and gives the mutated file.
  rm -rf "$tmp/chk" && mkdir -p "$tmp/chk/$(dirname "$file")" && cp "$cur" "$tmp/chk/$file"
  patch -p1 -d "$tmp/chk" < "$tmp/new.patch" > "$tmp/log" 2>&1 || die "$p: the new patch does not apply"
  grep -qi 'offset\|fuzz' "$tmp/log" && die "$p: the new patch applies only with $(grep -i 'offset\|fuzz' "$tmp/log")"
  cmp -s "$tmp/chk/$file" "$tmp/new" || die "$p: the new patch does not give the mutant"
  cmp -s "$tmp/new.patch" "$p" || { cp "$tmp/new.patch" "$p"; echo "remutate: $p"; }
  count=$((count + 1))
done
echo "remutate: $count mutant(s) carried over from $old"
