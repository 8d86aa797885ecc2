#!/usr/bin/env bash
# bench-coldread.sh: cold sequential reads only, many times. Writes one file in a zone, in a
# non-zone directory of the same mount and on the raw backing directory, then in each round
# drops all caches before reading each of them, starting with another one each round (fio,
# 1 MiB requests), and prints the figures, the CPU time the whole machine spent on each read
# (user, system and interrupts of every process: fio, the daemon, the kernel's I/O) and the
# zone / non-zone ratios, and the CPU time of the ezfs daemon alone (the part of the read
# that ezfs's own code decides, and far less noisy than the throughput here); at the end the
# medians. When the CPU-time ratio (non-zone / zone) is close to the throughput ratio, both
# reads were bound by the cores, not by the disk.
# Needs root, fio and jq.
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
# busy_ms: CPU time the machine has spent so far, in ms (user, nice, system, irq, softirq).
busy_ms() { awk '$1 == "cpu" { print ($2 + $3 + $4 + $7 + $8) * 1000 / '"$(getconf CLK_TCK)"' }' /proc/stat; }
daemon=$(daemon_of "$mnt")
ratios="" cpu_ratios="" daemon_ratios=""
targets=(zone plain raw)
for r in $(seq "$rounds"); do
	declare -A mb cpu dcpu
	# Each round starts with another target: the first read after the caches are dropped
	# is not always the same one.
	for t in "${targets[@]:r%3}" "${targets[@]:0:r%3}"; do
		sync
		echo 3 >/proc/sys/vm/drop_caches
		before=$(busy_ms) dbefore=$(cpu_ms "$daemon")
		mb[$t]=$(fio_run "$t" --rw=read | jq -r '.jobs[0].read.bw_bytes / 1e6 | floor')
		cpu[$t]=$(($(busy_ms) - before)) dcpu[$t]=$(($(cpu_ms "$daemon") - dbefore))
	done
	rt=$(ratio "${mb[zone]}" "${mb[plain]}") rc=$(ratio "${cpu[plain]}" "${cpu[zone]}") rd=$(ratio "${dcpu[plain]}" "${dcpu[zone]}")
	ratios="$ratios $rt" cpu_ratios="$cpu_ratios $rc" daemon_ratios="$daemon_ratios $rd"
	echo "round $r: MB/s zone ${mb[zone]} non-zone ${mb[plain]} raw ${mb[raw]}; CPU ms zone ${cpu[zone]} non-zone ${cpu[plain]} raw ${cpu[raw]}; daemon CPU ms zone ${dcpu[zone]} non-zone ${dcpu[plain]}; zone / non-zone $rt, CPU non-zone / zone $rc, daemon $rd"
done
echo "median zone / non-zone $(median "$ratios"), CPU time non-zone / zone $(median "$cpu_ratios"), daemon CPU time non-zone / zone $(median "$daemon_ratios")"
