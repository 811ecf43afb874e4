#!/usr/bin/env bash
# hostile-gradebook.sh — the attacks that need a gradebook, not a lab: entry
# names, tarballs, one submission against another. Builds a folder of
# submissions in build/hostile/subs, grades it (make gradebook, lab 00, in
# the sandbox) into build/hostile/gradebook and checks each row:
#  - odd but legitimate names (a blank, a quote, parentheses, a newline,
#    unicode, make and shell syntax, a leading - or =) grade exactly like
#    the same code named "plain", recorded faithfully (quoted; a newline
#    shows as a blank; a leading - = + @ defused for spreadsheets);
#  - tarballs holding a link, a hard link, a FIFO or a device, or unpacking
#    past the cap (a zip bomb), are refused before anything is unpacked; one
#    whose files carry dates from 2001 grades like "plain";
#  - a submission that tries to overwrite the grader, the libraries and
#    another submission (tests/hostile/sabotage) harms none of them;
#  - one that starts a daemon (tests/hostile/escaping-daemon) is flagged;
#  - every results.json is valid, and no name ran a command (no file P).
# Prints "ok"/"FAIL" per check; exits 1 if one failed.
# shellcheck disable=SC2016 # text for a shell inside the sandbox, or names to keep as they are
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
failed=0
s=build/hostile/subs
g=build/hostile/gradebook
lab=00-the-loop

result() { # label status(0: held) [details]
  if [ "$2" -eq 0 ]; then
    printf '  ok    hostile gradebook: %s\n' "$1"
  else
    printf '  FAIL  hostile gradebook: %s\n' "$1"
    [ -z "${3:-}" ] || printf '%s\n' "$3" | head -n 20 | sed 's/^/        /'
    failed=1
  fi
}

# Names as an LMS exports them or a student picks them, and how the CSV
# must show each (this list is the test's own, not the gradebook's code).
declare -A shown=(
  ["Jane O'Doe (2)"]="\"Jane O'Doe (2)\""
  [$'new\nline']='"new line"'
  ['ünïcødé 学生']='"ünïcødé 学生"'
  ['"quoted" name']='"""quoted"" name"'
  ['f9$(shell touch P)']='"f9$(shell touch P)"'
  ['x;touch P;`touch P`']='"x;touch P;`touch P`"'
  ['li_wei']='"li_wei"'
  ['-rf']="\"'-rf\""
  ['=1+2']="\"'=1+2\""
)

tarball() { # name dir-to-pack [tar options...]
  local name=$1 dir=$2
  shift 2
  tar -czf "$s/$name" -C "$dir" "$@" .
}

make_submissions() {
  local name t=build/hostile/tar
  rm -rf "$s" "$t" && mkdir -p "$s" "$t"
  mkdir "$s/plain" "$s/victim" && cp -R "solutions/$lab" "$s/plain/" && cp -R "solutions/$lab" "$s/victim/"
  for name in "${!shown[@]}"; do cp -R "$s/plain" "$s/$name"; done
  cp -R tests/hostile/sabotage tests/hostile/escaping-daemon "$s/"
  rm -f "$s"/{sabotage,escaping-daemon}/EXPECT
  ln -s "$root/solutions" "$s/linked"
  mkdir -p "$t/old/$lab" && cp "solutions/$lab"/* "$t/old/$lab/" && touch -d 2001-01-01 "$t/old/$lab"/*
  tarball old-dates.tar.gz "$t/old"
  mkdir -p "$t/sym/$lab" && cp "solutions/$lab"/*.h "$t/sym/$lab/"
  ln -s "../../../../solutions/$lab/naps.c" "$t/sym/$lab/naps.c" && tarball symlink.tar.gz "$t/sym"
  mkdir -p "$t/hard/$lab" && cp "solutions/$lab"/* "$t/hard/$lab/"
  ln "$t/hard/$lab/naps.c" "$t/hard/$lab/copy.c" && tarball hardlink.tar.gz "$t/hard"
  mkdir -p "$t/fifo/$lab" && cp "solutions/$lab"/* "$t/fifo/$lab/"
  mkfifo "$t/fifo/$lab/uses" && tarball fifo.tar.gz "$t/fifo"
  mkdir -p "$t/dev/$lab" && cp "solutions/$lab"/* "$t/dev/$lab/"
  if mknod "$t/dev/$lab/zero.c" c 1 5 2> /dev/null; then tarball device.tar.gz "$t/dev"; fi
  mkdir -p "$t/bomb/$lab" && cp "solutions/$lab"/* "$t/bomb/$lab/"
  head -c $((200 << 20)) /dev/zero > "$t/bomb/$lab/notes.txt" && tarball bomb.tar.gz "$t/bomb"
  rm -rf "$t"
}

# The CSV line of an entry: the one that starts with its quoted name.
rest_of() { local l; l=$(grep -F -m 1 -- "$1," "$g/gradebook.csv"); printf '%s' "${l#"$1",}"; }

check_rows() {
  local plain name rest field
  plain=$(rest_of '"plain"')
  [[ $plain =~ ^\"ok\",([0-9]+),([0-9]+),([0-9]+),0, ]] && [ "${BASH_REMATCH[2]}" = "${BASH_REMATCH[3]}" ] &&
    [ "${BASH_REMATCH[2]}" -gt 0 ]
  result "plain: full marks ($plain)" $?
  for name in "${!shown[@]}"; do
    field=${shown[$name]}
    rest=$(rest_of "$field")
    [ "$rest" = "$plain" ] && [ -f "$g/results/$name/results.json" ]
    result "the name $field grades like plain" $? "got: $rest"
  done
  [ "$(rest_of '"old-dates.tar.gz"')" = "$plain" ]
  result "a tarball with files from 2001 grades like plain" $? "$(rest_of '"old-dates.tar.gz"')"
  [ "$(rest_of '"victim"')" = "$plain" ] && cmp -s "$s/victim/$lab/naps.c" "solutions/$lab/naps.c"
  result "a sabotaging submission leaves another submission untouched" $? "$(rest_of '"victim"')"
  [[ $(rest_of '"sabotage"') =~ ^\"ok\",2,2, ]] && [ "$(cat build/hostile/report.sha)" = "$(sha256sum < build/tools/report)" ]
  result "a sabotaging submission gets its honest score; the grader's reporter is unchanged" $? "$(rest_of '"sabotage"')"
  [[ $(rest_of '"escaping-daemon"') =~ ^\"incomplete\",0,0,[0-9]+,[1-9][0-9]*,.*calls\ (fork|setsid|execve) ]]
  result "a daemon-starting submission is flagged and not run" $? "$(rest_of '"escaping-daemon"')"
  for name in symlink hardlink fifo device bomb; do
    [ -e "$s/$name.tar.gz" ] || continue
    [[ $(rest_of "\"$name.tar.gz\"") =~ ^\"invalid\",0,0,,0,\".*(not\ a\ file\ or\ a\ folder|unpacks\ to) ]] &&
      [ ! -e "$g/results/$name.tar.gz/results.json" ]
    result "a tarball with a $name is refused before unpacking" $? "$(rest_of "\"$name.tar.gz\"")"
  done
  [[ $(rest_of '"linked"') =~ ^\"invalid\" ]]
  result "an entry that is a link is not followed" $? "$(rest_of '"linked"')"
}

check_files() {
  local bad="" f
  while IFS= read -r -d '' f; do
    jq -e '.version == 3 and ([.tests[].points] | add // 0) == .score' "$f" > /dev/null 2>&1 || bad+="$f "
  done < <(find "$g/results" -name results.json -print0)
  [ -z "$bad" ]
  result "every results.json is valid and adds up" $? "$bad"
  [ -z "$(find . -name P -print -quit 2> /dev/null)" ]
  result "no name ran a command (no file P)" $?
  [ "$(grep -c '^"' "$g/gradebook.csv")" -eq "$(($(find "$s" -mindepth 1 -maxdepth 1 -printf x | wc -c) + 1))" ]
  result "one row per submission" $? "$(cat "$g/gradebook.csv")"
}

mkdir -p build/hostile
make -s --no-print-directory MODE=debug libs || exit 1
sha256sum < build/tools/report > build/hostile/report.sha
make_submissions
SUBMISSIONS=$s GRADEBOOK=$g LAB=00 JOBS=2 SANDBOX=1 tools/gradebook.sh > build/hostile/gradebook.log 2>&1
if [ ! -f "$g/gradebook.csv" ]; then
  result "make gradebook writes gradebook.csv" 1 "$(tail -n 20 build/hostile/gradebook.log)"
  exit 1
fi
check_rows
check_files
exit $failed
