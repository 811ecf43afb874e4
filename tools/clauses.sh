#!/usr/bin/env bash
# clauses.sh LAB [--table] — a lab's contract clauses and the tests that name them.
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
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lab=${1:?usage: clauses.sh LAB [--table]}
table=${2:-}
cd "$root" || exit 2

# "id" per clause, in header order.
header_clauses() {
  sed -n 's/^ *\*  *\(- *\)\{0,1\}\[\([a-z][a-z0-9_]*\.[0-9][0-9]*\)\].*/\2/p' solutions/"$lab"/*.h
}

# "test<TAB>clause ids" per graded test (ids empty when it names none).
test_clauses() {
  awk '
    /GRADE_TEST\(/ { if (name != "") print name "\t" ids
                     name = $0; sub(/.*GRADE_TEST\(/, "", name); sub(/[,)].*/, "", name); ids = ""; open = 1 }
    open && /\.clauses *= *"/ { s = $0; sub(/.*\.clauses *= *"/, "", s); sub(/".*/, "", s); ids = s }
    open && /^\{/ { print name "\t" ids; name = ""; open = 0 }
    END { if (name != "") print name "\t" ids }
  ' tests/"$lab"/*.c $(ls tests/"$lab"/hidden/*.c 2> /dev/null)
}

problems=0
problem() { echo "clauses: $lab: $*" >&2; problems=$((problems + 1)); }

declared=$(header_clauses)
[ -n "$(printf '%s' "$declared" | sort | uniq -d)" ] &&
  problem "a clause id is used twice in the headers: $(printf '%s\n' "$declared" | sort | uniq -d | tr '\n' ' ')"
named=$(test_clauses)
while IFS=$'\t' read -r test ids; do
  [ -n "$test" ] || continue
  [ -n "$ids" ] || problem "test $test names no clause (.clauses = \"...\")"
  for id in $ids; do
    printf '%s\n' "$declared" | grep -qxF -- "$id" || problem "test $test names clause $id, which no header of solutions/$lab declares"
  done
done <<< "$named"
for id in $declared; do
  tests=$(awk -F'\t' -v id="$id" '{ n = split($2, a, " "); for (i = 1; i <= n; i++) if (a[i] == id) print $1 }' <<< "$named" | tr '\n' ' ')
  [ -n "$tests" ] || problem "clause $id has no test"
  [ -z "$table" ] || printf '  %-10s %s\n' "$id" "${tests:-(none)}"
done
[ "$problems" -eq 0 ]
