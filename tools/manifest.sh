#!/usr/bin/env bash
# manifest.sh — tamper evidence for the grader's files in a student handout.
#
#   manifest.sh write ROOT            writes ROOT/MANIFEST.sha256 (sha256sum format)
#   manifest.sh verify ROOT [FILE]    compares ROOT's grader files with FILE
#                                     (default ROOT/MANIFEST.sha256)
#
# The grader's files are the Makefile and everything under mk/, grader/,
# helpers/, tests/ and tools/: what decides a score. A student's own files
# (labs/, chapters/, CI files, build/) are not in it.
#
# verify prints one line per difference, "path<TAB>what" with what one of
# changed, missing, added; backslash, tab and newline in a path are escaped
# as in the grader's record files, so the reporter (--tampered) reads it.
# It prints nothing when the files match, and always exits 0 once it has
# compared (2 on a usage error or an unreadable FILE).
set -uo pipefail

GRADER_PATHS=(Makefile mk grader helpers tests tools)

usage() { echo "usage: manifest.sh write ROOT | verify ROOT [FILE]" >&2; exit 2; }

# The grader's files under the current folder, NUL-terminated, sorted.
grader_files() {
  local p
  for p in "${GRADER_PATHS[@]}"; do
    [ -e "$p" ] && find "$p" -type f -print0
  done | LC_ALL=C sort -z
}

write_manifest() { # root
  cd "$1" || exit 2
  grader_files | xargs -0 -r sha256sum > MANIFEST.sha256.tmp &&
    mv MANIFEST.sha256.tmp MANIFEST.sha256
}

escape() { # path -> escaped as in record files
  local s=${1//\\/\\\\}
  s=${s//$'\t'/\\t}
  printf '%s' "${s//$'\n'/\\n}"
}

# Files named in the manifest that are missing or differ.
changed_files() { # manifest
  local sum path
  while read -r sum path; do
    [ -n "$path" ] || continue
    if [ ! -f "$path" ]; then
      printf '%s\tmissing\n' "$(escape "$path")"
    elif [ "$(sha256sum < "$path")" != "$sum  -" ]; then
      printf '%s\tchanged\n' "$(escape "$path")"
    fi
  done < "$1"
}

# Grader files the manifest does not name (e.g. an extra test file).
added_files() { # manifest
  local path
  declare -A known=()
  while read -r _ path; do known[$path]=1; done < "$1"
  while IFS= read -r -d '' path; do
    [ -n "${known[$path]:-}" ] || printf '%s\tadded\n' "$(escape "$path")"
  done < <(grader_files)
}

verify_manifest() { # root [manifest]
  local manifest
  manifest=$(cd "$(dirname "${2:-$1/MANIFEST.sha256}")" 2>/dev/null && pwd)/$(basename "${2:-MANIFEST.sha256}")
  [ -r "$manifest" ] || { echo "manifest.sh: cannot read $manifest" >&2; exit 2; }
  cd "$1" || exit 2
  changed_files "$manifest"
  added_files "$manifest"
}

case "${1:-}" in
  write) [ $# -eq 2 ] || usage; write_manifest "$2" ;;
  verify) [ $# -ge 2 ] && [ $# -le 3 ] || usage; verify_manifest "$2" "${3:-}" ;;
  *) usage ;;
esac
