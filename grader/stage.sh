#!/usr/bin/env bash
# stage.sh — copies what one lab's build may read into the build folder.
#
#   grader/stage.sh SRC LAB STAGE      (from the repository's root)
#   grader/stage.sh - LAB STAGE        the course's side only (STAGE/inc)
#
# The build never reads a submission in place (mk/lab.mk says what STAGE
# holds). Copied from SRC/LAB and from each lab its "uses" file names:
# regular files (no links, FIFOs, devices) named like ^[A-Za-z0-9_][A-Za-z0-9_.-]*\.[ch]$;
# any other .c or .h file is reported and skipped, so a name never reaches
# make or a shell. Then the course's headers (solutions/NN-slug/*.h, or in a
# handout tests/NN-slug/include/) over the student's: a student's header
# that differs from the course's is reported and not used. A file is
# copied only when its content changed (cmp): an unchanged file keeps its
# date and object; a changed one is rebuilt whatever its date.
#
# "uses": a regular file of at most 4 KiB, one lab per line (^[0-9]{2}-[a-z0-9-]+$,
# a lab of the course); followed transitively, each lab once.
#
# Prints one line per finding on stdout, fields escaped as in record files:
#   skipped<TAB>path<TAB>why        tampered<TAB>path<TAB>what
# Exits 1, with the reason on stderr, when the lab cannot be built.
set -uo pipefail

SRC=$1 LAB=$2 STAGE=$3
NAME_RE='^[A-Za-z0-9_][A-Za-z0-9_.-]*\.[ch]$'
LAB_RE='^[0-9][0-9]-[a-z0-9-]+$'
USES_MAX=4096

fail() { printf '%s\n' "$*" >&2; exit 1; }
# shellcheck source=grader/labs.sh
. "$(dirname "$0")/labs.sh"

field() { # text -> escaped as in record files
  local s=${1//\\/\\\\}
  s=${s//$'\t'/\\t}
  s=${s//$'\r'/\\r}
  printf '%s' "${s//$'\n'/\\n}"
}

finding() { printf '%s\t%s\t%s\n' "$1" "$(field "$2")" "$(field "$3")"; }

# Where the course keeps a lab's headers (and its own "uses").
course_dir() {
  if [ -d "solutions/$1" ]; then echo "solutions/$1"; else echo "tests/$1/include"; fi
}

is_plain_file() { [ -f "$1" ] && [ ! -L "$1" ]; }

copy_if_changed() { # from to
  cmp -s -- "$1" "$2" || cp -- "$1" "$2"
}

# The lab names on a uses file's lines, checked; fails on a bad file.
read_uses() { # file shown-as
  local line n=0
  [ -e "$1" ] || [ -L "$1" ] || return 0
  is_plain_file "$1" || fail "$2 is not a regular file (a symbolic link, FIFO or device is not read)"
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line=${line%$'\r'}
    [ -z "${line//[[:space:]]/}" ] && continue
    [[ $line =~ $LAB_RE ]] && [ -d "tests/$line" ] ||
      fail "$2, line $n: \"$(field "${line:0:80}")\" is not a lab of the course (one lab folder's name per line, like 01-resource-lifecycles)"
    printf '%s\n' "$line"
  done < <(head -c "$USES_MAX" -- "$1")
}

student_uses() { read_uses "$SRC/$1/uses" "$SRC/$1/uses"; }
course_uses() { read_uses "$(course_dir "$1")/uses" "the course's uses of $1"; }

# Removes what an earlier staging left that this one did not copy.
prune() { # dir kept-names...
  local dir=$1 f; shift
  local keep=" $* "
  for f in "$dir"/*; do
    [ -e "$f" ] || continue
    case "$keep" in *" ${f##*/} "*) ;; *) rm -rf -- "$f" ;; esac
  done
}

# One lab folder of the submission into dir; demo.c only for the lab itself.
stage_folder() { # lab dir
  local lab=$1 dir=$2 f name course kept=()
  [ -d "$SRC/$lab" ] && [ ! -L "$SRC/$lab" ] || fail "the folder $SRC/$lab is missing"
  course=$(course_dir "$lab")
  mkdir -p "$dir"
  for f in "$SRC/$lab"/*.[ch] "$SRC/$lab"/.*.[ch]; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    name=${f##*/}
    if ! [[ $name =~ $NAME_RE ]]; then
      finding skipped "$f" "not compiled: a lab file's name has only letters, digits, _ . - (and starts with a letter, digit or _)"
    elif ! is_plain_file "$f"; then
      finding skipped "$f" "not compiled: not a regular file"
    elif [ -f "$course/$name" ] && [ "${name##*.}" = h ]; then
      cmp -s -- "$f" "$course/$name" ||
        finding tampered "$f" "differs from the course's $name, which was used instead"
    else
      copy_if_changed "$f" "$dir/$name" && kept+=("$name")
    fi
  done
  for f in "$course"/*.h; do
    [ -f "$f" ] && copy_if_changed "$f" "$dir/${f##*/}" && kept+=("${f##*/}")
  done
  prune "$dir" "${kept[@]}"
}

# What the tests compile against: the grader's headers and the course's.
stage_inc() {
  local f lab kept=()
  mkdir -p "$STAGE/inc"
  for f in grader/grade.h helpers/ap.h; do
    copy_if_changed "$f" "$STAGE/inc/${f##*/}" && kept+=("${f##*/}")
  done
  for lab in "$LAB" $(labs_closure "$LAB" course_uses); do
    for f in "$(course_dir "$lab")"/*.h; do
      [ -f "$f" ] && copy_if_changed "$f" "$STAGE/inc/${f##*/}" && kept+=("${f##*/}")
    done
  done
  prune "$STAGE/inc" "${kept[@]}"
}

stage_lab() {
  local uses lab
  uses=$(labs_closure "$LAB" student_uses) || exit 1
  stage_folder "$LAB" "$STAGE/lab"
  mkdir -p "$STAGE/uses"
  read -ra uses <<< "${uses//$'\n'/ }" # lab names (labs_closure checked them): no blanks
  for lab in "${uses[@]}"; do stage_folder "$lab" "$STAGE/uses/$lab"; done
  prune "$STAGE/uses" "${uses[@]}"
}

[[ $LAB =~ $LAB_RE ]] || [ "$LAB" = helpers ] || fail "stage.sh: no lab named $LAB"
stage_inc
[ "$LAB" = helpers ] || [ "$SRC" = - ] || stage_lab
