#!/usr/bin/env bash
# bench-ls.sh A B: compare two ezfs builds on cold listings. One volume gets the Go source
# tree untarred into a zone and into a non-zone directory (through build A); then each round
# mounts A, then B, over that same backing tree and times `ls -lR` of each directory with all
# caches dropped before it. Prints each round. Needs root.
#
#   LS_ROUNDS=4  LS_DIR=/var/tmp (where the volume goes)  LS_TREE=/usr/local/go/src
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 EZFS_A EZFS_B" >&2; exit 2; }
. "$(dirname "$0")/benchlib.sh"
declare -A bin=([a]=$1 [b]=$2)
bench_work "${LS_DIR:-/var/tmp}" ezfs-ls "${bin[a]}"
zone_and_plain "${bin[a]}"
tree=${LS_TREE:-/usr/local/go/src}
for t in zone plain; do tar -C "$(dirname "$tree")" -cf - "$(basename "$tree")" | tar -C "$mnt/$t" -xf -; done
"${bin[a]}" unmount "$mnt"
ms() { local s; s=$(date +%s%N); "$@" >/dev/null; echo $((($(date +%s%N) - s) / 1000000)); }
for r in $(seq "${LS_ROUNDS:-4}"); do
	line="round $r:"
	for m in a b; do
		"${bin[$m]}" mount "$backing" "$mnt"
		for t in zone plain; do
			sync
			echo 3 >/proc/sys/vm/drop_caches
			line="$line $m-$t=$(ms ls -lR "$mnt/$t")ms"
		done
		"${bin[$m]}" unmount "$mnt"
	done
	echo "$line"
done
