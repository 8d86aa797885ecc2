#!/usr/bin/env bash
# `make bench`: the Go benchmarks (content cipher and file, re-encryption walk), then one run
# that mounts a volume and measures, side by side, a zone, a non-zone directory of the same mount
# (data served by the daemon), a non-zone directory of a second mount made with --passthrough
# (data served by the kernel) and the raw backing directory. Every figure is printed with its
# ratio to the non-zone directory; the passthrough directory also with its ratio to raw. Needs root (drop_caches, DirectMount), fio and jq.
# BENCH_SIZE, BENCH_RUNTIME and BENCH_ROUNDS shrink it for a quick look; BENCH_DIR puts the
# volume on another file system (e.g. ext4 made with -I 512); BENCH_GO=0 skips the Go
# benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/benchlib.sh
ezfs=$PWD/bin/ezfs
size=${BENCH_SIZE:-1G}
runtime=${BENCH_RUNTIME:-15}
rounds=${BENCH_ROUNDS:-3}
bench_work "${BENCH_DIR:-/var/tmp}" ezfs-bench "$ezfs"
mnt2=$work/mnt2 backing2=$work/backing2

if [ "${BENCH_GO:-1}" = 1 ]; then
	echo "== Go benchmarks: content cipher and content file (MB/s per suite and chunk size)"
	go test -run '^$' -bench . -benchtime 1x -count 1 ./zone/chunk ./zone/content >/dev/null # warm build
	go test -run '^$' -bench . -count 1 ./zone/chunk ./zone/content | grep -E '^(Benchmark|ok)'
	echo "== Go benchmarks: re-encryption walk of 100k files (files/s)"
	go test -run '^$' -bench Walk100k -benchtime 3x ./zone/reencrypt/ | grep -E '^(Benchmark|ok)'
fi

zone_and_plain "$ezfs"
mkdir "$backing/raw"
new_volume "$ezfs" "$backing2" "$mnt2" --passthrough
mkdir "$mnt2/plain"

declare -A fig
targets=(zone plain passthrough raw)
dir_of() { case $1 in raw) echo "$backing/raw" ;; passthrough) echo "$mnt2/plain" ;; *) echo "$mnt/$1" ;; esac; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
fio_run() { # fio_run NAME DIR ARGS... -> prints MB/s or IOPS
	local name=$1 dir=$2; shift 2
	fio --name="$name" --directory="$dir" --filename=fio.dat --size="$size" --ioengine=psync \
		--output-format=json "$@" >"$work/fio.json"
}
bw() { jq -r ".jobs[0].$1.bw_bytes / 1e6 | floor" "$work/fio.json"; }
iops() { jq -r ".jobs[0].$1.iops | floor" "$work/fio.json"; }
timed() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", e - s }'; }

tarball=$work/gosrc.tar
tar -C /usr/local/go -cf "$tarball" src
add() { fig[$1,$2]="${fig[$1,$2]:-} $3"; }
# Rounds interleave the targets, so a noisy neighbour hurts all alike, and each round starts
# with another target; the table shows the median of the rounds. On this shared virtual disk
# the host goes on flushing for seconds after a write and its fsync returned, slowing whatever
# runs next: every measurement starts after settle (sync, then BENCH_SETTLE seconds), and
# every target's file is written before any is read.
settle() { sync; sleep "${BENCH_SETTLE:-3}"; }
for round in $(seq "$rounds"); do
	order=("${targets[@]:round%${#targets[@]}}" "${targets[@]:0:round%${#targets[@]}}")
	for t in "${order[@]}"; do
		settle; fio_run seqw "$(dir_of "$t")" --rw=write --bs=1M --end_fsync=1; add "$t" seq_write_MBps "$(bw write)"
	done
	for t in "${order[@]}"; do
		d=$(dir_of "$t")
		settle; drop; fio_run seqr "$d" --rw=read --bs=1M; add "$t" seq_read_cold_MBps "$(bw read)"
		fio_run seqr "$d" --rw=read --bs=1M --invalidate=0; add "$t" seq_read_warm_MBps "$(bw read)"
		# The noisiest figure gets a second sample per round.
		drop; fio_run seqr "$d" --rw=read --bs=1M; add "$t" seq_read_cold_MBps "$(bw read)"
	done
	for t in "${order[@]}"; do
		d=$(dir_of "$t")
		settle; fio_run randr "$d" --rw=randread --bs=4k --direct=1 --runtime="$runtime" --time_based; add "$t" rand_read_4k_iops "$(iops read)"
		settle; fio_run randw "$d" --rw=randwrite --bs=4k --direct=1 --runtime="$runtime" --time_based; add "$t" rand_write_4k_iops "$(iops write)"
		rm -f "$d/fio.dat"
	done
	for t in "${order[@]}"; do
		d=$(dir_of "$t")
		settle; drop; add "$t" untar_s "$(timed tar -C "$d" -xf "$tarball")"
		settle; drop; add "$t" ls_lR_s "$(timed ls -lR "$d/src")"
		add "$t" du_s "$(timed du -s "$d/src")"
		add "$t" rm_rf_s "$(timed rm -rf "$d/src")"
	done
	echo "round $round of $rounds done" >&2
done

printf '\n%-22s %10s %10s %10s %10s %8s %8s %8s\n' workload zone non-zone passthru raw zone/nz raw/nz pt/raw
for w in seq_write_MBps seq_read_cold_MBps seq_read_warm_MBps rand_read_4k_iops rand_write_4k_iops untar_s ls_lR_s du_s rm_rf_s; do
	z=$(median "${fig[zone,$w]}") p=$(median "${fig[plain,$w]}") t=$(median "${fig[passthrough,$w]}") r=$(median "${fig[raw,$w]}")
	printf '%-22s %10s %10s %10s %10s %8s %8s %8s\n' "$w" "$z" "$p" "$t" "$r" "$(ratio "$z" "$p")" "$(ratio "$r" "$p")" "$(ratio "$t" "$r")"
done
cat <<EOF2
(medians of $rounds rounds, of two samples a round for cold reads; throughput and IOPS: higher is better; seconds: lower is better;
 size=$size, random runtime=${runtime}s, fio psync, 1 job)
Data paths: zone and non-zone are served by the daemon (no kernel passthrough); passthru is
a non-zone directory of a second mount made with --passthrough (the kernel serves its data
from the backing file; pt/raw is its ratio to raw). fio's O_DIRECT (4 KiB random) reaches
the daemon in both, and both read their backing file with O_DIRECT (a zone file's 4136-byte
sealed chunks are read as the aligned blocks around them); writes keep O_DIRECT only outside
zones (a zone's are buffered in the backing page cache, as chunks cannot be written aligned).
raw is ext4 itself (O_DIRECT to the disk). Warm reads re-read the file just read;
zone files keep the kernel page cache across opens (FOPEN_KEEP_CACHE), non-zone files do not.
EOF2
