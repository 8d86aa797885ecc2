#!/usr/bin/env bash
# bench-ab.sh A B: compare two ezfs builds on this noisy machine. Both are mounted side by
# side (a fresh volume each, with a zone and a non-zone directory) and every round runs, for
# A then B, a sequential 1 MiB fio write and read of one file in the zone and in the
# non-zone directory, so that load from elsewhere hits both builds alike. Prints each round
# and, per build, the medians and the zone / non-zone ratios. Needs root, fio and jq.
#
#   AB_SIZE=1G (file size)  AB_ROUNDS=3  AB_DIR=/var/tmp (where the volumes go)
#   AB_WRITE="--end_fsync=1" (extra fio write options; "--loops=8 --overwrite=1" rewrites a
#                            warm file: the daemon's CPU cost without the disk's noise)
#   AB_COLD=1                (drop caches before each read; 0 reads the file warm)
#   AB_RANDREAD=0            (N > 0: instead of the sequential read, N seconds of 4 KiB
#                            O_DIRECT random reads; the read figures are then IOPS)
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 EZFS_A EZFS_B" >&2; exit 2; }
. "$(dirname "$0")/benchlib.sh"
declare -A bin=([a]=$1 [b]=$2)
size=${AB_SIZE:-1G} rounds=${AB_ROUNDS:-3} wopts=${AB_WRITE:---end_fsync=1}
bench_work "${AB_DIR:-/var/tmp}" ezfs-ab "${bin[a]}"
for m in a b; do
	new_volume "${bin[$m]}" "$work/$m/backing" "$work/$m/mnt"
	new_zone "${bin[$m]}" "$work/$m/mnt/zone"
	mkdir "$work/$m/mnt/plain"
done
mbps() { jq -r ".jobs[0].$1.bw_bytes / 1e6 | floor" "$work/fio.json"; }
declare -A res
for r in $(seq "$rounds"); do
	line="round $r:"
	for m in a b; do
		for t in zone plain; do
			d=$work/$m/mnt/$t
			sync
			# shellcheck disable=SC2086 # wopts is a list of options
			fio --name=w --directory="$d" --filename=fio.dat --size="$size" --ioengine=psync --rw=write --bs=1M $wopts --output-format=json >"$work/fio.json"
			w=$(mbps write)
			[ "${AB_COLD:-1}" = 0 ] || { sync; echo 3 >/proc/sys/vm/drop_caches; }
			if [ "${AB_RANDREAD:-0}" -gt 0 ]; then
				fio --name=r --directory="$d" --filename=fio.dat --size="$size" --ioengine=psync --rw=randread --bs=4k --direct=1 \
					--runtime="$AB_RANDREAD" --time_based --output-format=json >"$work/fio.json"
				rd=$(jq -r '.jobs[0].read.iops | floor' "$work/fio.json")
			else
				fio --name=r --directory="$d" --filename=fio.dat --size="$size" --ioengine=psync --rw=read --bs=1M --output-format=json >"$work/fio.json"
				rd=$(mbps read)
			fi
			rm -f "$d/fio.dat"
			res[$m,$t,w]="${res[$m,$t,w]:-} $w" res[$m,$t,r]="${res[$m,$t,r]:-} $rd"
			line="$line $m-$t w=$w r=$rd"
		done
	done
	echo "$line"
done
unit=MB/s
[ "${AB_RANDREAD:-0}" -gt 0 ] && unit=IOPS
for m in a b; do
	zw=$(median "${res[$m,zone,w]}") pw=$(median "${res[$m,plain,w]}") zr=$(median "${res[$m,zone,r]}") pr=$(median "${res[$m,plain,r]}")
	echo "$m (${bin[$m]}): write MB/s zone $zw non-zone $pw ratio $(ratio "$zw" "$pw") | read $unit zone $zr non-zone $pr ratio $(ratio "$zr" "$pr")"
done
