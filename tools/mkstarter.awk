# mkstarter.awk — turns a solution file into its starter file.
#
#   /* SOLUTION BEGIN */ ... /* SOLUTION END */   removed (the student's part)
#   /* STARTER: text */                          becomes "text", same indent;
#                                               allowed only right after an END
# Every other line is copied. Nested, unbalanced or misplaced markers are
# errors (exit 1, message naming file and line), never a silent half-starter.

function fail(msg) {
  printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"
  failed = 1
  exit 1
}

/SOLUTION BEGIN/ {
  if ($0 !~ /^[ \t]*\/\* SOLUTION BEGIN \*\/[ \t]*$/) fail("malformed SOLUTION BEGIN marker")
  if (inside) fail("nested SOLUTION BEGIN (the region opened at line " begin_line " is not closed)")
  inside = 1; begin_line = FNR; after_end = 0; regions++
  next
}
/SOLUTION END/ {
  if ($0 !~ /^[ \t]*\/\* SOLUTION END \*\/[ \t]*$/) fail("malformed SOLUTION END marker")
  if (!inside) fail("SOLUTION END without SOLUTION BEGIN")
  inside = 0; after_end = 1
  next
}
/STARTER:/ {
  if ($0 !~ /^[ \t]*\/\* STARTER: .*\*\/[ \t]*$/) fail("malformed STARTER line")
  if (inside) fail("STARTER line inside a SOLUTION region")
  if (!after_end) fail("STARTER line must follow SOLUTION END or another STARTER line")
  indent = $0; sub(/[^ \t].*$/, "", indent)
  text = $0; sub(/^[ \t]*\/\* STARTER: /, "", text); sub(/ *\*\/[ \t]*$/, "", text)
  print indent text
  next
}
{
  after_end = 0
  if (!inside) print
}
END {
  if (failed) exit 1
  if (inside) { FNR = begin_line; fail("SOLUTION BEGIN is never closed") }
}
