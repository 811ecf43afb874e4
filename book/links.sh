#!/usr/bin/env bash
# links.sh pages|single BOOK_DIR — a built book's links, followed as a reader would.
#
#   pages   linkchecker from index.html through every page, anchors
#           checked; not the one-page book, whose ~N anchors would make
#           linkchecker reload the whole book N times (that is `single`)
#   single  book.html: its links by linkchecker, its internal anchors here
#           (every href="#x" has an id="x")
#
# Prints a one-line count, or what is broken and exits 1. Used by
# book/check.sh (make book-check) and by tools/classroom-test.sh for the
# students' edition a handout ships in book/.
set -uo pipefail

mode=${1:-} book=${2:-}
[ -n "$book" ] && [ -d "$book" ] || { echo "usage: book/links.sh pages|single BOOK_DIR" >&2; exit 2; }
url="file://$(cd "$book" && pwd)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# linkchecker CONFIG-LINES START-URL [OPTIONS...]: its findings on failure.
run_linkchecker() {
  printf '[checking]\nthreads=4\n%s' "$1" > "$tmp/rc"
  linkchecker --config="$tmp/rc" --no-status "${@:3}" "$2" > "$tmp/out" 2>&1 ||
    { sed -n '/^Start checking/,$p' "$tmp/out"; return 1; }
}

case $mode in
pages)
  run_linkchecker $'[AnchorCheck]\n' "$url/index.html" --ignore-url='/book\.html' || exit 1
  grep -o '[0-9]* links in [0-9]* URLs checked.*' "$tmp/out"
  ;;
single)
  run_linkchecker '' "$url/book.html" || exit 1
  missing=$(comm -23 <(grep -o 'href="#[^"]*"' "$book/book.html" | sed 's/href="#//; s/"$//' | sort -u) \
                     <(grep -o ' id="[^"]*"' "$book/book.html" | sed 's/ id="//; s/"$//' | sort -u))
  [ -z "$missing" ] || { echo "book.html links to missing anchors: $missing"; exit 1; }
  echo "book.html: links and $(grep -o 'href="#' "$book/book.html" | wc -l) internal links resolve"
  ;;
*)
  echo "usage: book/links.sh pages|single BOOK_DIR" >&2
  exit 2
  ;;
esac
