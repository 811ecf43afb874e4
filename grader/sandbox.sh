# sandbox.sh — runs the untrusted steps of grading in a bubblewrap sandbox.
# Sourced by grader/grade.sh; bash.
#
# Untrusted: compiling the lab's code (a compiler reads whatever an #include
# names) and running the test programs (the lab's code). Both run under
#   sandboxed KIND READONLY WRITABLE... -- COMMAND...
# which, with the sandbox on, gives COMMAND:
#  - the filesystem read-only, and the repository hidden but for what the
#    step needs (mk/ and this lab's build folder): no solutions/, no hidden
#    tests or mutants, no other lab's or submission's files, no grader
#    tools to replace; SANDBOX_HIDE (colon-separated paths) hides more (the
#    gradebook hides its submissions and its other rows);
#  - one writable folder, WRITABLE, and a private /tmp of 256 MiB;
#  - no network, its own PID, IPC, UTS and user namespaces, uid and gid
#    65534 with no capabilities, a new session, killed with its parent;
#  - limits: 256 processes and 2 GiB of memory for the sandbox as a whole
#    (cgroup v1 pids and memory, when this user may create them), 1024
#    open files, 64 MiB per file written (the tests' output files have a
#    smaller cap of their own).
# Without it (SANDBOX=0, or bubblewrap missing or refused), COMMAND runs as
# it is. The time limits are the caller's (timeout).
#
# SANDBOX: 0 off; 1 required (fails when bubblewrap cannot run: the
# gradebook); auto (default) on when bubblewrap can run.

SANDBOX_MEMORY=$((2 << 30))
SANDBOX_PIDS=256
SANDBOX_TMP=$((256 << 20))

# Sets sandbox_on to 1 or 0; fails (with why) when SANDBOX=1 cannot be met.
sandbox_setup() {
  sandbox_on=0
  case "${SANDBOX:-auto}" in
    0) return 0 ;;
    1 | auto) ;;
    *) echo "grade: SANDBOX=${SANDBOX} (expected 0, 1 or auto)" >&2; return 1 ;;
  esac
  # Cgroups of sandboxes that ended without removing theirs (rmdir takes
  # only empty ones).
  rmdir /sys/fs/cgroup/{pids,memory}/workbook-grade/*/ 2> /dev/null
  if command -v bwrap > /dev/null 2>&1 &&
     bwrap --ro-bind / / --unshare-all --uid 65534 --gid 65534 -- true 2> /dev/null; then
    sandbox_on=1
  elif [ "${SANDBOX:-auto}" = 1 ]; then
    echo "grade: the sandbox cannot run here (bubblewrap missing, or user namespaces refused):" \
      "install bubblewrap (make deps), or grade without it with SANDBOX=0, which runs every" \
      "submission's code as you, able to read and change what you can" >&2
    return 1
  fi
  return 0
}

# A cgroup (v1) of its own for one sandbox, when this user may make one;
# the calling (sub)shell joins it, and what it starts inherits it.
sandbox_cgroup() { # name controller file value
  local dir=/sys/fs/cgroup/$2/workbook-grade/$1
  mkdir -p "$dir" 2> /dev/null && echo "$4" > "$dir/$3" 2> /dev/null &&
    echo "$BASHPID" > "$dir/cgroup.procs" 2> /dev/null
  return 0
}

sandbox_cgroup_cleanup() { # name
  rmdir "/sys/fs/cgroup/pids/workbook-grade/$1" "/sys/fs/cgroup/memory/workbook-grade/$1" 2> /dev/null
  return 0
}

# KIND: compile (mk/ visible too) or run. READONLY: the lab's build folder,
# the only part of the repository the step sees. WRITABLE: folders it may
# write, all of them existing.
sandboxed() { # KIND READONLY WRITABLE... -- COMMAND...
  local kind=$1 readonly=$2 root_dir args=() p status cg
  shift 2
  if [ "$sandbox_on" != 1 ]; then
    while [ "$1" != -- ]; do shift; done
    shift
    "$@"
    return
  fi
  root_dir=$(pwd)
  args=(--ro-bind / / --dev /dev --proc /proc --tmpfs "$root_dir")
  [ "$kind" = compile ] && args+=(--ro-bind "$root_dir/mk" "$root_dir/mk")
  args+=(--ro-bind "$root_dir/$readonly" "$root_dir/$readonly")
  local IFS=:
  for p in ${SANDBOX_HIDE:-}; do [ -e "$p" ] && args+=(--tmpfs "$p"); done
  unset IFS
  while [ "$1" != -- ]; do
    args+=(--bind "$1" "$1")
    shift
  done
  shift
  args+=(--size "$SANDBOX_TMP" --perms 1777 --tmpfs /tmp --unshare-all --uid 65534 --gid 65534
    --new-session --die-with-parent --chdir "$root_dir")
  cg=$$-$BASHPID-$RANDOM
  (
    sandbox_cgroup "$cg" pids pids.max "$SANDBOX_PIDS"
    sandbox_cgroup "$cg" memory memory.limit_in_bytes "$SANDBOX_MEMORY"
    exec bwrap "${args[@]}" -- prlimit --nofile=1024 --fsize=$((64 << 20)) -- "$@"
  )
  status=$?
  sandbox_cgroup_cleanup "$cg"
  return $status
}
