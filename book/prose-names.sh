#!/usr/bin/env bash
# prose-names.sh CHAPTER... — every C name the prose quotes still exists.
#
# Code blocks are cut from the real files, so they cannot drift; the names
# in the sentences around them can. A name in inline code (`name` or
# `name()`, with an underscore in it) must be one of:
#  - a word of the project's C sources (helpers, grader, solutions, tests,
#    bench, tools), or of a code block in the same chapter (a Python
#    example's own functions);
#  - libuv's, found in the installed headers (libuv 1.44, the version the
#    book is written for; a UV_E* error in UV_ERRNO_MAP; the parameter
#    names of its functions too). A uv_/UV_ name that
#    1.44 does not declare (an internal one, or one added later) may appear
#    only under "Version notes" or "Further reading";
#  - listed in book/names-elsewhere.txt, with where it comes from.
# Prints each name that is none of these with its chapter and line, and
# exits 1; else a one-line count.
set -uo pipefail

[ $# -gt 0 ] || { echo "usage: book/prose-names.sh CHAPTER.md..." >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2

uv_inc=$(pkg-config --variable=includedir libuv 2> /dev/null || echo /usr/include)
uv_headers=("$uv_inc"/uv.h "$uv_inc"/uv/*.h)
mapfile -t sources < <(git ls-files 'helpers/*.[ch]' 'grader/*.[ch]' 'solutions/*.[ch]' \
  'tests/*.c' 'bench/*.[ch]' 'tools/*.c' 2> /dev/null)
[ "${#sources[@]}" -gt 0 ] || mapfile -t sources < <(ls helpers/*.[ch] grader/*.[ch] \
  solutions/*/*.[ch] tests/*/*.c bench/*.[ch] tools/*.c 2> /dev/null)
elsewhere=$(sed 's/#.*//' book/names-elsewhere.txt 2> /dev/null | tr -s ' \t' '\n')

# The words of a set of files, one per line, each once.
words() { grep -ohE '[A-Za-z_][A-Za-z0-9_]*' "$@" 2> /dev/null | sort -u; }
project_words=$(words "${sources[@]}")
uv_words=$(words "${uv_headers[@]}")
uv_errors=$(grep -ohE 'XX\(E[A-Z0-9]+' "${uv_headers[@]}" | sed 's/XX(/UV_/' | sort -u)
known() { grep -qxF "$1" <<< "$2"; }

bad="" n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ch in "$@"; do
  # names: "section<TAB>line<TAB>name" for inline code outside fenced
  # blocks; fenced: the fenced blocks' lines.
  awk -v fenced="$tmp/fenced" '
    /^```/ { in_code = !in_code; next }
    in_code { print > fenced; next }
    /^## / { section = $0; sub(/^## /, "", section); sub(/ *\{#.*\}$/, "", section) }
    { s = $0
      while (match(s, /`[A-Za-z_][A-Za-z0-9_]*(\(\))?`/)) {
        name = substr(s, RSTART + 1, RLENGTH - 2); sub(/\(\)$/, "", name)
        if (name ~ /_/) printf "%s\t%d\t%s\n", section, FNR, name
        s = substr(s, RSTART + RLENGTH) } }' "$ch" > "$tmp/names"
  touch "$tmp/fenced"
  chapter_words=$(words "$tmp/fenced")
  rm -f "$tmp/fenced"
  while IFS=$'\t' read -r section line name; do
    n=$((n + 1))
    known "$name" "$project_words" && continue
    known "$name" "$chapter_words" && continue
    known "$name" "$elsewhere" && continue
    known "$name" "$uv_words" && continue # its functions' parameters too (work_cb)
    if [[ $name == uv_* || $name == UV_* ]]; then
      known "$name" "$uv_errors" && continue
      case $section in "Version notes" | "Further reading") continue ;; esac
      bad+="$ch:$line: \`$name\` is not in libuv 1.44's headers (name a later one under Version notes)"$'\n'
      continue
    fi
    bad+="$ch:$line: \`$name\` is in no source file (renamed? or add it to book/names-elsewhere.txt)"$'\n'
  done < "$tmp/names"
done
[ -z "$bad" ] || { printf '%s' "$bad"; exit 1; }
echo "$n names quoted in $# chapters, each found"
