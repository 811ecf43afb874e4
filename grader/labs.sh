# shellcheck shell=bash
# labs.sh — the lab model, sourced by every script that lists labs, matches
# LAB= or follows "uses": one place that answers those questions.
#
# A lab is a folder tests/NN-slug (two digits, a dash, lowercase letters,
# digits and dashes); its reference code is solutions/NN-slug, its starter
# labs/NN-slug, its chapter chapters/NN-slug.md. A lab's folder may hold a
# file "uses": the earlier labs it builds on, one name per line.
# Functions run from the repository's root unless given another.

# Every lab, in order, one name per line.
labs_all() { # [root]
  local d
  for d in "${1:-.}"/tests/[0-9][0-9]-*/; do
    d=${d%/}
    d=${d##*/}
    if [[ $d =~ ^[0-9][0-9]-[a-z0-9-]+$ ]]; then printf '%s\n' "$d"; fi
  done
}

# The labs LAB names: every lab when LAB is empty, else the lab called LAB
# or numbered LAB (LAB=03 or LAB=03-bounded-fan-out). LAB is compared as
# text, never used as a pattern.
labs_named() { # LAB [root]
  local lab
  while IFS= read -r lab; do
    if [ -z "$1" ] || [ "$lab" = "$1" ] || [ "${lab%%-*}" = "$1" ]; then printf '%s\n' "$lab"; fi
  done < <(labs_all "${2:-.}")
}

# The labs LAB builds on, following the "uses" files under DIR (solutions,
# labs, a submission) transitively; one per line, in order, LAB not included.
# A line that is not a lab's name is skipped (grader/stage.sh reports it).
labs_used_by() { # lab dir
  local seen=" $1 " todo=("$1") dep
  local -a found=()
  while [ ${#todo[@]} -gt 0 ]; do
    if [ -f "$2/${todo[0]}/uses" ]; then
      while read -r dep || [ -n "$dep" ]; do
        case $seen in *" $dep "*) continue ;; esac
        [[ $dep =~ ^[0-9][0-9]-[a-z0-9-]+$ ]] || continue  # a name, never a path
        seen+="$dep "
        found+=("$dep")
        todo+=("$dep")
      done < "$2/${todo[0]}/uses"
    fi
    todo=("${todo[@]:1}")
  done
  [ ${#found[@]} -eq 0 ] || printf '%s\n' "${found[@]}" | LC_ALL=C sort
}

# Where make progress keeps the last record of each lab graded in the tree
# at absolute path DIR (tools/progress.sh; grade.sh adds to it).
progress_store() { # dir
  printf 'build/progress/%s\n' "${1//\//_}"
}
