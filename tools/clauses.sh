#!/usr/bin/env bash
# clauses.sh LAB [--table|--markdown] — a lab's contract clauses and the tests that name them.
#
# A clause is one rule of a lab's headers (solutions/LAB/*.h), written as a
# comment line that starts with its id in brackets:
#     *  [sem.3] No callback ever runs inside acquire, release or cancel.
# A graded test names the clauses it checks in its declaration:
#     GRADE_TEST(release_grants_later, .points = 2, .clauses = "sem.3 sem.4", ...)
# Public tests (tests/LAB/*.c) and hidden ones (tests/LAB/hidden/*.c) count.
#
# Prints "clause<TAB>tests" per clause (with --table, for make check) and one
# line per problem on stderr: a clause no test names, a test that names a
# clause that does not exist, a test that names none. Exit 1 on a problem.
# With --tests, prints instead "test<TAB>clause ids<TAB>points<TAB>hidden" per
# graded test (tools/mutate.py counts kills per clause with it).
# With --markdown, prints instead the chapter's table of graded tests (the
# book's `::: {.grader-table}` div): each public test, its points and its
# clauses, then how many hidden tests there are (never their names).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lab=${1:?usage: clauses.sh LAB [--table]}
table=${2:-}
cd "$root" || exit 2

# "id" per clause, in header order.
header_clauses() {
  sed -n 's/^ *\*  *\(- *\)\{0,1\}\[\([a-z][a-z0-9_]*\.[0-9][0-9]*\)\].*/\2/p' solutions/"$lab"/*.h
}

# "test<TAB>clause ids<TAB>points<TAB>hidden" per graded test (ids empty
# when it names none; hidden 1 for tests/LAB/hidden/).
test_declarations() {
  local hidden=()
  [ -d tests/"$lab"/hidden ] && hidden=(tests/"$lab"/hidden/*.c)
  awk '
    function flush() { if (name != "") print name "\t" ids "\t" points "\t" (FILENAME ~ /\/hidden\//); name = "" }
    FNR == 1 { flush() }
    /GRADE_TEST\(/ { flush(); name = $0; sub(/.*GRADE_TEST\(/, "", name); sub(/[,)].*/, "", name)
                     ids = ""; points = 0; open = 1 }
    open && /\.clauses *= *"/ { s = $0; sub(/.*\.clauses *= *"/, "", s); sub(/".*/, "", s); ids = s }
    open && /\.points *= *[0-9]/ { s = $0; sub(/.*\.points *= */, "", s); points = s + 0 }
    open && /^\{/ { flush(); open = 0 }
    END { flush() }
  ' tests/"$lab"/*.c "${hidden[@]}"
}

# The clauses as a list, "- **id** text", each clause's lines joined.
clause_list() {
  local h
  for h in solutions/"$lab"/*.h; do
    awk -v file="${h##*/}" '
      # The header is plain text: Markdown punctuation in it is escaped.
      function md(s) { gsub(/[][\\`*_<>$^~@#|]/, "\\\\&", s); return s }
      function flush() { if (id != "") printf "- **%s** (`%s`) %s\n", id, file, md(text); id = "" }
      /^ *\*  *(- *)?\[[a-z][a-z0-9_]*\.[0-9]+\]/ {
        flush(); id = $0; sub(/^[^[]*\[/, "", id); sub(/\].*/, "", id)
        text = $0; sub(/^[^]]*\] */, "", text); next }
      id != "" && /^ *\*   +[^ ]/ { t = $0; sub(/^ *\* +/, "", t); text = text " " t; next }
      { flush() }
      END { flush() }' "$h"
  done
}

# The chapter's table: public tests in declaration order, hidden ones counted.
markdown_table() {
  printf '| test | points | clauses it checks |\n|---|---|---|\n'
  awk -F'\t' '$4 == 0 { printf "| `%s` | %s | %s |\n", $1, $3, $2 }
               $4 == 1 { n++; p += $3 }
               END { if (n) printf "\nAnd %d hidden test%s (%d point%s), run by the instructor'"'"'s grader only.\n", n, n == 1 ? "" : "s", p, p == 1 ? "" : "s" }'
}

problems=0
problem() { echo "clauses: $lab: $*" >&2; problems=$((problems + 1)); }

if [ "$table" = --tests ]; then
  test_declarations
  exit 0
fi
if [ "$table" = --markdown ]; then
  clause_list
  printf '\n'
  test_declarations | markdown_table
  exit 0
fi
declared=$(header_clauses)
[ -n "$(printf '%s' "$declared" | sort | uniq -d)" ] &&
  problem "a clause id is used twice in the headers: $(printf '%s\n' "$declared" | sort | uniq -d | tr '\n' ' ')"
named=$(test_declarations)
while IFS=$'\t' read -r test ids _; do
  [ -n "$test" ] || continue
  [ -n "$ids" ] || problem "test $test names no clause (.clauses = \"...\")"
  for id in $ids; do
    # A match in bash, not `printf | grep -q`: under pipefail grep's early exit
    # can kill printf with SIGPIPE and fail a clause that exists.
    [[ $'\n'$declared$'\n' == *$'\n'"$id"$'\n'* ]] || problem "test $test names clause $id, which no header of solutions/$lab declares"
  done
done <<< "$named"
for id in $declared; do
  tests=$(awk -F'\t' -v id="$id" '{ n = split($2, a, " "); for (i = 1; i <= n; i++) if (a[i] == id) print $1 }' <<< "$named" | tr '\n' ' ')
  [ -n "$tests" ] || problem "clause $id has no test"
  [ -z "$table" ] || printf '  %-10s %s\n' "$id" "${tests:-(none)}"
done
[ "$problems" -eq 0 ]
