#!/usr/bin/env bash
# bench-coldread.sh: cold sequential reads only, many times. Writes one file in a zone, in a
# non-zone directory of the same mount and on the raw backing directory, then in each round
# drops all caches before reading each of them (fio, 1 MiB requests) and prints the figures
# and the zone / non-zone ratio; at the end the median ratio. Needs root, fio and jq.
#
#   COLD_SIZE=1G  COLD_ROUNDS=6  COLD_DIR=/var/tmp (where the volume goes)
#   COLD_READAHEAD_KB=N  sets the mount's read-ahead after mounting (ezfs sets 4096)
#   EZFS=bin/ezfs        the build to measure
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/benchlib.sh
ezfs=${EZFS:-$PWD/bin/ezfs}
size=${COLD_SIZE:-1G} rounds=${COLD_ROUNDS:-6}
bench_work "${COLD_DIR:-/var/tmp}" ezfs-coldread "$ezfs"
zone_and_plain "$ezfs"
mkdir "$backing/raw"
if [ -n "${COLD_READAHEAD_KB:-}" ]; then
	dev=$(mountpoint -d "$mnt")
	echo "$COLD_READAHEAD_KB" >"/sys/class/bdi/$dev/read_ahead_kb"
fi
dir_of() { case $1 in raw) echo "$backing/raw" ;; *) echo "$mnt/$1" ;; esac; }
fio_run() { fio --name=c --directory="$(dir_of "$1")" --filename=fio.dat --size="$size" --ioengine=psync --bs=1M --output-format=json "${@:2}"; }
for t in zone plain raw; do
	fio_run "$t" --rw=write --end_fsync=1 >/dev/null
done
ratios=""
for r in $(seq "$rounds"); do
	declare -A mb
	for t in zone plain raw; do
		sync
		echo 3 >/proc/sys/vm/drop_caches
		mb[$t]=$(fio_run "$t" --rw=read | jq -r '.jobs[0].read.bw_bytes / 1e6 | floor')
	done
	rt=$(ratio "${mb[zone]}" "${mb[plain]}")
	ratios="$ratios $rt"
	echo "round $r: MB/s zone ${mb[zone]} non-zone ${mb[plain]} raw ${mb[raw]}; zone / non-zone $rt"
done
echo "median zone / non-zone $(median "$ratios")"
