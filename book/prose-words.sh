#!/usr/bin/env bash
# prose-words.sh CHAPTER... — how many words of prose each chapter has in
# the students' edition: one line "WORDS CHAPTER" each.
#
# Prose is what is left without code blocks, tables, solution notes and the
# divs the build fills in (book/prose-words.lua). book/check.sh holds every
# chapter to BOOK_MAX_WORDS (a chapter a student finishes in one sitting).
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: book/prose-words.sh CHAPTER.md..." >&2; exit 2; }
for ch in "$@"; do
  printf '%s %s\n' "$(pandoc -f markdown -t plain --lua-filter=book/prose-words.lua "$ch" | wc -w)" "$ch"
done
