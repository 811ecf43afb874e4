#!/usr/bin/env bash
# classroom-test.sh — make check's classroom step: the handout, the
# gradebook, the CI templates, make watch and make progress, each used the
# way an instructor or a student would.
#
# Sourced by tools/selftest.sh, which provides ok and not_ok and runs the
# groups CLASSROOM_GROUPS lists as jobs side by side (each writes only its own
# files under $CT); run alone (bash tools/classroom-test.sh) it brings
# its own and ends with "N passed, M failed" (an argument runs one part:
# bash tools/classroom-test.sh gradebook_tests). Lab 00 stands in for every
# lab where grading all of them would only cost time.

CT=build/selftest/classroom

# ---- the CI templates --------------------------------------------------------

ci_file_has() { # file pattern... : every pattern is on a line of file
  local f=$1 p
  shift
  for p in "$@"; do grep -qE -- "$p" "$f" || { echo "$f: no line matches: $p"; return 1; }; done
}

ci_templates() {
  local out f
  for f in ci-templates/student/*.yml ci-templates/instructor/*.yml; do
    if out=$(yamllint -s -c ci-templates/yamllint.yml "$f" 2>&1); then
      ok "CI template parses (yamllint): $f"
    else
      not_ok "CI template parses (yamllint): $f" "$out"
    fi
  done
  if out=$(ci_file_has ci-templates/student/github-grade.yml '^jobs:' 'runs-on: ' \
             'container: debian:12' 'apt-get install' 'libuv1-dev check' 'make grade STRICT=' \
             'vars.GRADE_STRICT' 'upload-artifact' 'path: build/results/' &&
           ci_file_has ci-templates/student/gitlab-ci.yml '^grade:' 'image: debian:12' \
             'libuv1-dev check' 'make grade STRICT=' 'junit: build/results/junit.xml' '^  coverage:' &&
           ci_file_has ci-templates/instructor/gradebook.yml 'matrix:' 'shard: \[' \
             'SHARD: .*matrix.shard.*strategy.job-total' 'make gradebook SUBMISSIONS=' \
             'download-artifact' 'make gradebook-merge PARTS=' 2>&1); then
    ok "CI templates install the dependencies, grade, and publish the results"
  else
    not_ok "CI templates install the dependencies, grade, and publish the results" "$out"
  fi
}

# ---- the handout -------------------------------------------------------------

handout_contents() { # dir
  local h=$1 leaks
  leaks=$(cd "$h" && find . \( -name solutions -o -name mutants -o -name hidden -o -name '*.patch' \
            -o -name selftest.sh -o -name CONTRIBUTING.md \) -print)
  leaks+=$(grep -lE '^:::+ *\{?[.]?solution' "$h"/chapters/*.md 2> /dev/null)
  if [ -n "$leaks" ]; then
    not_ok "handout ships no solutions, solution notes, mutants, hidden tests or contributors' tools" "$leaks"
  elif [ ! -f "$h/.github/workflows/grade.yml" ] || [ ! -f "$h/.gitlab-ci.yml" ]; then
    not_ok "handout ships the students' CI files"
  elif [ -n "$(tools/manifest.sh verify "$h")" ]; then
    not_ok "handout's MANIFEST.sha256 matches its files" "$(tools/manifest.sh verify "$h")"
  else
    ok "handout: no solutions, solution notes, mutants or hidden tests; CI files; a matching manifest"
  fi
}

# The students' edition of the book: a page per chapter shipped, every code
# block cut from a real file, none from solutions/, TODOs shown.
handout_book() { # dir
  local h=$1 md page missing="" path
  for md in "$h"/chapters/[0-9][0-9]-*.md; do
    page=$h/book/$(basename "$md" .md).html
    [ -f "$page" ] || missing+="no page $page for $md"$'\n'
  done
  while read -r path; do
    # A file the handout does not ship (the benchmarks) may be quoted, if it
    # is real; solutions/ never (checked below).
    [ -f "$h/$path" ] || [ -f "$path" ] || missing+="a code block cut from $path, which does not exist"$'\n'
  done < <(grep -ho 'include="[^"]*"' "$h"/book/*.html | sed 's/^include="//; s/"$//' | sort -u)
  if [ -n "$missing" ] || ! [ -f "$h/book/index.html" ]; then
    not_ok "handout ships the students' edition of the book" "$missing"
  elif grep -lqE 'solutions/|SRC=solutions' "$h"/book/*.html "$h"/chapters/*.md; then
    not_ok "handout's book never quotes or runs solutions/" \
      "$(grep -lE 'solutions/|SRC=solutions' "$h"/book/*.html "$h"/chapters/*.md)"
  elif ! grep -lq 'TODO' "$h"/book/[0-9]*.html; then
    not_ok "handout's book shows the starter's TODOs"
  else
    ok "handout book/: the students' edition, $(find "$h/book" -maxdepth 1 -name '[0-9]*.html' | wc -l) chapter pages, code cut from labs/, never solutions/"
  fi
}

# The students' edition's links and anchors, as book-check reads the full
# edition's (book/links.sh): the pages with their anchors, the one-page book.
handout_book_links() { # dir
  local h=$1 out
  if ! out=$(book/links.sh pages "$h/book" 2>&1) || ! out=$(book/links.sh single "$h/book" 2>&1); then
    not_ok "handout book/: every link and anchor resolves (linkchecker, $(basename "$h"))" "$out"
  else
    ok "handout book/: every link and anchor resolves within the handout (linkchecker, $(basename "$h"))"
  fi
}

# The text of each `[text]{.run ...}` span of a Markdown file, one a line
# (a span may run over two lines), and of each run span of an HTML page.
md_run_texts() { # file.md
  awk '{ s = s $0 " " }
       END { while (match(s, /\[[^][]*\][{]\.run [^}]*[}]/)) {
               t = substr(s, RSTART + 1, RLENGTH - 1); sub(/\][{].*/, "", t); gsub(/ +/, " ", t); print t
               s = substr(s, RSTART + RLENGTH) } }' "$1"
}
html_run_texts() { # page.html
  grep -o '<span class="run">[^<]*</span>' "$1" | sed 's/<[^>]*>//g; s/  */ /g'
}

# A handout's chapters say what their pages say: every figure from a run
# (book/run-values.txt) is the page's, and no link goes to a chapter the
# handout does not ship (NN-slug.md or #NN-slug).
handout_markdown() { # dir
  local h=$1 md bad="" n=0 link name mine page
  for md in "$h"/chapters/[0-9][0-9]-*.md; do
    mine=$(md_run_texts "$md")
    page=$(html_run_texts "$h/book/$(basename "$md" .md).html")
    [ "$mine" = "$page" ] ||
      bad+="${md#"$h"/}: its .run spans say: ${mine//$'\n'/; }"$'\n'"  its page, from the run: ${page//$'\n'/; }"$'\n'
    n=$((n + $(grep -c . <<< "$mine")))
    while IFS= read -r link; do
      name=$(sed -E 's/.*\(#?(\.\/)?([0-9][0-9]-[a-z0-9-]+).*/\2/' <<< "$link")
      [ -f "$h/chapters/$name.md" ] || bad+="${md#"$h"/}:${link%%:*}: a link to $name, which the handout leaves out"$'\n'
    done < <(grep -noE '\]\((#|(\./)?)[0-9][0-9]-[a-z0-9-]+(\.md)?[)#]' "$md")
  done
  if [ -n "$bad" ]; then
    not_ok "handout's chapters say what their pages say: the run's figures, no link to a chapter left out ($(basename "$h"))" "$bad"
  else
    ok "handout's chapters: $n figures from a run, each the page's; no link to a chapter left out ($(basename "$h"))"
  fi
}

# The commands a README names: each `make ...` in a code span, and each
# line of a fenced block from its make on (to a # comment), one a line.
readme_make_commands() { # file
  awk '/^```/ { fenced = !fenced; next }
       fenced { if (match($0, /(^|[;&|] *)make [^#]*/)) { c = substr($0, RSTART, RLENGTH); sub(/^[;&| ]*/, "", c); print c }; next }
       { while (match($0, /`make [^`]*`/)) { print substr($0, RSTART + 1, RLENGTH - 2); $0 = substr($0, RSTART + RLENGTH) } }' "$1" |
    sed 's/ *$//' | sort -u
}

# The students' README: for someone who has only the handout.
handout_readme() { # dir
  local h=$1 bad="" cmd out path n=0
  if ! cmp -s "$h/README.md" tools/handout-README.md || [ -e "$h/tools/handout-README.md" ]; then
    not_ok "handout's README.md is tools/handout-README.md, shipped once"
    return
  fi
  bad=$(grep -nE 'solutions/|SRC=solutions|git clone|make check|make book-html' "$h/README.md")
  [ -z "$bad" ] || bad="names what a handout does not have: $bad"$'\n'
  while read -r cmd; do
    [ -n "$cmd" ] || continue
    n=$((n + 1))
    # make -n: the goal exists and the handout does not refuse it.
    # shellcheck disable=SC2086
    out=$(cd "$h" && make -n ${cmd#make } 2>&1 > /dev/null) || bad+="\`$cmd\` does not work in the handout: $out"$'\n'
  done < <(readme_make_commands "$h/README.md")
  [ "$n" -gt 0 ] || bad+="no make command found in the README"$'\n'
  while IFS= read -r path; do
    [ -e "$h/$path" ] || bad+="names $path, which the handout does not have"$'\n'
  done < <(grep -oE '(book/[a-z0-9-]+\.html|labs/[0-9][0-9]-[a-z-]+)' "$h/README.md" | sort -u)
  if [ -n "$bad" ]; then
    not_ok "handout README: only what the handout has, only make targets that work there" "$bad"
  else
    ok "handout README: the students' own, $n make commands that work in the handout, no solutions/, git clone, make check"
  fi
}

# An instructor's clone whose labs/ holds solved (or edited) code: the
# handout's starters and book are generated from solutions/ all the same.
# A scratch copy of the repository with lab 00 only, its labs/ the solution
# with one line added in every solution region.
handout_solved_labs() {
  local r=$CT/solved-repo lab=00-the-loop p h out
  rm -rf "$r" && mkdir -p "$r/solutions" "$r/tests" "$r/labs"
  for p in * .[!.]*; do
    case "$p" in .git | build | solutions | tests | labs) ;; *) cp -R "$p" "$r/" ;; esac
  done
  cp -R "solutions/$lab" "$r/solutions/"
  cp -R "tests/$lab" "$r/tests/"
  cp -R "solutions/$lab" "$r/labs/"
  sed -i 's|^\( *\)/\* SOLUTION BEGIN \*/$|&\n\1/* solved in the clone */|' "$r/labs/$lab"/*.c
  h=$r/build/handout
  if ! out=$(cd "$r" && tools/handout.sh build/handout 2>&1); then
    not_ok "make handout in a clone whose labs/ is solved" "$out"
  elif grep -rlq 'solved in the clone' "$h"; then
    not_ok "handout from a clone whose labs/ is solved ships the clone's code" "$(grep -rl 'solved in the clone' "$h")"
  elif ! grep -q 'TODO' "$h/book/$lab.html" || ! diff -r "labs/$lab" "$h/labs/$lab" > /dev/null; then
    not_ok "handout from a clone whose labs/ is solved: the starters, TODOs and all, in labs/ and the book"
  else
    ok "handout from a clone whose labs/ is solved: labs/ and the book show the generated starters, TODOs and all"
  fi
}

handout_tarball() { # dir
  local h=$1 first
  first=$(sha256sum < "$h.tar.gz")
  if ! tools/handout.sh "$h" > /dev/null 2>&1; then
    not_ok "make handout runs twice"
  elif [ "$(sha256sum < "$h.tar.gz")" != "$first" ]; then
    not_ok "handout tarball is the same byte for byte on a second run"
  elif [ "$(tar -tzf "$h.tar.gz" | grep -vc '/$')" -ne "$(find "$h" -type f | wc -l)" ]; then
    not_ok "handout tarball holds every file of the handout"
  else
    ok "handout tarball: every file, the same bytes on every run"
  fi
}

# make grade inside the handout: 0 everywhere, hidden tests absent and said so.
handout_grade() { # dir
  local h=$1 r=$1/build/results
  (cd "$h" && make -s grade) > "$CT/handout-grade.txt" 2>&1
  if ! jq -e '.score == 0 and .max_score > 0 and .hidden_tests_run == false and .tampered == []
              and ([.tests[] | select(.status == "pass" or .hidden)] | length == 0)
              and ([.labs[].lab] | length) >= 1' "$r/results.json" > /dev/null 2>&1; then
    not_ok "make grade in the handout: 0 on every lab, no hidden test" "$(tail -n 30 "$CT/handout-grade.txt")"
  elif ! grep -q '^Total .*  (public tests only)$' "$CT/handout-grade.txt"; then
    not_ok "make grade in the handout says: public tests only" "$(tail -n 5 "$CT/handout-grade.txt")"
  elif [ "$(jq '.labs | length' "$r/results.json")" -ne "$(labs_all "$h" | wc -l)" ]; then
    not_ok "make grade in the handout grades every lab it ships"
  else
    ok "make grade in the handout: 0/$(jq .max_score "$r/results.json") on every lab, public tests only"
  fi
}

# The public tests in the handout are the full repository's, less the hidden.
handout_same_tests() { # dir
  local full=$CT/full-00 want got
  SRC=solutions LAB=00 RESULTS=$full grader/grade.sh > /dev/null 2>&1
  want=$(jq -r '[.tests[] | select(.hidden | not) | .test] | join(" ")' "$full/results.json" 2>&1)
  got=$(jq -r '[.tests[] | select(.lab == "00-the-loop") | .test] | join(" ")' \
    "$1/build/results/results.json" 2>&1)
  if [ -n "$want" ] && [ "$want" = "$got" ] &&
     jq -e '[.tests[] | select(.hidden)] | length > 0' "$full/results.json" > /dev/null; then
    ok "handout runs lab 00's public tests; the full repository adds its hidden ones"
  else
    not_ok "handout runs lab 00's public tests" "full repository: $want"$'\n'"handout: $got"
  fi
}

handout_refuses() { # dir: targets that need solutions/ stop before touching labs/
  local h=$1 target out before
  before=$(cd "$h" && find labs -type f -exec sha256sum {} + | sort | sha256sum)
  for target in check starters gradebook; do
    if ! out=$(cd "$h" && make "$target" 2>&1) && grep -q 'needs the full repository' <<< "$out"; then
      ok "make $target in the handout says it needs the full repository"
    else
      not_ok "make $target in the handout says it needs the full repository" "$out"
    fi
  done
  [ "$(cd "$h" && find labs -type f -exec sha256sum {} + | sort | sha256sum)" = "$before" ] ||
    not_ok "handout's labs/ untouched by the refused targets"
}

handout_tamper() { # dir
  local h=$1 out
  cp -R "$h" "$CT/tampered"
  echo '/* a student was here */' >> "$CT/tampered/tests/00-the-loop/test_naps.c"
  out=$(cd "$CT/tampered" && make -s grade LAB=00 2>&1)
  if grep -q '^TAMPERED' <<< "$out" && grep -q 'tests/00-the-loop/test_naps.c (changed)' <<< "$out" &&
     jq -e '.tampered == ["tests/00-the-loop/test_naps.c"]' "$CT/tampered/build/results/results.json" \
       > /dev/null 2>&1; then
    ok "make grade in a handout with a changed test says TAMPERED, names the file in results.json"
  else
    not_ok "make grade in a handout with a changed test says TAMPERED" "$(head -n 5 <<< "$out")"
  fi
}

handout_progress() { # dir: right after make grade, from its results
  local out
  out=$(cd "$1" && make -s progress 2>&1)
  if [ "$(grep -c '^not started ' <<< "$out")" -eq "$(labs_all "$1" | wc -l)" ] &&
     grep -q '^Next: 00-the-loop: write naps_gather() at labs/00-the-loop/naps.c:' <<< "$out" &&
     grep -q '^ *read: book/00-the-loop.html#' <<< "$out" && ! grep -q 'progress: grading' <<< "$out"; then
    ok "make progress in the handout: every lab not started, the stub to write, the book's page, no re-grade"
  else
    not_ok "make progress in the handout" "$out"
  fi
}

# A handout of some labs (LABS="03 05" ships 01, 03, 04 and 05): its
# chapters and its book link none of the chapters it leaves out (02 and 06
# from chapter 05, 00 from 04, the appendix from 03 and 04).
handout_subset() {
  local h=$CT/handout-03-05
  if ! LABS="03 05" tools/handout.sh "$h" > "$h.log" 2>&1; then
    not_ok "make handout LABS=\"03 05\"" "$(cat "$h.log")"
    return
  fi
  ok "make handout LABS=\"03 05\": $(tail -n 1 "$h.log" | sed 's/^handout: //')"
  handout_markdown "$h"
  handout_book_links "$h"
}

handout_tests() {
  local h=$CT/handout
  if ! tools/handout.sh "$h" > "$CT/handout.log" 2>&1; then
    not_ok "make handout" "$(cat "$CT/handout.log")"
    return
  fi
  ok "make handout: $(tail -n 1 "$CT/handout.log" | sed 's/^handout: //')"
  handout_contents "$h"
  handout_book "$h"
  handout_book_links "$h"
  handout_markdown "$h"
  handout_readme "$h"
  handout_tarball "$h"
  handout_grade "$h"
  handout_same_tests "$h"
  handout_progress "$h"
  handout_refuses "$h"
  handout_tamper "$h"
}

# ---- the gradebook -----------------------------------------------------------

# Lab 00 as solved, as shipped, wrong, broken, hung one test, hung for good,
# inside a whole handout with a changed test, in a tarball, and not at all.
make_submissions() { # dir
  local s=$1 lab=00-the-loop
  mkdir -p "$s"/{reference,starter,mutant,broken,hangs,empty} "$s/clone/tests/$lab" "$CT/spin-subs/spins"
  cp -R "solutions/$lab" "$s/reference/"
  cp -R "labs/$lab" "$s/starter/"
  for d in mutant broken hangs clone/labs; do mkdir -p "$s/$d" && cp -R "solutions/$lab" "$s/$d/"; done
  cp -R "solutions/$lab" "$CT/spin-subs/spins/"
  patch -s -p1 -d "$s/mutant/$lab" < "tests/$lab/mutants/rank-by-wake-order.patch"
  patch -s -p1 -d "$s/hangs/$lab" < "tests/$lab/mutants/hang.patch"
  echo 'int broken(void) { return }' >> "$s/broken/$lab/naps.c"
  sed -i 's|^\( *\)/\* SOLUTION BEGIN \*/$|&\n\1for (volatile int spin = 1; spin;) {}|' "$CT/spin-subs/spins/$lab/naps.c"
  cp "tests/$lab/test_naps.c" "$s/clone/tests/$lab/"
  echo '/* easier */' >> "$s/clone/tests/$lab/test_naps.c"
  tar -czf "$s/packed.tar.gz" -C solutions "$lab"
  # Names are data: an LMS's full names, quotes, a newline, make syntax.
  # shellcheck disable=SC2016 # make's syntax, meant to stay text
  for d in "Jane O'Doe (2)" $'new\nline' 'f9$(shell touch P)'; do mkdir -p "$s/$d" && cp -R "solutions/$lab" "$s/$d/"; done
  # A tarball with a link in it is refused before anything is unpacked.
  mkdir -p "$CT/linked/$lab" && cp "solutions/$lab"/* "$CT/linked/$lab/"
  ln -sf /etc/passwd "$CT/linked/$lab/evil.c"
  tar -czf "$s/linked.tar.gz" -C "$CT/linked" "$lab"
  echo 'not gzip' > "$s/garbled.tar.gz"
  echo 'my lab is in the mail' > "$s/readme.txt"
}

# The CSV line of an entry, found by its exact (quoted) name.
line_of() { # csv entry
  awk -v e="\"$2\"," 'index($0, e) == 1' "$1"
}

# One row of the CSV (one lab column) as "status total max tampered".
row() { # csv entry
  line_of "$1" "$2" | sed -nE 's/^"([^"]|"")*","([^"]*)",[0-9]*,([0-9]*),([0-9]*),([0-9]*),".*"$/\2 \3 \4 \5/p'
}

expect_row() { # csv entry expected-status-total-max-tampered notes-pattern label
  local got notes
  got=$(row "$1" "$2")
  notes=$(line_of "$1" "$2" | sed 's/.*,"//')
  if [ "$got" = "$3" ] && grep -qE -- "$4" <<< "$notes"; then
    ok "gradebook row $2: $5"
  else
    not_ok "gradebook row $2: $5 (expected \"$3\", notes ~ /$4/)" "got \"$got\", notes: $notes"
  fi
}

expect_partial() { # csv entry max label: graded, some points but not all
  local total
  total=$(row "$1" "$2" | cut -d' ' -f2)
  if [ "${total:-0}" -gt 0 ] && [ "$total" -lt "$3" ]; then
    expect_row "$1" "$2" "ok $total $3 0" '' "$4"
  else
    not_ok "gradebook row $2: $4" "$(line_of "$1" "$2")"
  fi
}

gradebook_rows() { # csv
  local csv=$1 max
  max=$(row "$csv" reference | cut -d' ' -f3)
  expect_row "$csv" reference "ok $max $max 0" 'hidden tests: [1-9][0-9]*/[1-9]' "full marks, hidden tests included"
  expect_row "$csv" starter "ok 0 $max 0" '' "0"
  expect_partial "$csv" mutant "$max" "loses points"
  expect_partial "$csv" hangs "$max" "the hung test fails, the others count"
  expect_row "$csv" broken "incomplete 0 $max 0" '00-the-loop: does not compile' "does not compile"
  expect_row "$csv" clone "ok $max $max 1" 'tampered: tests/00-the-loop/test_naps.c \(changed\)' \
    "graded with the instructor's tests, its changed copy flagged"
  expect_row "$csv" packed.tar.gz "ok $max $max 0" '' "a tarball of a lab folder"
  expect_row "$csv" "Jane O'Doe (2)" "ok $max $max 0" '' "a name with a blank, a quote and parentheses"
  expect_row "$csv" 'new line' "ok $max $max 0" '' "a name with a newline (a blank in the CSV)"
  # shellcheck disable=SC2016 # make's syntax, meant to stay text
  expect_row "$csv" 'f9$(shell touch P)' "ok $max $max 0" '' "a name in make's syntax runs nothing"
  expect_row "$csv" linked.tar.gz "invalid 0  0" 'not a file or a folder' "a tarball holding a link"
  expect_row "$csv" garbled.tar.gz "invalid 0  0" 'bad tarball' "a bad tarball"
  expect_row "$csv" readme.txt "invalid 0  0" 'not a folder or a .tar.gz' "not a submission"
  expect_row "$csv" empty "invalid 0  0" 'no lab folders' "no lab folders"
}

gradebook_files() { # gradebook dir, submission count
  local g=$1 bad=""
  [ "$(head -n 1 "$g/gradebook.csv")" = '"submission","status","00-the-loop","total","max","tampered","notes"' ] ||
    bad="header: $(head -n 1 "$g/gradebook.csv")"
  [ "$(($(wc -l < "$g/gradebook.csv") - 1))" -eq "$2" ] || bad="$bad; $(wc -l < "$g/gradebook.csv") lines"
  for e in reference clone packed.tar.gz; do
    jq -e '.version == 3' "$g/results/$e/results.json" > /dev/null 2>&1 || bad="$bad; no results for $e"
  done
  [ -z "$(pgrep -f selftest_classroom_subs 2> /dev/null)" ] || bad="$bad; processes left running"
  [ -z "$(find . "$CT" -name P -print -quit 2> /dev/null)" ] || bad="$bad; a file named P: a name reached make or a shell"
  if [ -z "$bad" ]; then ok "gradebook: one row per submission, results kept, nothing left running"; else not_ok "gradebook files" "$bad"; fi
}

# Slices of a folder of non-submissions (no grading: quick) join into the
# same CSV as one run.
gradebook_shards() {
  local s=$CT/shard-subs g=$CT/gb-shard whole
  mkdir -p "$s"
  for n in alpha beta gamma delta epsilon; do echo x > "$s/$n.txt"; done
  for k in 1 2; do
    SUBMISSIONS=$s SHARD=$k/2 LAB=00 GRADEBOOK=$g$k tools/gradebook.sh > /dev/null 2>&1
  done
  SUBMISSIONS=$s LAB=00 GRADEBOOK=${g}all tools/gradebook.sh > /dev/null 2>&1
  PARTS="${g}1 ${g}2" GRADEBOOK=${g}merged tools/gradebook-merge.sh > /dev/null 2>&1
  whole=$(cat "${g}all/gradebook.csv" 2>&1)
  if [ "$(wc -l < "${g}1/gradebook.csv")" -eq 4 ] && [ "$(wc -l < "${g}2/gradebook.csv")" -eq 3 ] &&
     [ "$(cat "${g}merged/gradebook.csv" 2>&1)" = "$whole" ]; then
    ok "gradebook SHARD=1/2 and 2/2 split the submissions; gradebook-merge joins them into the whole"
  else
    not_ok "gradebook shards and merge" "$(cat "${g}1/gradebook.csv" "${g}2/gradebook.csv" "${g}merged/gradebook.csv" 2>&1)"
  fi
  if ! PARTS="${g}1" GRADEBOOK=${g}bad tools/gradebook-merge.sh > /dev/null 2>&1 &&
     ! PARTS="${g}1 ${g}1" GRADEBOOK=${g}bad tools/gradebook-merge.sh > /dev/null 2>&1; then
    ok "gradebook-merge refuses a missing or repeated slice"
  else
    not_ok "gradebook-merge refuses a missing or repeated slice"
  fi
}

gradebook_tests() {
  local s=$CT/subs g=$CT/gradebook
  make_submissions "$s"
  # Short test timeouts keep the hung submissions quick; the time limit
  # is far above what the others need, far below what "spins" would.
  SUBMISSIONS=$s LAB=00 JOBS=2 TIMEOUT_SCALE=0.4 SUBMISSION_TIMEOUT=40 GRADEBOOK=$g \
    tools/gradebook.sh > "$CT/gradebook.log" 2>&1
  if [ ! -f "$g/gradebook.csv" ]; then
    not_ok "make gradebook writes gradebook.csv" "$(cat "$CT/gradebook.log")"
    return
  fi
  gradebook_files "$g" 14
  gradebook_rows "$g/gradebook.csv"
  gradebook_time_limit
  gradebook_shards
}

# A submission whose every test spins, graded with per-test timeouts far
# longer than the whole-submission limit: the limit must stop it, however
# fast or slow the machine (a race between the two would be a flaky test).
gradebook_time_limit() {
  local g=$CT/gb-spins
  SUBMISSIONS=$CT/spin-subs LAB=00 JOBS=1 TIMEOUT_SCALE=100 SUBMISSION_TIMEOUT=4 GRADEBOOK=$g \
    tools/gradebook.sh > "$CT/gb-spins.log" 2>&1
  # Whether the limit falls during the build (no maximum known yet) or the
  # tests (0 of 0 graded by then) depends on the machine: both are a timeout
  # with no points.
  local got
  got=$(row "$g/gradebook.csv" spins)
  case "$got" in
    "timeout 0 0 0" | "timeout 0  0") expect_row "$g/gradebook.csv" spins "$got" 'grading took longer than 4 s' "stopped at the time limit" ;;
    *) not_ok "gradebook row spins: stopped at the time limit" "got \"$got\": $(line_of "$g/gradebook.csv" spins)" ;;
  esac
  [ -z "$(pgrep -f "$g" 2> /dev/null)" ] || not_ok "gradebook row spins: nothing left running" "$(pgrep -af "$g")"
}

# ---- make watch --------------------------------------------------------------

# Runs watch on a copy of lab 00, saves a file once the first grade is shown,
# and expects a second grade.
watch_once() { # how (inotify|polling)
  local w=$CT/watch-$1 out=$CT/watch-$1.out pid
  mkdir -p "$w"
  cp -R labs/00-the-loop "$w/"
  ( [ "$1" = polling ] && export WATCH_POLL=1
    SRC=$w LAB=00 WATCH_MAX=2 RESULTS=$w-results exec timeout 60 tools/watch.sh ) > "$out" 2>&1 &
  pid=$!
  for _ in $(seq 300); do grep -q '^watching' "$out" && break; sleep 0.1; done
  echo '/* saved */' >> "$w/00-the-loop/naps.c"
  if wait "$pid" && [ "$(grep -c '^Total' "$out")" -eq 2 ] && grep -q "($1)" "$out" &&
     grep -q 'read: ' "$out" && grep -q '^Next: 00-the-loop: write naps_gather() at' "$out"; then
    ok "make watch ($1) re-grades after a save, showing the first failing test and the stub to write"
  else
    not_ok "make watch ($1) re-grades after a save" "$(tail -n 20 "$out")"
  fi
}

watch_tests() {
  command -v inotifywait > /dev/null && watch_once inotify
  watch_once polling
}

# The parts in groups, as make check runs them side by side (each a job):
# "title|what the group reads (tools/selftest.sh's scope; empty: every
# file)|its parts".
CLASSROOM_GROUPS=(
  "classroom: the CI templates, the handout||ci_templates handout_tests"
  "classroom: the handouts of a solved clone and of two labs||handout_solved_labs handout_subset"
  "classroom: the gradebook|00-the-loop|gradebook_tests"
  "classroom: make watch|00-the-loop|watch_tests"
)

classroom_tests() {
  local group parts p
  step "classroom: handout, gradebook, CI templates, watch, progress"
  rm -rf "$CT" && mkdir -p "$CT"
  for group in "${CLASSROOM_GROUPS[@]}"; do
    parts=${group##*|}
    for p in $parts; do "$p"; done
  done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  cd "$(dirname "$0")/.." || exit 2
  # shellcheck source=grader/labs.sh
  . grader/labs.sh
  passed=0 failed=0
  ok() { passed=$((passed + 1)); printf '  ok    %s\n' "$1"; }
  not_ok() {
    failed=$((failed + 1)); printf '  FAIL  %s\n' "$1"
    [ -n "${2:-}" ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/        /'
    return 0
  }
  step() { printf '\n== %s\n' "$1"; }
  make -s --no-print-directory libs || exit 2
  if [ $# -gt 0 ]; then  # one part, e.g. gradebook_tests
    rm -rf "$CT" && mkdir -p "$CT" && "$@"
  else
    classroom_tests
  fi
  printf '%d passed, %d failed\n' "$passed" "$failed"
  [ "$failed" -eq 0 ]
fi
