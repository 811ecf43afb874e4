#!/usr/bin/env bash
# check.sh BOOK_DIR — `make book-check`: reads the built book like a reader would.
#
# Run by mk/book.mk after `make book` (BOOK_CHAPTERS: the chapter files).
#  1. include-code.lua cuts snippets right and refuses broken markers;
#  2. every included code block is its source's lines (no drift), no C is
#     written by hand, every chapter page shows included code;
#  3. every chapter has its standard parts (the lab, what the grader checks,
#     version notes, summary, questions, further reading; appendices,
#     chapters 9N, none), at most BOOK_MAX_WORDS (3,500) words of prose in
#     the students' edition (book/prose-words.sh), and every
#     `.section = "NN-slug#anchor"` of the graded tests is an id on
#     that chapter's page, in both editions (the grader's "read:" line
#     links it); every name the prose quotes in inline code exists
#     (book/prose-names.sh);
#  4. every chapter page shows a timeline drawn from its lab's demo;
#  5. the pages work offline (no http(s) stylesheet, script or image);
#  6. links and anchors (book/links.sh): linkchecker from index.html
#     (anchors checked), the one-page book's links and its internal anchors;
#  7. the EPUB is valid (epubcheck);
#  8. headless Chromium renders every page with its title and code and no
#     console message, and
#     takes BOOK_DIR/screenshot.png (laptop) and screenshot-phone.png.
# Ends with "book-check: N passed, M failed"; exits 1 if anything failed.
set -uo pipefail
# shellcheck source=grader/labs.sh
. grader/labs.sh

book=${1:-build/book}
read -r -a chapters <<< "${BOOK_CHAPTERS:-$(echo chapters/[0-9][0-9]-*.md)}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); printf '  ok    %s\n' "$1"; }
not_ok() {
  failed=$((failed + 1))
  printf '  FAIL  %s\n' "$1"
  [ -n "${2:-}" ] && printf '%s\n' "$2" | head -n 30 | sed 's/^/        /'
  return 0
}
# check LABEL COMMAND...: ok when the command succeeds; shows its output if
# not. The checks only read the built book, so they run side by side
# (BOOK_JOBS at once, default the cores); verdicts() prints them in the
# order they were started.
BOOK_JOBS=${BOOK_JOBS:-$(nproc)}
labels=()
check() {
  local n=${#labels[@]}
  labels+=("$1")
  shift
  while [ "$(jobs -rp | wc -l)" -ge "$BOOK_JOBS" ]; do wait -n; done
  { if out=$("$@" 2>&1); then echo ok; else echo FAIL; fi; printf '%s' "$out"; } > "$tmp/check.$n" 2>&1 &
}
verdicts() {
  local n out
  wait
  for n in "${!labels[@]}"; do
    out=$(tail -n +2 "$tmp/check.$n")
    if [ "$(head -n 1 "$tmp/check.$n")" = ok ]; then
      ok "${labels[n]}${out:+: $(tail -n 1 <<< "$out")}"
    else
      not_ok "${labels[n]}" "$out"
    fi
  done
}

page_of() { echo "$book/$(basename "$1" .md).html"; }
# Chapters 90 and up are appendices (book.lua letters them): no lab, so no
# lab parts, timeline or code of their own.
appendix() { case "$(basename "$1")" in 9[0-9]-*) return 0 ;; esac; return 1; }

# Every line that starts with ::: is a fence that opens a div (a class, or
# attributes in braces) or closes one (nothing else), and they pair up. A
# closing fence run into the next sentence leaves a solution note open: the
# students' edition then loses everything after it, sections included.
div_fences() {
  local ch bad=""
  for ch in "${chapters[@]}"; do
    bad+=$(awk -v f="$ch" '
      /^```/ { code = !code }
      code || !/^:::/ { next }
      $0 !~ /^:::+ *([{][^}]*[}]|[A-Za-z0-9_-]+)? *$/ { printf "%s:%d: not a fence: %s\n", f, FNR, $0; next }
      /^:::+ *$/ { if (--depth < 0) { printf "%s:%d: this fence closes no div\n", f, FNR; depth = 0 }; next }
      { depth++ }
      END { if (depth) printf "%s: %d div(s) never closed\n", f, depth }' "$ch")
  done
  [ -z "$bad" ] || { printf '%s\n' "$bad"; return 1; }
}

# Every chapter has the parts a reader counts on, under the same ids.
CHAPTER_PARTS="lab grader-checks version-notes summary questions further-reading"
chapter_parts() {
  local ch id bad=""
  for ch in "${chapters[@]}"; do
    appendix "$ch" && continue
    for id in $CHAPTER_PARTS; do
      grep -q "^## .* {#$id}$" "$ch" || bad+="$ch: no section {#$id}"$'\n'
    done
  done
  [ -z "$bad" ] || { printf '%s' "$bad"; return 1; }
  echo "${#chapters[@]} chapters: $CHAPTER_PARTS"
}

# The grader's "read:" line links NN-slug.html#anchor of the students'
# edition (a handout's book/) or of this one: both pages must have the id.
grader_anchors() {
  local file section name anchor page dir bad="" n=0
  while IFS=: read -r file section; do
    section=${section#*\"}; section=${section%\"*}
    name=${section%%#*}; anchor=${section#*#}
    case "$name" in [0-9][0-9]-*) ;; *) continue ;; esac
    n=$((n + 1))
    for dir in "$book" ${student:+"$student"}; do
      page=$dir/$name.html
      if [ ! -f "$page" ]; then
        bad+="$file: .section \"$section\": chapters/$name.md is not in $dir/"$'\n'
      elif ! grep -q "id=\"$anchor\"" "$page"; then
        bad+="$file: .section \"$section\": no id \"$anchor\" in $page"$'\n'
      fi
    done
  done < <(grep -Ho '\.section *= *"[^"]*"' tests/*/*.c tests/*/hidden/*.c | sort -u)
  [ -z "$bad" ] || { printf '%s' "$bad"; return 1; }
  echo "$n hint sections name existing ids"
}

timelines() {
  local ch page svg bad="" n=0
  for ch in "${chapters[@]}"; do
    appendix "$ch" && continue
    n=$((n + 1))
    page=$(page_of "$ch")
    svg=$(grep -o '<img src="img/[^"]*-timeline\.svg"' "$page" | head -n 1 | sed 's/.*src="//; s/"$//')
    if [ -z "$svg" ]; then
      bad+="$ch: no timeline (add a \`::: {.timeline lab=\"NN-slug\"}\` div; its lab needs solutions/NN-slug/demo.c --csv)"$'\n'
    elif ! xmllint --noout "$book/$svg" 2> /dev/null; then
      bad+="$page: $svg is missing or not well-formed SVG"$'\n'
    fi
  done
  [ -z "$bad" ] || { printf '%s' "$bad"; return 1; }
  echo "$n chapter pages show a timeline of a real run"
}

offline() {
  if grep -nE '<(link|script|img)[^>]*(href|src)="(https?:)?//' "$book"/*.html; then
    return 1
  fi
  echo "no page loads anything from the network"
}

epub_check() {
  local epubcheck=(epubcheck)
  # Debian's epubcheck is a jar run through binfmt_misc, absent in containers.
  epubcheck --version > /dev/null 2>&1 || epubcheck=(java -jar /usr/share/java/epubcheck.jar)
  "${epubcheck[@]}" -q "$book/book.epub" 2>&1 || return 1
  echo "book.epub is valid EPUB 3"
}

chromium_run() { # extra chromium arguments...
  local profile
  profile=$(mktemp -d "$tmp/profile.XXXXXX")
  timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars "$@"
}

# Each page as Chromium builds it: a title, and on chapter pages included
# code and the timeline figure.
browser_pages() {
  local page dom bad="" n=0
  for page in "$book/index.html" "$book/book.html" $(for ch in "${chapters[@]}"; do page_of "$ch"; done); do
    dom=$(chromium_run --enable-logging=stderr --v=0 --dump-dom "file://$PWD/$page" 2> "$tmp/console.log")
    # Chromium logs what a page writes to its console as INFO:CONSOLE.
    if grep -q ':CONSOLE' "$tmp/console.log"; then
      bad+="$page: console messages: $(grep ':CONSOLE' "$tmp/console.log" | head -n 3)"$'\n'
    fi
    n=$((n + 1))
    case "$dom" in *"<h1"*) ;; *) bad+="$page: Chromium shows no <h1> (${#dom} bytes of DOM)"$'\n'; continue ;; esac
    case "$page" in */index.html | */book.html | */9[0-9]-*.html) continue ;; esac
    case "$dom" in *'class="sourceCode c"'*) ;; *) bad+="$page: Chromium shows no C code block"$'\n' ;; esac
    case "$dom" in *'<figure>'*'-timeline.svg'*) ;; *) bad+="$page: Chromium shows no timeline figure"$'\n' ;; esac
  done
  [ -z "$bad" ] || { printf '%s' "$bad"; return 1; }
  echo "$n pages render with their code"
}

screenshots() {
  local page
  page=$(page_of "${chapters[0]}")
  rm -f "$book/screenshot.png" "$book/screenshot-phone.png"
  chromium_run --window-size=1280,1800 --screenshot="$PWD/$book/screenshot.png" "file://$PWD/$page" > /dev/null 2>&1
  chromium_run --window-size=390,1600 --screenshot="$PWD/$book/screenshot-phone.png" "file://$PWD/$page" > /dev/null 2>&1
  [ -s "$book/screenshot.png" ] && [ -s "$book/screenshot-phone.png" ] || return 1
  echo "$book/screenshot.png, screenshot-phone.png ($(basename "$page"))"
}

echo "book-check: ${#chapters[@]} chapters in $book"
[ "${#chapters[@]}" -gt 0 ] || { not_ok "there are chapters (chapters/NN-slug.md)"; echo "book-check: $passed passed, $failed failed"; exit 1; }
# The slowest first.
check "links and anchors (linkchecker)" book/links.sh pages "$book"
check "one-page book links (linkchecker) and anchors" book/links.sh single "$book"
check "EPUB (epubcheck)" epub_check
check "pages in headless Chromium" browser_pages
check "screenshots" screenshots
check "include-code.lua cuts and refuses" book/test-include.sh
check "code blocks match their sources" book/verify-snippets.sh "$book" "${chapters[@]}"
# The students' edition (make book-student), when built beside: its code is
# the starter's, checked the same way.
student=${BOOK_STUDENT:-}
student_edition() {
  if grep -lE 'solutions/|SRC=solutions' "$student"/*.html; then
    echo "these pages of the students' edition name or run solutions/"
    return 1
  fi
  BOOK_EDITION=student book/verify-snippets.sh "$student" "${chapters[@]}"
}
# It teaches the contract, never the solution: no solution notes, and no
# name that only the reference solution of the chapter's lab (or of a lab
# it uses) has (book/solution-names.sh).
solution_free() {
  local ch lab page names found bad=0
  for ch in "${chapters[@]}"; do
    lab=$(basename "$ch" .md)
    page=$student/$lab.html
    [ -f "$page" ] || continue
    if grep -q 'class="solution"' "$page"; then
      echo "$page shows solution notes"; bad=1
    fi
    names=$(for l in "$lab" $(labs_used_by "$lab" solutions); do book/solution-names.sh "$l"; done)
    [ -n "$names" ] || continue
    found=$(sed -e 's/<[^>]*>/ /g' "$page" | grep -owF -f <(printf '%s\n' "$names") | sort -u | tr '\n' ' ')
    [ -z "$found" ] || { echo "$page names what only the solution has: $found"; bad=1; }
  done
  [ "$bad" -eq 0 ] && echo "${#chapters[@]} chapters: no solution notes, no solution-only name"
}
# A chapter a student finishes: its prose in the students' edition (no code,
# tables, solution notes or generated divs) is at most BOOK_MAX_WORDS words.
BOOK_MAX_WORDS=${BOOK_MAX_WORDS:-3500}
prose_length() {
  local words ch long=""
  while read -r words ch; do
    [ "$words" -le "$BOOK_MAX_WORDS" ] || long+="$ch: $words words of prose in the students' edition, more than $BOOK_MAX_WORDS"$'\n'
  done < <(book/prose-words.sh "${chapters[@]}")
  [ -z "$long" ] || { printf '%s' "$long"; return 1; }
  echo "${#chapters[@]} chapters of at most $BOOK_MAX_WORDS words of prose"
}
[ -z "$student" ] || check "students' edition: code blocks match labs/, never solutions/" student_edition
[ -z "$student" ] || check "students' edition: teaches the contract, not the solution" solution_free
check "every div fence is whole and closes (solution notes end where they should)" div_fences
check "every chapter has its parts" chapter_parts
check "chapters a student finishes (book/prose-words.sh)" prose_length
check "names in the prose exist (functions, types, libuv 1.44)" book/prose-names.sh "${chapters[@]}"
check "grader hints name ids in the chapters" grader_anchors
check "timelines" timelines
check "works offline" offline
verdicts
echo "book-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
