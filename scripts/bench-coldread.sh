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
ezfs=${EZFS:-$PWD/bin/ezfs}
size=${COLD_SIZE:-1G} rounds=${COLD_ROUNDS:-6}
work=$(mktemp -d "${COLD_DIR:-/var/tmp}/ezfs-coldread.XXXXXX")
mnt=$work/mnt backing=$work/backing
cleanup() {
	grep -q " $mnt " /proc/mounts && { "$ezfs" unmount "$mnt" || umount -l "$mnt"; }
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$backing" "$mnt"
printf 'bench passphrase\n' >"$work/pass"
export EZFS_PASSPHRASE_FILE=$work/pass EZFS_TEST_FAST_KDF=1
"$ezfs" init "$backing" >/dev/null
"$ezfs" key create k --backing "$backing" >/dev/null
"$ezfs" mount "$backing" "$mnt"
if [ -n "${COLD_READAHEAD_KB:-}" ]; then
	dev=$(mountpoint -d "$mnt")
	echo "$COLD_READAHEAD_KB" >"/sys/class/bdi/$dev/read_ahead_kb"
fi
mkdir "$mnt/zone" "$mnt/plain" "$backing/raw"
"$ezfs" zone create "$mnt/zone" --key k >/dev/null 2>&1
dir_of() { case $1 in raw) echo "$backing/raw" ;; *) echo "$mnt/$1" ;; esac; }
fio_run() { fio --name=c --directory="$(dir_of "$1")" --filename=fio.dat --size="$size" --ioengine=psync --bs=1M --output-format=json "${@:2}"; }
for t in zone plain raw; do
	fio_run "$t" --rw=write --end_fsync=1 >/dev/null
done
ratios=()
for r in $(seq "$rounds"); do
	declare -A mb
	for t in zone plain raw; do
		sync
		echo 3 >/proc/sys/vm/drop_caches
		mb[$t]=$(fio_run "$t" --rw=read | jq -r '.jobs[0].read.bw_bytes / 1e6 | floor')
	done
	ratio=$(awk -v a="${mb[zone]}" -v b="${mb[plain]}" 'BEGIN { printf "%.2f", a / b }')
	ratios+=("$ratio")
	echo "round $r: MB/s zone ${mb[zone]} non-zone ${mb[plain]} raw ${mb[raw]}; zone / non-zone $ratio"
done
printf '%s\n' "${ratios[@]}" | sort -g | awk '{ v[NR] = $1 } END { print "median zone / non-zone", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
