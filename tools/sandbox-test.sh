#!/usr/bin/env bash
# sandbox-test.sh — the sandbox's guarantees (grader/sandbox.sh), each tried by
# a shell command standing in for a hostile lab: what lab code may not do at
# all (objcheck.sh refuses fork, exec, setsid...) is tried here anyway, so the
# sandbox holds even if a check before it were passed. No compiling: quick.
# Needs bubblewrap (it is skipped, and says so, where it cannot run).
# Prints "ok"/"FAIL" per guarantee; exits 1 if one failed.
# shellcheck disable=SC2016 # text for a shell inside the sandbox, or names to keep as they are
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
failed=0
box=build/sandbox-test
# shellcheck source=grader/sandbox.sh
. grader/sandbox.sh
SANDBOX=1 sandbox_setup 2> /dev/null || { echo "  skip  sandbox: bubblewrap cannot run here"; exit 0; }

result() { # label command-status(0: held)
  if [ "$2" -eq 0 ]; then printf '  ok    sandbox: %s\n' "$1"; else printf '  FAIL  sandbox: %s\n' "$1"; failed=1; fi
}

# A step as grade.sh runs one: the build folder readable, outputs writable.
in_box() { # kind shell-script
  sandboxed "$1" "$box/ro" "$root/$box/out" -- bash -c "$2" 2> /dev/null
}

rm -rf "$box" && mkdir -p "$box/ro" "$box/out"
echo 'the build folder' > "$box/ro/visible"
marker=sandbox-test-$$-$RANDOM

in_box run '! ls solutions tests/00-the-loop/hidden tests/00-the-loop/mutants grader build/tools 2> /dev/null &&
  [ -s build/sandbox-test/ro/visible ]'
result "the repository is hidden but for the build folder (no solutions/, hidden tests, mutants, grader)" $?

in_box run '! touch x build/x build/sandbox-test/ro/x /usr/x "$HOME/x" 2> /dev/null && [ -z "${SUBMISSIONS:-}${GRADEBOOK:-}" ]'
result "nothing writable but its outputs and /tmp; the gradebook's variables unset" $?

in_box run "! grep -v '^ *\\(lo\\|Inter\\| face\\)' /proc/net/dev | grep -q :"
result "no network but its own loopback" $?

if [ ${#sandbox_drop[@]} -gt 0 ]; then
  in_box run '[ "$(id -u)" = 65534 ] && ! cat /etc/shadow > /dev/null 2>&1'
  result "uid 65534 for real: root's files unreadable" $?
fi

# A daemon: double fork, setsid, empty environment; it must die with its sandbox.
in_box run "setsid env -i bash -c '(sleep 300 $marker > /dev/null 2>&1 &) &'; true"
sleep 0.2
! pgrep -f "$marker" > /dev/null
result "an escaping daemon (double fork, setsid, empty environment) dies with the sandbox" $?

# (perl: its fork fails at once where bash's would retry)
in_box run "perl -e 'for (1 .. 600) { my \$p = fork; exit(\$_ > $SANDBOX_PIDS) unless defined \$p;
  if (!\$p) { sleep 30; exit } } exit 1'"
result "a fork bomb is capped ($SANDBOX_PIDS processes)" $?

rm -rf "$box/out" && mkdir "$box/out"
in_box run 'i=0; while head -c 1048576 /dev/zero > "build/sandbox-test/out/f$i" 2> /dev/null; do i=$((i + 1)); [ $i -lt 200 ] || break; done
  [ $i -le 32 ] && ! head -c $((300 << 20)) /dev/zero > /tmp/flood 2> /dev/null && ! head -c $((20 << 20)) /dev/zero > /dev/shm/flood 2> /dev/null'
result "disk floods are capped: outputs 32 MiB in all, /tmp 256 MiB, /dev/shm 16 MiB" $?
[ "$(du -sm "$box/out" | cut -f1)" -le 33 ]
result "the outputs are copied out, at most 32 MiB" $?

rm -rf "$box/out" && mkdir "$box/out"
in_box run 'ln -s /etc/passwd build/sandbox-test/out/link; echo kept > build/sandbox-test/out/kept.out'
[ ! -e "$box/out/link" ] && [ ! -L "$box/out/link" ] && [ "$(cat "$box/out/kept.out")" = kept ]
result "the outputs' regular files are copied out, never a link" $?

rm -rf "$box"
exit $failed
