#!/usr/bin/env bash
# objcheck.sh — a lab's objects, checked before they are linked into the test program.
#
#   grader/objcheck.sh OUT STAGE LAB MODE     (from the repository's root)
#
# Every object compiled from the lab's staged sources and from the labs it
# uses (mk/lab.mk) is refused when it
#  - runs code before or after main: sections .init_array, .fini_array,
#    .preinit_array, .ctors, .dtors, .init, .fini, or an ifunc resolver
#    (under MODE=asan, the compiler's own AddressSanitizer constructor, which
#    calls nothing but the sanitizer, is let through);
#  - calls or uses a name from outside the lab that grader/allowed-symbols.txt
#    does not list for it (exit, syscall, fork, ...);
#  - makes system calls itself (a syscall instruction);
#  - was compiled from a file outside the staged folders (an #include of
#    "../../solutions/…" or of an absolute path), system headers aside.
# Prints one line per finding, "path<TAB>what" escaped as in record files,
# for RESULTS/tampered.txt; exits 1 when there is one. GRADE_SRC: as in mk/lab.mk.
# shellcheck disable=SC2317 # the checks below are called through checked()
set -uo pipefail

OUT=$1 STAGE=$2 LAB=$3 MODE=$4
SHOWN=${GRADE_SRC:-labs}
ALLOWED=grader/allowed-symbols.txt
found=0

field() { # text -> escaped as in record files
  local s=${1//\\/\\\\}
  s=${s//$'\t'/\\t}
  printf '%s' "${s//$'\n'/\\n}"
}

flag() { printf '%s\t%s\n' "$(field "$1")" "$(field "$2")"; found=1; }

# "object lab shown-source" for each staged source (names checked by stage.sh).
objects() {
  local c lab
  for c in "$STAGE"/lab/*.c; do
    [ -e "$c" ] && [ "${c##*/}" != demo.c ] &&
      echo "$OUT/lab/$(basename "$c" .c).o $LAB $SHOWN/$LAB/${c##*/}"
  done
  for c in "$STAGE"/uses/*/*.c; do
    lab=$(basename "$(dirname "$c")")
    [ -e "$c" ] && [ "${c##*/}" != demo.c ] &&
      echo "$OUT/uses/$lab/$(basename "$c" .c).o $lab $SHOWN/$lab/${c##*/}"
  done
}

# Each tool runs once over every object (a grading checks hundreds of
# objects in a gradebook); awk splits its output back per object. A finding
# is printed as "index<TAB>order<TAB>message" so that one object's findings
# come together, in the order of the checks below.

# The undefined names that no lab object defines and the list does not
# allow for the object's lab.
forbidden_names() { # objects-file defined-file
  nm -A -u "${objs[@]}" 2> /dev/null | awk -v objects="$1" -v defined="$2" -v allowed="$ALLOWED" '
    BEGIN {
      while ((getline line < objects) > 0) { split(line, o, " "); idx[o[1]] = ++n; lab[o[1]] = o[2] }
      while ((getline line < defined) > 0) def[line] = 1
      while ((getline line < allowed) > 0) {
        if (line ~ /^[ \t]*(#|$)/) continue
        k = split(line, f, /[ \t]+/)
        is_prefix = f[1] ~ /\*$/
        name = is_prefix ? substr(f[1], 1, length(f[1]) - 1) : f[1]
        if (k == 1) { if (is_prefix) prefix[name] = 1; else exact[name] = 1 }
        for (i = 2; i <= k; i++) if (is_prefix) lab_prefix[f[i], name] = 1; else lab_exact[f[i], name] = 1
      }
    }
    function is_allowed(s, l,   p) {
      if (s in exact || (l, s) in lab_exact) return 1
      for (p in prefix) if (index(s, p) == 1) return 1
      for (p in lab_prefix) { split(p, q, SUBSEP); if (q[1] == l && index(s, q[2]) == 1) return 1 }
      return 0
    }
    NF >= 2 {
      obj = $1; sub(/:$/, "", obj); s = $NF
      if (!(obj in idx) || s in def || is_allowed(s, lab[obj])) next
      printf "%d\t1\tcalls %s, which lab code may not (grader/allowed-symbols.txt)\n", idx[obj], s
    }'
}

# Sections that run code around main ("index section"), the sanitizer's own
# included: init_sections sorts those out.
around_main_sections() { # objects-file
  readelf -SW "${objs[@]}" 2> /dev/null | awk -v objects="$1" '
    BEGIN { while ((getline line < objects) > 0) { split(line, o, " "); idx[o[1]] = ++n; obj = o[1] } }
    /^File: / { obj = $2; next } # printed only when there are several
    match($0, /^ *\[ *[0-9]+\] [^ ]+/) {
      sec = substr($0, RSTART, RLENGTH); sub(/^ *\[ *[0-9]+\] /, "", sec)
      if (obj in idx && sec ~ /^\.(preinit_array|init_array|fini_array|ctors|dtors|init|fini)(\.|$)/)
        print idx[obj], sec
    }'
}

init_sections() { # objects-file
  local i sec asan_ok=()
  while read -r i sec; do
    if [ "$MODE" = asan ] && [[ $sec =~ ^\.(init|fini)_array\.00099$ ]]; then
      [ -n "${asan_ok[i]:-}" ] || { asan_ctor_only "${objs[i - 1]}" && asan_ok[i]=yes || asan_ok[i]=no; }
      [ "${asan_ok[i]}" = yes ] && continue
    fi
    printf '%d\t2\thas code that runs before or after main (%s), which lab code may not\n' "$i" "$sec"
  done < <(around_main_sections "$1")
}

# Under ASan the compiler adds a constructor and a destructor (priority 99)
# that register the object's globals; a lab's own constructor of that
# priority is merged into the same function. Accepted only when every
# function these sections point at calls the sanitizer's runtime alone.
asan_ctor_only() { # obj
  local targets
  targets=$(readelf -rW "$1" | awk '
    /^Relocation section/ { on = $3 ~ /^.\.rela\.(init|fini)_array/ ; next }
    on && NF >= 5 && $1 ~ /^[0-9a-f]+$/ { print $5 "+" ($7 == "" ? "0" : $7) }')
  objdump -dr --no-show-raw-insn "$1" | awk -v targets="$targets" '
    BEGIN { n = split(targets, t, "\n"); for (i = 1; i <= n; i++) want[t[i]] = 1; bad = 0 }
    /^Disassembly of section/ { sec = $4; sub(/:$/, "", sec); infn = 0; next }
    /^[0-9a-f]+ <.*>:$/ {
      addr = $1; sub(/^0+/, "", addr); if (addr == "") addr = "0"
      name = $2; gsub(/[<>:]/, "", name)
      infn = (sec "+" addr) in want || (name "+0") in want
      if (infn) seen++
      next
    }
    !infn { next }
    /R_[A-Z0-9_]+/ { s = $NF; sub(/[-+]0x[0-9a-f]+$/, "", s)
      if (s !~ /^(__asan_|__ubsan_|\.data|\.bss|\.rodata)/) bad = 1; next }
    /\t(call|jmp)[a-z]*[ \t]+\*/ { bad = 1; next }
    /\t(call|jmp)[a-z]*[ \t]/ && /</ { tgt = $0; sub(/.*</, "", tgt); sub(/[+>].*/, "", tgt)
      if (tgt != name) bad = 1 }
    END { exit bad || seen == 0 }'
}

# Names defined as indirect functions: their resolvers run before main.
indirect_functions() { # objects-file
  nm -A "${objs[@]}" 2> /dev/null | awk -v objects="$1" '
    BEGIN { while ((getline line < objects) > 0) { split(line, o, " "); idx[o[1]] = ++n } }
    NF == 3 && $2 == "i" { obj = $1; sub(/:[0-9a-f]*$/, "", obj)
      if (obj in idx) printf "%d\t3\tdefines %s as an indirect function, whose resolver runs before main\n", idx[obj], $3 }'
}

# System call instructions, counted per object.
syscall_instructions() { # objects-file
  objdump -d --no-show-raw-insn "${objs[@]}" 2> /dev/null | awk -v objects="$1" '
    BEGIN { while ((getline line < objects) > 0) { split(line, o, " "); idx[o[1]] = ++n } }
    /^[^ \t].*:[ \t]+file format / { obj = $0; sub(/:[ \t]+file format .*/, "", obj); next }
    /^ *[0-9a-f]+:\t(syscall|sysenter|int +\$0x80|svc)( |$)/ { count[obj]++ }
    END { for (f in count) if (f in idx)
      printf "%d\t4\tmakes %d system call%s itself (inline assembly), which lab code may not\n",
        idx[f], count[f], count[f] == 1 ? "" : "s" }'
}

# Files the compiler read (each object's .d file) outside the staged folders
# and the system's headers.
foreign_includes() {
  local i ds=() idxs=""
  for ((i = 0; i < ${#objs[@]}; i++)); do
    [ -f "${objs[i]%.o}.d" ] && ds+=("${objs[i]%.o}.d") && idxs+=" $((i + 1))"
  done
  [ ${#ds[@]} -gt 0 ] || return 0
  # The first rule of each file (continued lines joined): "target: files".
  awk -v stage="$STAGE/" -v idxs="$idxs" '
    BEGIN { split(idxs, idx, " "); for (k = 1; k < ARGC; k++) at[ARGV[k]] = idx[k] }
    FILENAME != file { finish(); file = FILENAME; done = 0; rule = "" }
    done { next }
    { line = $0; if (sub(/\\$/, "", line)) { rule = rule line " "; next }
      done = 1; check(rule line, at[file]) }
    END { finish() }
    function finish() { if (file != "" && !done) check(rule, at[file]) }
    function check(rule, i,   n, k, f, p) {
      gsub(/\\ /, "\001", rule); sub(/^[^:]*:/, "", rule)
      n = split(rule, f, /[ \t]+/)
      for (k = 1; k <= n; k++) {
        p = f[k]; gsub(/\001/, " ", p)
        if (p == "") continue
        if (!(index(p, "/../") || p ~ /^\.\.\//) &&
            (index(p, stage) == 1 || p ~ /^\/usr\/(include|lib\/gcc|local\/include)\//)) continue
        printf "%d\t5\tincludes %s, a file outside the lab\047s folders, which lab code may not\n", i, p
      }
    }' "${ds[@]}"
}

# A check whose tools fail refuses the lab's first object: what it could not
# read is not let through.
checked() { # check args...
  "$@" || printf '1\t0\tcould not be checked (%s failed), which lab code must be\n' "$1"
}

objects_file=$(mktemp)
defined=$(mktemp)
trap 'rm -f "$objects_file" "$defined"' EXIT
objects | while read -r obj lab shown; do [ -f "$obj" ] && echo "$obj $lab $shown"; done > "$objects_file"
objs=() shown=()
while read -r obj lab name; do objs+=("$obj"); shown+=("$name"); done < "$objects_file"
[ ${#objs[@]} -gt 0 ] || exit 0
nm -g --defined-only "${objs[@]}" 2> /dev/null | awk 'NF == 3 { print $3 }' | sort -u > "$defined"
while IFS=$'\t' read -r i _ what; do
  flag "${shown[i - 1]}" "$what"
done < <({ checked forbidden_names "$objects_file" "$defined"
           checked init_sections "$objects_file"
           checked indirect_functions "$objects_file"
           checked syscall_instructions "$objects_file"
           checked foreign_includes; } | sort -t $'\t' -k1,1n -k2,2n -s)
exit $found
