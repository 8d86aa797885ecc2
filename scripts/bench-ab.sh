#!/usr/bin/env bash
# bench-ab.sh A B: compare two ezfs builds on this noisy machine. Both are mounted side by
# side (a fresh volume each, with a zone and a non-zone directory) and every round runs, for
# A then B, a sequential 1 MiB fio write and read of one file in the zone and in the
# non-zone directory, so that load from elsewhere hits both builds alike. Prints each round
# and, per build, the medians and the zone / non-zone ratios, and the CPU time its daemon
# spent on each read (d=, ms), which the machine's noise moves far less than the
# throughput. Needs root, fio and jq.
#
#   AB_SIZE=1G (file size)  AB_ROUNDS=3  AB_DIR=/var/tmp (where the volumes go)
#   AB_WRITE="--end_fsync=1" (extra fio write options; "--loops=8 --overwrite=1" rewrites a
#                            warm file: the daemon's CPU cost without the disk's noise)
#   AB_COLD=1                (drop caches before each read; 0 reads the file warm)
#   AB_KEEP=0                (1: write each file in the first round only and keep it, so
#                            later rounds only read: no read right after its own write)
#   AB_RANDREAD=0            (N > 0: instead of the sequential read, N seconds of 4 KiB
#                            O_DIRECT random reads; the read figures are then IOPS)
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 EZFS_A EZFS_B" >&2; exit 2; }
. "$(dirname "$0")/benchlib.sh"
declare -A bin=([a]=$1 [b]=$2) daemon
size=${AB_SIZE:-1G} rounds=${AB_ROUNDS:-3} wopts=${AB_WRITE:---end_fsync=1}
bench_work "${AB_DIR:-/var/tmp}" ezfs-ab "${bin[a]}"
for m in a b; do
	new_volume "${bin[$m]}" "$work/$m/backing" "$work/$m/mnt"
	new_zone "${bin[$m]}" "$work/$m/mnt/zone"
	mkdir "$work/$m/mnt/plain"
	daemon[$m]=$(daemon_of "$work/$m/mnt")
done
mbps() { jq -r ".jobs[0].$1.bw_bytes / 1e6 | floor" "$work/fio.json"; }
declare -A res
for r in $(seq "$rounds"); do
	line="round $r:"
	for m in a b; do
		for t in zone plain; do
			d=$work/$m/mnt/$t
			sync
			w=-
			if [ "${AB_KEEP:-0}" = 0 ] || [ "$r" = 1 ]; then
				# shellcheck disable=SC2086 # wopts is a list of options
				fio --name=w --directory="$d" --filename=fio.dat --size="$size" --ioengine=psync --rw=write --bs=1M $wopts --output-format=json >"$work/fio.json"
				w=$(mbps write)
				res[$m,$t,w]="${res[$m,$t,w]:-} $w"
			fi
			[ "${AB_COLD:-1}" = 0 ] || { sync; echo 3 >/proc/sys/vm/drop_caches; }
			before=$(cpu_ms "${daemon[$m]}")
			if [ "${AB_RANDREAD:-0}" -gt 0 ]; then
				fio --name=r --directory="$d" --filename=fio.dat --size="$size" --ioengine=psync --rw=randread --bs=4k --direct=1 \
					--runtime="$AB_RANDREAD" --time_based --output-format=json >"$work/fio.json"
				rd=$(jq -r '.jobs[0].read.iops | floor' "$work/fio.json")
			else
				fio --name=r --directory="$d" --filename=fio.dat --size="$size" --ioengine=psync --rw=read --bs=1M --output-format=json >"$work/fio.json"
				rd=$(mbps read)
			fi
			dms=$(($(cpu_ms "${daemon[$m]}") - before))
			[ "${AB_KEEP:-0}" = 1 ] || rm -f "$d/fio.dat"
			res[$m,$t,r]="${res[$m,$t,r]:-} $rd" res[$m,$t,d]="${res[$m,$t,d]:-} $dms"
			line="$line $m-$t w=$w r=$rd d=$dms"
		done
	done
	echo "$line"
done
unit=MB/s
[ "${AB_RANDREAD:-0}" -gt 0 ] && unit=IOPS
for m in a b; do
	zw=$(median "${res[$m,zone,w]}") pw=$(median "${res[$m,plain,w]}") zr=$(median "${res[$m,zone,r]}") pr=$(median "${res[$m,plain,r]}")
	zd=$(median "${res[$m,zone,d]}") pd=$(median "${res[$m,plain,d]}")
	echo "$m (${bin[$m]}): write MB/s zone $zw non-zone $pw ratio $(ratio "$zw" "$pw") | read $unit zone $zr non-zone $pr ratio $(ratio "$zr" "$pr") | daemon CPU ms per read zone $zd non-zone $pd"
done
