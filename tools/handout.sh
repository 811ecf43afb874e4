#!/usr/bin/env bash
# handout.sh [OUT] — builds the student distribution (make handout).
#
# OUT (default build/handout) receives a tree that builds and grades on its
# own: the Makefile, mk/, grader/, helpers/, the public tests, the starter
# code generated from solutions/, book/ (the students' edition of the book,
# make book-student, cut from those starters), the chapters as its pages
# have them (no solution notes, the figures of the book's run, no link to a
# chapter left out), the students' README (tools/handout-README.md),
# students' CI files (.github/workflows/grade.yml, .gitlab-ci.yml) and
# MANIFEST.sha256, the checksums `make grade` checks the grader's files
# against. OUT.tar.gz holds the same tree under one folder named like OUT;
# the same files give the same bytes (sorted names, no owners, the last
# commit's time).
#
# Never shipped: solutions/, tests/*/mutants/, tests/*/hidden/, the helper
# layer's own tests, the contributors' tools. The handout is checked for
# leaks before it is packed (no solution marker, no mutant, no hidden test).
#
# LABS="00 02" ships only those labs (and the labs they use); default: every
# lab that has a solution and graded tests. MANIFEST_ONLY=1 leaves out the
# chapters, the book and the tarball: the gradebook's reference handout,
# whose MANIFEST.sha256 covers the grader's files only.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
# shellcheck source=grader/labs.sh
. grader/labs.sh
out=${1:-build/handout}
LABS=${LABS:-}

# Contributors' tools that need the full repository.
DEV_TOOLS="selftest.sh stress.sh build-all.sh mkstarter.sh mkstarter.awk handout.sh
gradebook.sh gradebook-one.sh gradebook-merge.sh classroom-test.sh bench.sh remutate.sh hostile.sh"
# The handout's README.md, kept in tools/ (copy_readme), not shipped there.
README=handout-README.md

die() { echo "handout: $*" >&2; exit 1; }

# A lab ships when it has a solution and at least one graded test file.
known_labs() {
  local lab
  while IFS= read -r lab; do
    [ -d "solutions/$lab" ] && compgen -G "tests/$lab/*.c" > /dev/null && echo "$lab"
  done < <(labs_all)
}

wanted() { # lab: on the LABS list (or no list)
  local w
  [ -z "$LABS" ] && return 0
  for w in $LABS; do
    [ "$(labs_named "$w")" = "$1" ] && return 0
  done
  return 1
}

# The selected labs plus, transitively, what their "uses" files name.
select_labs() {
  local lab dep selected=" "
  for lab in $(known_labs); do
    wanted "$lab" && selected="$selected$lab "
  done
  for lab in $selected; do
    while IFS= read -r dep; do
      case "$selected" in *" $dep "*) ;; *) selected="$selected$dep " ;; esac
    done < <(labs_used_by "$lab" solutions)
  done
  read -ra selected <<< "$selected"
  printf '%s\n' "${selected[@]}" | LC_ALL=C sort
}

copy() { # path...: into the handout, same place
  local p
  for p in "$@"; do
    mkdir -p "$out/$(dirname "$p")"
    cp -R "$p" "$out/$p"
  done
}

# A chapter's Markdown as the students' edition has it: its solution notes
# (`::: solution` divs, nested divs included) left out, as the book leaves them.
copy_chapter() { # chapters/NN-slug.md
  mkdir -p "$out/chapters"
  awk '/^:::+ *\{?[.]?solution\}? *$/ && !skip { skip = 1; depth = 1; next }
       skip && /^:::+ *[^ :]/ { depth++; next }
       skip && /^:::+ *$/ { if (--depth == 0) skip = 0; next }
       !skip' "$1" > "$out/$1"
}

copy_grader() {
  local f
  copy Makefile mk helpers .clang-format .gitignore
  mkdir -p "$out/grader" "$out/tools"
  for f in grader/*; do
    case "$f" in *_test.sh) ;; *) cp -R "$f" "$out/grader/" ;; esac
  done
  for f in tools/*; do
    case " ${DEV_TOOLS//$'\n'/ } $README " in *" $(basename "$f") "*) ;; *) cp "$f" "$out/tools/" ;; esac
  done
}

# The students' README (tools/handout-README.md, shipped as README.md only):
# the repository's README is for instructors and contributors. Its first steps
# use lab 00; a handout without it names its first lab there instead (the
# example of a failing test stays lab 00's, and says so).
copy_readme() {
  local first
  first=${labs%%$'\n'*}
  if [ "$first" = 00-the-loop ]; then
    cp "tools/$README" "$out/README.md"
  else
    sed "s/LAB=00/LAB=${first%%-*}/g; s|labs/00-the-loop/|labs/$first/|g
      s|book/00-the-loop\.html\`|book/$first.html\`|g" "tools/$README" > "$out/README.md"
  fi
}

# The course's headers (and uses) go in tests/NN-slug/include/: the grader
# compiles the tests against them, never against the student's copies
# (grader/stage.sh), and the manifest covers them.
copy_lab() { # lab: public tests, course headers, starter
  local lab=$1 f
  mkdir -p "$out/tests/$lab/include"
  for f in "tests/$lab"/*; do
    case "$(basename "$f")" in mutants | hidden) ;; *) cp -R "$f" "$out/tests/$lab/" ;; esac
  done
  for f in "solutions/$lab"/*.h "solutions/$lab/uses"; do
    [ -f "$f" ] && cp "$f" "$out/tests/$lab/include/"
  done
  cp -R "$gen/labs/$lab" "$out/labs/$lab"
}

# The shipped labs' chapters; chapters that belong to no lab (an
# introduction, pictures) ship as well, the appendices (9N) with the whole
# course only: they link every chapter.
copy_chapters() {
  local lab f
  for lab in $labs; do
    for f in chapters/"${lab%%-*}"-*.md; do
      [ -f "$f" ] && copy_chapter "$f"
    done
  done
  for f in chapters/*; do
    case "$(basename "$f")" in
      9[0-9]-*.md) [ -n "$LABS" ] || copy_chapter "$f" ;;
      9[0-9]-*) [ -n "$LABS" ] || copy "$f" ;;
      [0-9][0-9]-*) ;;
      *) copy "$f" ;;
    esac
  done
}

# The students' edition of the book (make book-student), for the shipped
# chapters only: code from solutions/ is shown as the starter hands it out,
# cut from the starters generated above (BOOK_LABS), never from the working
# tree's labs/, which may hold an instructor's solved labs. Kept under build/
# per selection, apart from make book-student's folder, so a second handout
# reuses the same pictures (the tarball stays the same bytes); the pages are
# made again from the fresh starters. The chapters' sources point into labs/
# as well, and run the student's lab where they ran the reference
# (book/student-commands.sed, as in the book).
copy_book() {
  local chapters="" lab f dir=build/handout-book
  for lab in $labs; do
    for f in chapters/"${lab%%-*}"-*.md; do [ -f "$f" ] && chapters+="$f "; done
  done
  # The appendices link every chapter: they ship with the whole course only.
  [ -n "$LABS" ] || for f in chapters/9[0-9]-*.md; do [ -f "$f" ] && chapters+="$f "; done
  [ -n "$LABS" ] && dir+="-$(printf '%s' "$labs" | tr '\n' ' ' | sed 's/\([0-9][0-9]\)-[^ ]*/\1/g; s/ /-/g')"
  # One handout at a time in that folder (make check builds several side by
  # side, a gradebook builds one): held until its pages are copied out.
  mkdir -p "$(dirname "$dir")" && exec 7> "$dir.lock" && flock 7 || die "cannot lock $dir.lock"
  rm -f "$dir"/*.html
  make --no-print-directory -s book-student BOOK_STUDENT="$dir" BOOK_LABS="$gen/labs" \
    BOOK_CHAPTERS="${chapters% }" > /dev/null ||
    die "the students' edition of the book did not build (make book-student)"
  mkdir -p "$out/book"
  cp "$dir"/*.html "$dir/book.css" "$out/book/"
  cp -R "$dir/img" "$out/book/img"
  for f in "$out"/chapters/[0-9][0-9]-*.md; do
    [ -f "$f" ] || continue
    sed -i -E -e 's/include="solutions\//include="labs\//' -f book/student-commands.sed "$f"
    chapter_as_page "$f" "${chapters% }" "$dir"
  done
  exec 7>&-
}

# A shipped chapter's Markdown says what its page says (book/book.lua,
# book-mode=markdown): each figure from a run is its value in the run the
# pages were made from, a link to a chapter the handout leaves out is its
# text. No run to read (or a figure out of its range) stops the handout.
chapter_as_page() { # chapter.md book-chapters book-dir
  if ! pandoc -d book/pandoc.yaml -M book-mode=markdown -M book-chapters="$2" \
    -M book-img-dir="$3/img" -t markdown -o "$1.tmp" "$1"; then
    rm -f "$1.tmp"
    die "$1: not shipped: its Markdown would not say what its page says (book.lua's message above)"
  fi
  mv "$1.tmp" "$1"
}

copy_ci() {
  mkdir -p "$out/.github/workflows"
  cp ci-templates/student/github-grade.yml "$out/.github/workflows/grade.yml"
  cp ci-templates/student/gitlab-ci.yml "$out/.gitlab-ci.yml"
}

# Refuses to pack a handout that gives anything away.
check_leaks() {
  local hits
  [ ! -e "$out/solutions" ] || die "solutions/ is in the handout"
  hits=$(cd "$out" && find . \( -name mutants -o -name hidden -o -name '*.patch' \) -print)
  [ -z "$hits" ] || die "mutants or hidden tests in the handout: $hits"
  hits=$(grep -rlE 'SOLUTION (BEGIN|END)' "$out" --include='*.[ch]' || true)
  [ -z "$hits" ] || die "solution markers in the handout: $hits"
  hits=$(grep -rlE 'solutions/|SRC=solutions' "$out/labs" "$out/book" "$out/chapters" 2> /dev/null || true)
  [ -z "$hits" ] || die "these name or run solutions/, which the handout does not have: $hits"
}

pack() {
  local epoch name parent
  epoch=$(git log -1 --format=%ct 2> /dev/null || echo 0)
  name=$(basename "$out")
  parent=$(dirname "$out")
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
    --mode='u+rw,go+r,go-w' -C "$parent" -cf - "$name" | gzip -n > "$out.tar.gz.tmp"
  mv "$out.tar.gz.tmp" "$out.tar.gz"
}

# Starters for the shipped labs only: a lab still being written elsewhere in
# solutions/ cannot break the handout.
make_starters() {
  local lab
  mkdir -p "$gen/solutions"
  for lab in $labs; do cp -R "solutions/$lab" "$gen/solutions/"; done
  tools/mkstarter.sh "$gen/solutions" "$gen/labs" > /dev/null
}

labs=$(select_labs)
[ -n "$labs" ] || die "no lab matches LABS=$LABS (labs: $(known_labs | tr '\n' ' '))"
gen=$(mktemp -d)
trap 'rm -rf "$gen"' EXIT
make_starters
rm -rf "$out" "$out.tar.gz"
mkdir -p "$out/labs"
copy_grader
copy_readme
for lab in $labs; do copy_lab "$lab"; done
if [ -z "${MANIFEST_ONLY:-}" ]; then
  copy_chapters
  copy_book
fi
copy_ci
tools/manifest.sh write "$out"
check_leaks
[ -n "${MANIFEST_ONLY:-}" ] || pack
made="$out/ and $out.tar.gz"
[ -z "${MANIFEST_ONLY:-}" ] || made="$out/ (no chapters, book or tarball)"
echo "handout: $made ($(wc -w <<< "$labs") labs: $(printf '%s' "$labs" | tr '\n' ' '))"
