#!/usr/bin/env bash
# bench-meta.sh [EZFS]: the metadata half of `make bench` with more rounds: untar, cold
# `ls -lR`, `du -s` and `rm -rf` of the Go source tree in a zone and in a non-zone directory of
# one mount, the two interleaved (each round starts with the other), with all caches dropped
# before untar and listing. Prints every round, then medians and zone/non-zone. Needs root.
#
#   META_ROUNDS=8  META_DIR=/var/tmp (where the volume goes)  META_TREE=/usr/local/go/src
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/benchlib.sh
ezfs=${1:-$PWD/bin/ezfs}
bench_work "${META_DIR:-/var/tmp}" ezfs-meta "$ezfs"
zone_and_plain "$ezfs"
tree=${META_TREE:-/usr/local/go/src}
tarball=$work/tree.tar
tar -C "$(dirname "$tree")" -cf "$tarball" "$(basename "$tree")"
top=$(basename "$tree")
declare -A fig
add() { fig[$1,$2]="${fig[$1,$2]:-} $3"; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
timed() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", e - s }'; }
targets=(zone plain)
for r in $(seq "${META_ROUNDS:-8}"); do
	order=("${targets[@]:r%2}" "${targets[@]:0:r%2}")
	line="round $r:"
	for t in "${order[@]}"; do
		d=$mnt/$t
		drop; u=$(timed tar -C "$d" -xf "$tarball")
		drop; l=$(timed ls -lR "$d/$top")
		s=$(timed du -s "$d/$top")
		m=$(timed rm -rf "$d/$top")
		add "$t" untar_s "$u"; add "$t" ls_lR_s "$l"; add "$t" du_s "$s"; add "$t" rm_rf_s "$m"
		line="$line $t untar=$u ls=$l du=$s rm=$m"
	done
	echo "$line"
done
printf '\n%-10s %8s %8s %8s\n' workload zone non-zone zone/nz
for w in untar_s ls_lR_s du_s rm_rf_s; do
	z=$(median "${fig[zone,$w]}") p=$(median "${fig[plain,$w]}")
	printf '%-10s %8s %8s %8s\n' "$w" "$z" "$p" "$(ratio "$z" "$p")"
done
echo "(medians of ${META_ROUNDS:-8} rounds, seconds, lower is better; $(find "$tree" | wc -l) entries; backing on $(df -T "$backing" | awk 'NR == 2 { print $2 }'))"
