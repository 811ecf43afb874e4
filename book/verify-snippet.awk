# verify-snippet.awk — proves one code block of the book is its source's code.
#
#   awk -v snippet=NAME -v file=PATH -f book/verify-snippet.awk BLOCK.txt PATH
#
# Passes (exit 0) when the block's lines are exactly the lines of PATH between
# `$begin NAME` and `$end NAME` (the whole file when NAME is empty), in order,
# with only the marker lines left out ($begin/$end of any name, SOLUTION
# BEGIN/END, STARTER:), leading and trailing blank lines trimmed, and every
# line shifted left by the same run of blanks. Otherwise prints the first
# difference and exits 1. Written apart from include-code.lua on purpose: it
# checks the filter's output, not its code.

FILENAME == ARGV[1] { blk[++nb] = $0; next }
{ src[++ns] = $0 }

function marker(s) {
  return s ~ /^[ \t]*\/\*[ \t]*\$(begin|end)[ \t]+[A-Za-z0-9_.-]+[ \t]*\*\/[ \t]*$/ ||
         s ~ /^[ \t]*#[ \t]*\$(begin|end)[ \t]+[A-Za-z0-9_.-]+[ \t]*$/ ||
         s ~ /^[ \t]*\/\*[ \t]*SOLUTION (BEGIN|END)[ \t]*\*\/[ \t]*$/ ||
         s ~ /^[ \t]*\/\*[ \t]*STARTER:.*\*\/[ \t]*$/
}

# The name a marker line of kind ("begin" or "end") names, or "".
function marks(s, kind,   t) {
  if (!marker(s) || s !~ ("\\$" kind "[ \t]")) return ""
  t = s
  sub("^.*\\$" kind "[ \t]+", "", t)
  sub(/[ \t]*(\*\/)?[ \t]*$/, "", t)
  return t
}

function differ(msg) {
  printf "%s%s: %s\n", file, (snippet != "" ? " snippet \"" snippet "\"" : ""), msg
  bad = 1
  exit 1
}

function blank(s) { return s ~ /^[ \t]*$/ }

END {
  if (bad) exit 1
  first = 1; last = ns
  if (snippet != "") {
    first = 0; last = 0
    for (i = 1; i <= ns; i++) {
      if (marks(src[i], "begin") == snippet && !first) first = i + 1
      else if (marks(src[i], "end") == snippet && first && !last) last = i - 1
    }
    if (!first || !last) differ("no region between $begin and $end in the file")
  }
  n = 0
  for (i = first; i <= last; i++)
    if (!marker(src[i])) { want[++n] = src[i]; at[n] = i }
  lo = 1; while (lo <= n && blank(want[lo])) lo++
  hi = n; while (hi >= lo && blank(want[hi])) hi--
  if (hi - lo + 1 != nb)
    differ("the block has " nb " lines, the source's region has " (hi - lo + 1) " code lines")
  p = length(want[lo]) - length(blk[1])
  prefix = substr(want[lo], 1, p)
  for (k = 1; k <= nb; k++) {
    w = want[lo + k - 1]; b = blk[k]
    if (b == "" ? !blank(w) : (p < 0 || prefix !~ /^[ \t]*$/ || substr(w, 1, p) != prefix || substr(w, p + 1) != b))
      differ("block line " k " is not line " at[lo + k - 1] " of the file:\n  block: " b "\n  file:  " w)
  }
}
