#!/usr/bin/env bash
# gradebook-merge.sh — joins gradebook slices (make gradebook-merge).
#
#   PARTS="dir1 dir2 ..."  folders written by make gradebook SHARD=k/n
#   GRADEBOOK              where the joined gradebook goes (build/gradebook)
#
# The slices must have the same CSV header (graded against the same labs);
# a submission in two slices, or a slice missing, is an error, never a
# silent double or gap. Writes GRADEBOOK/gradebook.csv (rows in byte order,
# as make gradebook writes them) and GRADEBOOK/results/<entry>/.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
PARTS=${PARTS:-}
GRADEBOOK=${GRADEBOOK:-build/gradebook}

die() { echo "gradebook-merge: $*" >&2; exit 2; }

[ -n "$PARTS" ] || die 'usage: make gradebook-merge PARTS="dir1 dir2 ..."'
header=
shards=()
for part in $PARTS; do
  [ -f "$part/gradebook.csv" ] || die "$part has no gradebook.csv"
  [ -z "$header" ] && header=$(head -n 1 "$part/gradebook.csv")
  [ "$(head -n 1 "$part/gradebook.csv")" = "$header" ] ||
    die "$part was graded against other labs: $(head -n 1 "$part/gradebook.csv")"
  shards+=("$(cat "$part/shard.txt" 2> /dev/null || echo 1/1)")
done

# Every slice k/n once, all with the same n.
n=${shards[0]#*/}
[ "$(printf '%s\n' "${shards[@]}" | sort -u | wc -l)" -eq ${#shards[@]} ] ||
  die "a slice is given twice: ${shards[*]}"
for s in "${shards[@]}"; do [ "${s#*/}" = "$n" ] || die "slices of different splits: ${shards[*]}"; done
[ ${#shards[@]} -eq "$n" ] || die "${#shards[@]} of $n slices given: ${shards[*]}"

tmp=$GRADEBOOK.merge
rm -rf "$tmp"
mkdir -p "$tmp/results"
for part in $PARTS; do
  tail -n +2 "$part/gradebook.csv"
  [ -d "$part/results" ] && cp -R "$part/results/." "$tmp/results/"
done | LC_ALL=C sort > "$tmp/rows"
dups=$(sed -E 's/^("([^"]|"")*").*/\1/' "$tmp/rows" | uniq -d | head -n 3)
[ -z "$dups" ] || die "submissions graded in two slices: $dups"
{ echo "$header"; cat "$tmp/rows"; } > "$tmp/gradebook.csv"
rm "$tmp/rows"
echo 1/1 > "$tmp/shard.txt" # the whole, as one unsliced run
[ ! -e "$GRADEBOOK" ] || [ -f "$GRADEBOOK/shard.txt" ] || [ -z "$(ls -A "$GRADEBOOK")" ] ||
  die "GRADEBOOK=$GRADEBOOK holds files that are not a gradebook's; not replacing it"
rm -rf "$GRADEBOOK"
mv "$tmp" "$GRADEBOOK"
echo "gradebook-merge: $GRADEBOOK/gradebook.csv ($(($(wc -l < "$GRADEBOOK/gradebook.csv") - 1)) rows from ${#shards[@]} slices)"
