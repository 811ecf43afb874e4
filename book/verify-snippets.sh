#!/usr/bin/env bash
# verify-snippets.sh BOOK_DIR CHAPTER... — the book's code cannot drift.
#
# For each chapter: runs the page's own pandoc pipeline to JSON, and checks
#   - every block with include= is its file's region, line for line
#     (book/verify-snippet.awk, independent of the filter);
#   - no C block was written by hand (C is only ever included);
#   - the built page BOOK_DIR/NN-slug.html holds as many included blocks,
#     and at least one (an appendix, 9N-slug, may have none).
# Prints one line per problem; exits 1 if there was any.
set -uo pipefail

book=$1
shift
chapters="$*"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
blocks=0

problem() { echo "$1: $2"; status=1; }

# One row per code block (fields split by \x1f): include, snippet, classes, base64 text.
code_blocks() {
  pandoc -d book/pandoc.yaml -M book-chapters="$chapters" -M book-img-dir="$book/img" \
    -M book-mode=page -t json "$1" |
    jq -r '.. | objects | select(.t? == "CodeBlock") | .c
           | (.[0][2] | map({(.[0]): .[1]}) | add // {}) as $kv
           | [$kv.include // "", $kv.snippet // "", (.[0][1] | join(" ")), (.[1] | @base64)] | join("\u001f")'
}

check_chapter() {
  local ch=$1 name included=0 include snippet classes text shown source
  name=$(basename "$ch" .md)
  if ! code_blocks "$ch" > "$tmp/rows" 2> "$tmp/err"; then
    problem "$ch" "pandoc failed: $(head -c 600 "$tmp/err")"
    return
  fi
  while IFS=$'\x1f' read -r include snippet classes text; do
    if [ -z "$include" ]; then
      case " $classes " in
        *" c "* | *" h "* | *" cpp "*) problem "$ch" "a C block written by hand (pull it from a file with include= and snippet=)" ;;
      esac
      continue
    fi
    included=$((included + 1))
    printf '%s' "$text" | base64 -d > "$tmp/block"
    source=$include
    # The students' edition names labs/x and reads it from BOOK_LABS/x.
    [ "${BOOK_EDITION:-}" = student ] && [ -n "${BOOK_LABS:-}" ] && source=${include/#labs\//$BOOK_LABS/}
    if ! awk -v snippet="$snippet" -v file="$include" -f book/verify-snippet.awk "$tmp/block" "$source" > "$tmp/diff" 2>&1; then
      problem "$ch" "$(cat "$tmp/diff")"
    fi
  done < "$tmp/rows"
  blocks=$((blocks + included))
  shown=$(grep -o 'data-include="' "$book/$name.html" 2> /dev/null | wc -l)
  if [ "$included" -eq 0 ]; then
    # An appendix (chapters/9N-*.md) has no lab and may show no code.
    case "$name" in 9[0-9]-*) return ;; esac
    problem "$ch" "shows no code pulled from the lab (\`\`\`{.c include=... snippet=...})"
  elif [ "$shown" -ne "$included" ]; then
    problem "$book/$name.html" "shows $shown included code blocks, the chapter has $included"
  fi
}

for ch in "$@"; do
  check_chapter "$ch"
done
[ "$status" -eq 0 ] && echo "$blocks code blocks in $# chapters match their source files"
exit "$status"
