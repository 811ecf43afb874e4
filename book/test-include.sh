#!/usr/bin/env bash
# test-include.sh — include-code.lua cuts what it should and refuses the rest.
#
# Runs the filter on one-block documents against book/fixtures/snippets.c:
# a nested, indented snippet comes out dedented without markers, and a
# missing file, snippet or end marker and a duplicate begin each stop pandoc
# with exit 83 and a message naming the file and the snippet.
# Prints one line per failed case; exits 1 if any failed.
set -uo pipefail

fx=book/fixtures/snippets.c
status=0
err=$(mktemp)
trap 'rm -f "$err"' EXIT

block() { # include snippet: a document of one included block
  # shellcheck disable=SC2016 # the backquotes are Markdown's, not a command
  printf '```{.c include="%s" snippet="%s"}\n```\n' "$1" "$2" |
    pandoc -f markdown -t json -L book/include-code.lua
}

run() { # include snippet -> the block's text on stdout, messages on stderr
  block "$1" "$2" | jq -r '.. | objects | select(.t? == "CodeBlock") | .c[1]'
}

expect_text() { # snippet expected
  local got
  got=$(run "$fx" "$1" 2>&1)
  [ "$got" = "$2" ] || { printf 'include %s: expected\n%s\ngot\n%s\n' "$1" "$2" "$got"; status=1; }
}

expect_refusal() { # file snippet words...
  local file=$1 snippet=$2 rc
  shift 2
  block "$file" "$snippet" > /dev/null 2> "$err"
  rc=$?
  [ "$rc" = 83 ] || { echo "include $file $snippet: pandoc exited $rc, expected 83"; status=1; }
  for w in "$file" "$snippet" "$@"; do
    case "$(cat "$err")" in
      *"$w"*) ;;
      *) echo "include $file $snippet: the message does not name \"$w\": $(cat "$err")"; status=1 ;;
    esac
  done
}

expect_text fx-indented $'if (x) {\n    y();\n\n    z();\n}'
expect_text fx-inner 'y();'
expect_refusal book/fixtures/missing.c fx-inner "cannot open"
expect_refusal "$fx" fx-missing "no line /* \$begin fx-missing */"
expect_refusal "$fx" fx-open "no line /* \$end fx-open */"
expect_refusal "$fx" fx-twice "a second /* \$begin fx-twice */"
# The students' edition: solutions/x is shown as labs/x, read from BOOK_LABS/x.
student_labs() {
  local labs got
  labs=$(mktemp -d)
  mkdir -p "$labs/fx"
  sed 's/y();/y_starter();/' "$fx" > "$labs/fx/snippets.c"
  got=$(BOOK_EDITION=student BOOK_LABS=$labs block solutions/fx/snippets.c fx-inner 2>&1 |
    jq -r '.. | objects | select(.t? == "CodeBlock") | .c
           | [(.[0][2][] | select(.[0] == "include") | .[1]), .[1]] | join(" ")' 2>&1)
  rm -rf "$labs"
  [ "$got" = "labs/fx/snippets.c y_starter();" ] ||
    { echo "students' edition, BOOK_LABS: expected \"labs/fx/snippets.c y_starter();\", got \"$got\""; status=1; }
}
student_labs
[ "$status" -eq 0 ] && echo "include-code.lua: 3 cuts right (one from BOOK_LABS), 4 refusals stop the build (exit 83)"
exit "$status"
