# shellcheck shell=bash
# sandbox.sh — runs the untrusted steps of grading in a bubblewrap sandbox.
# Sourced by grader/grade.sh, tools/gradebook.sh (may it run?) and
# tools/sandbox-test.sh; bash.
#
# Untrusted: compiling the lab's code (a compiler reads whatever an #include
# or an .incbin names) and running the test programs (the lab's code). Both
# run under
#   sandboxed KIND READONLY WRITABLE... -- COMMAND...
# which, with the sandbox on, gives COMMAND:
#  - the filesystem read-only, and the repository hidden but for what the
#    step needs (mk/ and this lab's build folder): no solutions/, no hidden
#    tests or mutants, no other lab's or submission's files, no grader
#    tools to replace; SANDBOX_HIDE (paths, one a line) hides more (the
#    gradebook hides its submissions and its other rows), and so is $HOME;
#    the gradebook's variables (SUBMISSIONS, GRADEBOOK...) are unset;
#    what hides them is an empty read-only folder, never a writable one;
#  - the WRITABLE folders, a private /tmp of 256 MiB and a /dev/shm of 16
#    MiB. KIND compile: WRITABLE are the lab's object folders, written in
#    place (one object per staged source, each capped). KIND run: the one
#    WRITABLE folder (the tests' outputs) is a fresh one of at most 32 MiB
#    in all, copied out when COMMAND ends (regular files only, checked);
#  - no network, its own PID, IPC, UTS, cgroup and user namespaces, a new
#    session, killed with its parent (every process it started dies with
#    it: a daemon that double-forks and calls setsid included);
#  - uid and gid 65534 with no capabilities: for real when the grader runs
#    as root (setpriv before bwrap: it cannot read root's own files either),
#    else inside its namespace only (it runs as you, in the sandbox);
#  - limits: 256 processes and 2 GiB of memory for the sandbox as a whole
#    (cgroup v1 pids and memory, where this user may create them; else
#    RLIMIT_NPROC and, but under ASan, RLIMIT_AS per process), 1024 open
#    files, 64 MiB per file written. Time limits are the caller's (timeout).
# Without it (SANDBOX=0, or bubblewrap missing or refused), COMMAND runs as
# it is.
#
# SANDBOX: 0 off; 1 required (fails when bubblewrap cannot run: the
# gradebook); auto (default) on when bubblewrap can run.

SANDBOX_MEMORY=$((2 << 30))
SANDBOX_PIDS=256
SANDBOX_TMP=$((256 << 20))
SANDBOX_SHM=$((16 << 20))
SANDBOX_OUT=$((32 << 20))
SANDBOX_FILE=$((64 << 20))
SANDBOX_UID=65534

# Sets sandbox_on to 1 or 0 and sandbox_drop to the command that drops to
# uid 65534 before bwrap (empty when not root, or when bwrap cannot run
# that way); fails (with why) when SANDBOX=1 cannot be met.
sandbox_setup() {
  # The probe mounts what the real sandbox mounts: in a container that forbids
  # a new /proc (a nested one), the sandbox is off, not every build broken.
  local probe=(bwrap --ro-bind / / --dev /dev --proc /proc --unshare-all --uid "$SANDBOX_UID" --gid "$SANDBOX_UID" -- true)
  sandbox_on=0
  sandbox_drop=()
  case "${SANDBOX:-auto}" in
    0) return 0 ;;
    1 | auto) ;;
    *) echo "grade: SANDBOX=${SANDBOX} (expected 0, 1 or auto)" >&2; return 1 ;;
  esac
  # Cgroups of sandboxes that ended without removing theirs (rmdir takes
  # only empty ones).
  rmdir /sys/fs/cgroup/{pids,memory}/workbook-grade/*/ 2> /dev/null
  if ! command -v bwrap > /dev/null 2>&1; then
    :
  elif [ "$(id -u)" = 0 ] && setpriv --reuid="$SANDBOX_UID" --regid="$SANDBOX_UID" --clear-groups \
         -- "${probe[@]}" 2> /dev/null; then
    sandbox_drop=(setpriv --reuid="$SANDBOX_UID" --regid="$SANDBOX_UID" --clear-groups --)
    sandbox_on=1
  elif "${probe[@]}" 2> /dev/null; then
    sandbox_on=1
  fi
  if [ "$sandbox_on" = 0 ] && [ "${SANDBOX:-auto}" = 1 ]; then
    echo "grade: the sandbox cannot run here (bubblewrap missing, or user namespaces refused):" \
      "install bubblewrap (make deps), or grade without it with SANDBOX=0, which runs every" \
      "submission's code as you, able to read and change what you can" >&2
    return 1
  fi
  return 0
}

# A cgroup (v1) of its own for one sandbox, when this user may make one;
# the calling (sub)shell joins it, and what it starts inherits it. Fails
# when it could not.
sandbox_cgroup() { # name controller file value
  local dir=/sys/fs/cgroup/$2/workbook-grade/$1
  # Only a cgroup file system gives a new folder the controller's file: where
  # /sys is a plain folder (a container that did not mount it), mkdir works
  # and the writes make plain files that limit nothing, so that must fail.
  mkdir -p "$dir" 2> /dev/null && [ -f "$dir/$3" ] && echo "$4" > "$dir/$3" 2> /dev/null &&
    echo "$BASHPID" > "$dir/cgroup.procs" 2> /dev/null
}

sandbox_cgroup_cleanup() { # name
  rmdir "/sys/fs/cgroup/pids/workbook-grade/$1" "/sys/fs/cgroup/memory/workbook-grade/$1" 2> /dev/null
  return 0
}

# The limits bwrap's command runs under: prlimit's options, the fallbacks
# for the cgroups this shell could not join.
sandbox_limits() { # name
  limits=(--nofile=1024 --fsize="$SANDBOX_FILE")
  sandbox_cgroup "$1" pids pids.max "$SANDBOX_PIDS" || limits+=(--nproc="$SANDBOX_PIDS")
  sandbox_cgroup "$1" memory memory.limit_in_bytes "$SANDBOX_MEMORY" ||
    [ "${MODE:-}" = asan ] || limits+=(--as="$SANDBOX_MEMORY") # ASan maps terabytes it never uses
}

# A folder hidden: an empty tmpfs over it, made read-only once the folders
# inside it that the step sees are mounted (remount_ro, at the end).
sandbox_hide() { # path
  [ -d "$1" ] || return 0
  args+=(--size 4096 --tmpfs "$1")
  remount_ro+=(--remount-ro "$1")
}

# Copies the run step's outputs out of the sandbox: on fd 3, a tar of the
# folder's regular files (written inside, after COMMAND, by tar; COMMAND
# and what it starts do not have fd 3).
# shellcheck disable=SC2016 # expanded by the bash inside the sandbox
SANDBOX_COPY_OUT='w=$1; shift; "$@" 3>&-; s=$?
cd "$w" && find . -mindepth 1 -maxdepth 1 -type f -print0 | tar --null --no-recursion -T - -cf - >&3
exit $s'

# Unpacks what the sandbox copied out, if it holds nothing but regular files
# directly in the folder (a lab's process could have swapped a file for a
# link while tar read it: then nothing is copied).
sandbox_copy_in() { # tar dir
  local listing
  listing=$(tar -tvf "$1" 2> /dev/null) &&
    awk '$0 !~ /^-/ || $6 !~ /^\.\/[^\/]+$/ || NF != 6 { exit 1 }' <<< "$listing" &&
    tar -xf "$1" -C "$2" -m --no-same-owner --no-same-permissions 2> /dev/null
  rm -f "$1"
}

# KIND: compile (mk/ visible too) or run. READONLY: the lab's build folder,
# the only part of the repository the step sees. WRITABLE: folders it may
# write, all of them existing (run: exactly one).
sandboxed() { # KIND READONLY WRITABLE... -- COMMAND...
  local kind=$1 readonly=$2 root_dir args=() remount_ro=() writable=() limits p status cg copy
  shift 2
  while [ "$1" != -- ]; do writable+=("$1"); shift; done
  shift
  if [ "$sandbox_on" != 1 ]; then
    "$@"
    return
  fi
  root_dir=$(pwd)
  # The private /tmp and /dev/shm first: a repository or a submission that
  # lives under /tmp is mounted over it, not hidden by it.
  args=(--ro-bind / / --dev /dev --proc /proc --size "$SANDBOX_TMP" --perms 1777 --tmpfs /tmp
    --size "$SANDBOX_SHM" --perms 1777 --tmpfs /dev/shm)
  [ -n "${HOME:-}" ] && [ "$HOME" != / ] && sandbox_hide "$HOME"
  sandbox_hide "$root_dir"
  while IFS= read -r p; do [ -z "$p" ] || sandbox_hide "$p"; done <<< "${SANDBOX_HIDE:-}"
  for p in SUBMISSIONS GRADEBOOK REFERENCE SANDBOX_HIDE; do args+=(--unsetenv "$p"); done
  [ "$kind" = compile ] && args+=(--ro-bind "$root_dir/mk" "$root_dir/mk")
  args+=(--ro-bind "$root_dir/$readonly" "$root_dir/$readonly")
  [ ${#sandbox_drop[@]} -eq 0 ] || chmod -R go+rX -- "$root_dir/$readonly" 2> /dev/null
  copy=/dev/null
  if [ "$kind" = run ]; then
    args+=(--size "$SANDBOX_OUT" --perms 1777 --tmpfs "${writable[0]}")
    copy=${writable[0]}.tar
    set -- bash -c "$SANDBOX_COPY_OUT" sandbox "${writable[0]}" "$@"
  else
    for p in "${writable[@]}"; do
      [ ${#sandbox_drop[@]} -eq 0 ] || chown -R "$SANDBOX_UID:$SANDBOX_UID" -- "$p"
      args+=(--bind "$p" "$p")
    done
  fi
  args+=(--remount-ro /dev "${remount_ro[@]}" --unshare-all
    --uid "$SANDBOX_UID" --gid "$SANDBOX_UID" --new-session --die-with-parent --chdir "$root_dir")
  cg=$$-$BASHPID-$RANDOM
  (
    sandbox_limits "$cg"
    exec "${sandbox_drop[@]}" bwrap "${args[@]}" -- prlimit "${limits[@]}" -- "$@"
  ) 3> "$copy"
  status=$?
  sandbox_cgroup_cleanup "$cg"
  [ "$kind" != run ] || sandbox_copy_in "$copy" "${writable[0]}"
  return $status
}
