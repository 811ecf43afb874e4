# timeline.awk — draws a demo's trace as an SVG timeline for the book.
#
#   awk -f book/timeline.awk -v title="Lab 00" trace.csv > timeline.svg
#
# Input: the CSV of ap_trace_write_csv (header "ms,event,id,value", rows in
# the order they were recorded). Output, time across:
#   - one row per operation id, a bar from the id's first event to its last,
#     a dot per event coloured by event name (hover shows name and time);
#   - below, the in-flight count: an id counts from its first event until its
#     last one (a single-event id is never in flight).
# Exits 1 (and writes nothing) on a malformed or empty trace.
# POSIX awk only (the book builds with Debian's mawk).

BEGIN {
  FS = ","
  W = 720; L = 64; R = 20          # width and the left/right margins
  split("#1f77b4 #d62728 #2ca02c #ff7f0e #9467bd #8c564b #e377c2 #17becf", palette, " ")
}

NR == 1 {
  if ($0 !~ /^ms,event,id,value/) fail("the first line is not ms,event,id,value")
  next
}

NF != 4 || $1 !~ /^[0-9.]+$/ || $3 !~ /^-?[0-9]+$/ { fail("line " NR " is not ms,event,id,value") }

{
  n++
  t[n] = $1 + 0; ev[n] = $2; id[n] = $3
  if (!($3 in first)) { first[$3] = n; ids[++nids] = $3; row[$3] = nids }
  last[$3] = n
  if (!($2 in color)) { names[++nnames] = $2; color[$2] = palette[(nnames - 1) % 8 + 1] }
  if (t[n] > tmax) tmax = t[n]
}

END {
  if (failed) exit 1
  if (n == 0) fail("the trace has no events")
  scale()
  rh = nids <= 16 ? 22 : (nids <= 100 ? int(352 / nids) : 3)
  if (rh < 3) rh = 3
  top = 34; rows_h = nids * rh; gap = 20; flight_h = 70
  base = top + rows_h + gap + flight_h
  H = base + 34
  header()
  legend()
  grid()
  bars()
  in_flight()
  print "</svg>"
}

function fail(msg) {
  print "timeline.awk: " FILENAME ": " msg > "/dev/stderr"
  failed = 1
  exit 1
}

function esc(s) {
  gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); gsub(/"/, "\\&quot;", s)
  return s
}

# A round tick step giving 4 to 10 ticks, and the axis end.
function scale(   raw, mag, m) {
  if (tmax <= 0) tmax = 1
  raw = tmax / 8
  mag = exp(log(10) * int(log(raw) / log(10) + (raw < 1 ? -1 : 0)))
  step = mag * 10
  if (mag * 1 >= raw) step = mag; else if (mag * 2 >= raw) step = mag * 2; else if (mag * 5 >= raw) step = mag * 5
  tend = step * int(tmax / step + 0.999999)
  if (tend < tmax) tend += step
}

function x(ms) { return L + (W - L - R) * ms / tend }

function header() {
  printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" ", W, H, W, H
  print "font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\" font-size=\"12\">"
  printf "<title>%s: %d operations, %d events over %.1f ms</title>\n", esc(title), nids, n, tmax
  printf "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", W, H
}

function legend(   i, lx) {
  lx = L
  for (i = 1; i <= nnames; i++) {
    printf "<circle cx=\"%.1f\" cy=\"14\" r=\"4\" fill=\"%s\"/>", lx + 4, color[names[i]]
    printf "<text x=\"%.1f\" y=\"18\" fill=\"#333333\">%s</text>\n", lx + 12, esc(names[i])
    lx += 24 + 7.5 * length(names[i])
  }
}

function grid(   v, gx) {
  for (v = 0; v <= tend + step / 1000; v += step) {
    gx = x(v)
    printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e4e4e4\"/>", gx, top - 6, gx, base
    printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555555\">%s</text>\n", gx, base + 16, num(v)
  }
  printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888888\"/>\n", L, base, W - R, base
  printf "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#555555\">ms</text>\n", W - R, base + 30
}

function num(v) { return (v == int(v)) ? sprintf("%d", v) : sprintf("%g", v) }

function bars(   i, k, y, x0, x1, every) {
  every = rh >= 12 ? 1 : int(12 / rh) + 1
  for (k = 1; k <= nids; k++) {
    y = top + (k - 1) * rh
    x0 = x(t[first[ids[k]]]); x1 = x(t[last[ids[k]]])
    if (x1 - x0 < 2) x1 = x0 + 2
    printf "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"2\" fill=\"#c6dbef\" stroke=\"#6baed6\"/>",
      x0, y + rh * 0.2, x1 - x0, rh * 0.6
    if ((k - 1) % every == 0)
      printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#333333\">id %s</text>", L - 8, y + rh / 2 + 4, esc(ids[k])
    print ""
  }
  for (i = 1; i <= n; i++) {
    y = top + (row[id[i]] - 1) * rh + rh / 2
    printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"><title>%s:%s at %.3f ms</title></circle>\n",
      x(t[i]), y, (rh >= 12 ? 4 : rh / 3), color[ev[i]], esc(ev[i]), esc(id[i]), t[i]
  }
}

# The step plot of ids begun and not yet ended.
function in_flight(   i, c, cmax, y0, path, yy) {
  for (i = 1; i <= n; i++) {
    if (first[id[i]] == i && last[id[i]] != i) c++
    if (last[id[i]] == i && first[id[i]] != i) c--
    if (c > cmax) cmax = c
  }
  if (cmax == 0) cmax = 1
  y0 = base
  path = sprintf("M%.1f %.1f", x(0), y0)
  c = 0
  for (i = 1; i <= n; i++) {
    if (first[id[i]] == i && last[id[i]] != i) c++
    if (last[id[i]] == i && first[id[i]] != i) c--
    yy = y0 - (flight_h - 8) * c / cmax
    path = path sprintf(" H%.1f V%.1f", x(t[i]), yy)
  }
  path = path sprintf(" H%.1f V%.1f Z", x(tend), y0)
  printf "<path d=\"%s\" fill=\"#fdd0a2\" stroke=\"#e6550d\" stroke-width=\"1.5\"/>\n", path
  printf "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#333333\">in flight</text>\n", L - 8, base - flight_h / 2 + 4
  printf "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#555555\">%d</text>\n", L - 8, base - flight_h + 12, cmax
  printf "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#555555\">0</text>\n", L - 8, base
}
