#!/usr/bin/env bash
# solution-names.sh LAB — the names only the reference solution of LAB has.
#
# Identifiers in the code (not the comments) of the SOLUTION BEGIN/END
# regions of solutions/LAB/*.c that appear nowhere in the starter the
# student gets (labs/LAB/, or BOOK_LABS/LAB: every header and every stub,
# and the headers of the labs it uses),
# nor in the helper layer, libuv's or the C library's headers (the names a
# chapter teaches with): one per line. A students'-edition page that names
# one of them describes the solution; book/check.sh fails on it.
set -uo pipefail
lab=${1:?usage: solution-names.sh LAB}
cd "$(dirname "$0")/.." || exit 2
starter=${BOOK_LABS:-labs}/$lab
[ -d "solutions/$lab" ] && [ -d "$starter" ] || exit 0
idents() { grep -ohE '\b[A-Za-z_][A-Za-z0-9_]*\b' "$@" 2> /dev/null | sort -u; }
solution_code() { # the regions, comments and strings dropped
  awk '/SOLUTION BEGIN/ { on = 1; next } /SOLUTION END/ { on = 0 } on' solutions/"$lab"/*.c |
    perl -0pe 's{/\*.*?\*/}{}gs; s{//[^\n]*}{}g; s{"(\\.|[^"\\])*"}{""}g'
}
known=$(mktemp)
trap 'rm -f "$known"' EXIT
# shellcheck source=grader/labs.sh
. grader/labs.sh
uses=$(labs_used_by "$lab" solutions | while IFS= read -r u; do echo "${BOOK_LABS:-labs}/$u"/*.h; done)
# shellcheck disable=SC2086 # uses: header paths, no blanks
idents "$starter"/*.[ch] $uses helpers/*.h /usr/include/*.h /usr/include/uv*.h /usr/include/uv/*.h \
  /usr/include/*/bits/*.h > "$known"
solution_code | idents - | grep -E '^.{4,}$' | comm -23 - "$known"
