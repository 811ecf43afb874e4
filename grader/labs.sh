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

# The labs LAB builds on, transitively, each once, in the order found:
# READER ARG... LAB prints the labs one lab names itself, one per line, and
# fails on what it cannot read (grader/stage.sh's readers check a
# submission's files; uses_in below trusts the course's).
labs_closure() { # lab reader [arg...]
  local todo=("$1") seen=" $1 " lab dep deps
  while [ ${#todo[@]} -gt 0 ]; do
    lab=${todo[0]} todo=("${todo[@]:1}")
    deps=$("${@:2}" "$lab") || return 1
    for dep in $deps; do
      case $seen in *" $dep "*) continue ;; esac
      seen+="$dep " todo+=("$dep")
      printf '%s\n' "$dep"
    done
  done
}

# The labs a lab's "uses" file under DIR names; a line that is not a lab's
# name is skipped (grader/stage.sh reports it).
uses_in() { # dir lab
  local dep
  [ -f "$1/$2/uses" ] || return 0
  while read -r dep || [ -n "$dep" ]; do
    [[ $dep =~ ^[0-9][0-9]-[a-z0-9-]+$ ]] && printf '%s\n' "$dep"  # a name, never a path
  done < "$1/$2/uses"
  return 0
}

# The labs LAB builds on, following the "uses" files under DIR (solutions,
# labs, a submission) transitively; one per line, in order, LAB not included.
labs_used_by() { # lab dir
  labs_closure "$1" uses_in "$2" | LC_ALL=C sort
}

# Where make progress keeps the last record of each lab graded in the tree
# at absolute path DIR (tools/progress.sh; grade.sh adds to it).
progress_store() { # dir
  printf 'build/progress/%s\n' "${1//\//_}"
}
