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

# The undefined names of obj that no lab object defines and the list does
# not allow for lab.
forbidden_names() { # obj lab defined-file
  nm -u "$1" | awk -v lab="$2" -v defined="$3" -v allowed="$ALLOWED" '
    BEGIN {
      while ((getline line < defined) > 0) def[line] = 1
      while ((getline line < allowed) > 0) {
        if (line ~ /^[ \t]*(#|$)/) continue
        n = split(line, f, /[ \t]+/)
        ok = n == 1
        for (i = 2; i <= n; i++) if (f[i] == lab) ok = 1
        if (!ok) continue
        if (f[1] ~ /\*$/) prefix[substr(f[1], 1, length(f[1]) - 1)] = 1
        else exact[f[1]] = 1
      }
    }
    NF >= 2 {
      s = $NF
      if (s in def || s in exact) next
      for (p in prefix) if (index(s, p) == 1) next
      print s
    }'
}

# Sections that run code around main, but for the sanitizer's own.
init_sections() { # obj
  readelf -SW "$1" | sed -n 's/^ *\[ *[0-9]*\] \([^ ]*\).*/\1/p' |
    grep -E '^\.(preinit_array|init_array|fini_array|ctors|dtors|init|fini)(\.|$)' |
    { if [ "$MODE" = asan ] && asan_ctor_only "$1"; then grep -vE '^\.(init|fini)_array\.00099$'; else cat; fi }
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

syscall_instructions() { # obj
  objdump -d --no-show-raw-insn "$1" | grep -cE $'\t(syscall|sysenter|int +\\$0x80|svc)( |$)'
}

# Files the compiler read for obj (its .d file) outside the staged folders
# and the system's headers.
foreign_includes() { # obj
  [ -f "${1%.o}.d" ] || return 0
  sed -e ':a' -e '/\\$/{N;s/\\\n//;ba' -e '}' -e 'q' "${1%.o}.d" | sed 's/\\ /\x01/g; s/^[^:]*://' |
    tr ' ' '\n' | tr '\001' ' ' | grep -v '^$' |
    awk -v stage="$STAGE/" '
      index($0, "/../") || $0 ~ /^\.\.\// { print; next }
      index($0, stage) == 1 || $0 ~ /^\/usr\/(include|lib\/gcc|local\/include)\// { next }
      { print }'
}

check_object() { # obj lab shown defined-file
  local obj=$1 lab=$2 shown=$3 s n
  for s in $(forbidden_names "$obj" "$lab" "$4"); do
    flag "$shown" "calls $s, which lab code may not (grader/allowed-symbols.txt)"
  done
  for s in $(init_sections "$obj"); do
    flag "$shown" "has code that runs before or after main ($s), which lab code may not"
  done
  for s in $(nm "$obj" | awk '$2 == "i" { print $3 }'); do
    flag "$shown" "defines $s as an indirect function, whose resolver runs before main"
  done
  n=$(syscall_instructions "$obj")
  [ "$n" -eq 0 ] || flag "$shown" "makes $n system call$([ "$n" -eq 1 ] || echo s) itself (inline assembly), which lab code may not"
  while IFS= read -r s; do
    flag "$shown" "includes $s, a file outside the lab's folders, which lab code may not"
  done < <(foreign_includes "$obj")
}

defined=$(mktemp)
trap 'rm -f "$defined"' EXIT
objects | while read -r obj lab shown; do nm -g --defined-only "$obj"; done 2> /dev/null |
  awk 'NF == 3 { print $3 }' | sort -u > "$defined"
while read -r obj lab shown; do
  [ -f "$obj" ] && check_object "$obj" "$lab" "$shown" "$defined"
done < <(objects)
exit $found
