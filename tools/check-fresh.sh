#!/usr/bin/env bash
# check-fresh.sh — `make check-fresh`: the README's two commands on a fresh Debian 12.
#
# Builds a minimal Debian 12 (debootstrap --variant=minbase, plus git and
# make: nothing else), clones this repository's HEAD into it and runs, in a
# container of its own (bubblewrap: its own root and /dev, the host's /proc,
# see chroot_run, and the host's network for apt-get):
#   1. as a non-root user: `make grade` must stop and print the exact
#      `sudo apt-get install -y ...` line, having installed nothing;
#   2. as root: `make grade` installs what grading needs and grades;
#   3. as root: `make check` (or FRESH_CHECK, e.g. CI's `make check
#      PERTURB=mutants`) installs the rest and passes.
# A package the deps step forgets (say libc6-dev) fails step 2 or 3 here,
# however complete the developer's own machine is. The base system is kept
# as a tarball in build/fresh/ (FRESH_MIRROR: the Debian mirror); each run
# unpacks it afresh. Root only (debootstrap, and bwrap for the container).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
MIRROR=${FRESH_MIRROR:-http://deb.debian.org/debian}
work=$root/build/fresh
base=$work/bookworm-minbase.tar.gz
sys=$work/root
log=$work/log
# The third step's command: the README's `make check`, or what CI runs.
FRESH_CHECK=${FRESH_CHECK:-make check}
# It runs through bash -c: make check and VAR=value words, nothing else.
fresh_ok=0
case "$FRESH_CHECK" in
  *[!A-Za-z0-9_=.\ -]*) ;;
  "make check" | "make check "[A-Z]*=*) fresh_ok=1 ;;
esac
[ "$fresh_ok" = 1 ] || { echo "check-fresh: FRESH_CHECK must be make check [VAR=value...]" >&2; exit 2; }

# Exit 1: the README's commands failed on the fresh system (the project's
# fault). Exit 3: this machine cannot make a fresh system (no root, no
# debootstrap or mirror, no container): nothing was learnt about the project.
die() { echo "check-fresh: $*" >&2; exit 1; }
cannot() { echo "check-fresh: cannot build a fresh system here: $*" >&2; exit 3; }
[ "$(id -u)" -eq 0 ] || cannot "needs root (debootstrap and a container)"
for c in debootstrap bwrap git; do command -v "$c" > /dev/null || cannot "needs $c (make deps-fresh)"; done
mkdir -p "$work" "$log"

if [ ! -s "$base" ]; then
  echo "check-fresh: debootstrap a minimal Debian 12 (once; kept in $base)"
  rm -rf "$work/dl" && mkdir -p "$work/dl"
  debootstrap --variant=minbase --include=git,make,ca-certificates --make-tarball="$base.tmp" \
    bookworm "$work/dl" "$MIRROR" > "$log/debootstrap.log" 2>&1 || cannot "debootstrap failed: $(tail -n 5 "$log/debootstrap.log")"
  mv "$base.tmp" "$base"
  rm -rf "$work/dl"
fi
rm -rf "$sys" && mkdir -p "$sys"
debootstrap --variant=minbase --include=git,make,ca-certificates --unpack-tarball="$base" \
  bookworm "$sys" "$MIRROR" > "$log/unpack.log" 2>&1 || cannot "unpacking the base failed: $(tail -n 5 "$log/unpack.log")"
cp /etc/resolv.conf "$sys/etc/resolv.conf"
git clone -q --no-hardlinks "$root" "$sys/srv/workbook"
# The container shares the host's /proc (and so its process IDs) instead of
# mounting its own: bwrap's own /proc comes with read-only mounts over parts
# of it, and the kernel lets the grading sandbox inside (a user namespace)
# mount a /proc only where an uncovered one is visible. With --proc here,
# every sandboxed grading in the fresh system failed to start. /sys is left
# out: the sandbox then has no cgroups to join and limits processes with
# prlimit, the path a machine without cgroup v1 takes.
chroot_run() { # user command: runs in the fresh system, in the clone
  bwrap --bind "$sys" / --bind /proc /proc --dev /dev --perms 1777 --tmpfs /tmp --perms 1777 --tmpfs /dev/shm \
    --unshare-ipc --unshare-uts --die-with-parent \
    --setenv PATH /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --setenv HOME "$2" \
    --setenv LANG C.UTF-8 --chdir /srv/workbook \
    -- setpriv --reuid "$1" --regid "$1" --init-groups bash -c "$3"
}
chroot_run 0 /root true || cannot "the container does not start (bubblewrap as root)"
chroot_run 0 /root 'useradd -m student && chown -R student: /srv/workbook'

step() { printf '== %s\n' "$1"; }
start=$(date +%s)
step "as a user: make grade names what to install"
if chroot_run student /home/student 'make grade' > "$log/user-grade.log" 2>&1; then
  die "make grade as a user with nothing installed succeeded: $log/user-grade.log"
fi
grep -q '^  sudo apt-get install -y .*libuv1-dev' "$log/user-grade.log" ||
  die "make grade as a user did not print the install line: $(tail -n 5 "$log/user-grade.log")"
grep '^  sudo apt-get' "$log/user-grade.log"

# Root's steps run in a clone of root's own: git refuses a repository that
# another user owns ("dubious ownership"), and make check asks git which
# files are tracked.
chroot_run 0 /root 'chown -R root: /srv/workbook'
step "as root: make grade"
chroot_run 0 /root 'make grade' > "$log/root-grade.log" 2>&1 || die "make grade as root failed: $(tail -n 20 "$log/root-grade.log")"
grep -q '^Total ' "$log/root-grade.log" || die "make grade as root printed no total: $(tail -n 20 "$log/root-grade.log")"
tail -n 3 "$log/root-grade.log"

step "as root: $FRESH_CHECK"
# The long step's output is shown as it comes (CI's log is all there is).
chroot_run 0 /root "$FRESH_CHECK" 2>&1 | tee "$log/root-check.log" || die "$FRESH_CHECK as root failed (log: $log/root-check.log)"
echo "check-fresh: passed in $SECONDS s, $(($(date +%s) - start)) s of them after the base system (logs: $log)"
