#!/usr/bin/env bash
# deps.sh grade|pages|dev — makes sure what the workbook needs is installed.
#
# grade: a C compiler, make, pkg-config, libuv 1.44 and Check (students).
# pages: also pandoc, for the book's HTML pages (make book-html).
# dev:   also what `make check` and the book use (clang-format: make format-check;
#        python3-clang-14: make mutate).
# fresh: what `make check-fresh` uses to build a fresh Debian 12 (debootstrap).
# bench: also the benchmark peers: Node.js, and uvloop for Debian's python3.
# gradebook: also bubblewrap, the grading sandbox (grader/sandbox.sh).
# Missing packages are installed with apt-get when running as root;
# otherwise the exact install line is printed and the script fails.
set -euo pipefail

profile=${1:-grade}
missing=()

need_cmd() { command -v "$1" > /dev/null 2>&1 || missing+=("$2"); }
need_pc() { pkg-config --exists "$1" 2> /dev/null || missing+=("$2"); }

need_cmd cc gcc
# A compiler without the C library's headers builds nothing (a minimal
# Debian has gcc's recommends off): ask for them by what they provide.
[ -e /usr/include/stdio.h ] || missing+=(libc6-dev)
need_cmd make make
need_cmd pkg-config pkg-config
need_cmd timeout coreutils
need_cmd objcopy binutils # mk/lab.mk renames the lab's allocation calls
need_pc libuv libuv1-dev
need_pc check check
[ "$profile" = pages ] && need_cmd pandoc pandoc
# The gradebook and make check grade strangers' code in a sandbox.
[ "$profile" = gradebook ] || [ "$profile" = dev ] && need_cmd bwrap bubblewrap
if [ "$profile" = bench ]; then # make bench: the peers
  need_cmd node nodejs
  [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import uvloop' 2> /dev/null || missing+=(python3-uvloop)
fi
if [ "$profile" = fresh ]; then # make check-fresh
  need_cmd debootstrap debootstrap
  need_cmd bwrap bubblewrap
  need_cmd git git
fi
if [ "$profile" = dev ] || [ "$profile" = bench ]; then
  need_cmd patch patch
  need_cmd jq jq
  need_cmd xmllint libxml2-utils
  need_cmd pandoc pandoc
  need_cmd yamllint yamllint
  need_cmd inotifywait inotify-tools
  need_cmd clang-format clang-format
  need_cmd shellcheck shellcheck
  # make mutate's parser: libclang's bindings for Debian's own python3
  /usr/bin/python3 -c 'import clang.cindex' > /dev/null 2>&1 || missing+=(python3-clang-14)
  [ -f mk/book-deps.txt ] && while read -r cmd pkg; do
    [ -n "$cmd" ] && [ "${cmd#\#}" = "$cmd" ] && need_cmd "$cmd" "$pkg"
  done < mk/book-deps.txt
fi

[ ${#missing[@]} -eq 0 ] && exit 0
# shellcheck disable=SC2207
pkgs=($(printf '%s\n' "${missing[@]}" | sort -u))
if [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null 2>&1; then
  echo "deps: installing ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" > /dev/null
  exit 0
fi
echo "deps: missing ${pkgs[*]}. Install them with:" >&2
echo "  sudo apt-get install -y ${pkgs[*]}" >&2
exit 1
