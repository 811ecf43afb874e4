#!/usr/bin/env bash
# tools/shellcheck.sh — runs shellcheck (settings: .shellcheckrc) on every shell
# script of the repository: the *.sh files and the files whose first line
# names bash or sh. Prints the findings; exit 1 when there is one.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
command -v shellcheck > /dev/null || { echo "shellcheck.sh: needs shellcheck (make deps-dev)" >&2; exit 2; }
mapfile -t scripts < <(
  { git ls-files 2> /dev/null || find . \( -path ./build -o -path ./.git \) -prune -o -type f -print | sed 's|^\./||'; } |
    while IFS= read -r f; do
      [ -f "$f" ] || continue
      case "$f" in
        *.sh) echo "$f" ;;
        tests/*/*.c | *.md | *.h) ;;
        *) IFS= read -r first < "$f" 2> /dev/null; [[ $first =~ ^\#!.*[/\ ](ba)?sh(\ |$) ]] && echo "$f" ;;
      esac
    done)
shellcheck -x -f gcc "${scripts[@]}" && echo "shellcheck: ${#scripts[@]} scripts, no finding"
