#!/usr/bin/env bash
# `make bench`: the content-cipher Go benchmarks, then one run that mounts a volume and measures,
# side by side, a zone, a non-zone directory of the same mount (data served by the daemon) and
# the raw backing directory. Every mount figure is printed with its ratio to the non-zone
# directory. Needs root (drop_caches, DirectMount), fio and jq. BENCH_SIZE and BENCH_RUNTIME
# shrink it for a quick look.
set -euo pipefail
cd "$(dirname "$0")/.."
ezfs=$PWD/bin/ezfs
size=${BENCH_SIZE:-1G}
runtime=${BENCH_RUNTIME:-15}
work=$(mktemp -d /var/tmp/ezfs-bench.XXXXXX)
mnt=$work/mnt backing=$work/backing
cleanup() {
	grep -q " $mnt " /proc/mounts && { "$ezfs" unmount "$mnt" || umount -l "$mnt"; }
	rm -rf "$work"
}
trap cleanup EXIT

echo "== Go benchmarks: content cipher and content file (MB/s per suite and chunk size)"
go test -run '^$' -bench . -benchtime 1x -count 1 ./zone/chunk ./zone/content >/dev/null # warm build
go test -run '^$' -bench . -count 1 ./zone/chunk ./zone/content | grep -E '^(Benchmark|ok)'

mkdir -p "$backing" "$mnt"
printf 'bench passphrase\n' >"$work/pass"
export EZFS_PASSPHRASE_FILE=$work/pass EZFS_TEST_FAST_KDF=1
"$ezfs" init "$backing" >/dev/null
"$ezfs" key create benchkey --backing "$backing" >/dev/null
"$ezfs" mount "$backing" "$mnt"
mkdir "$mnt/zone" "$mnt/plain" "$backing/raw"
"$ezfs" zone create "$mnt/zone" --key benchkey >/dev/null

declare -A fig
targets=(zone plain raw)
dir_of() { case $1 in raw) echo "$backing/raw" ;; *) echo "$mnt/$1" ;; esac; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
fio_run() { # fio_run NAME DIR ARGS... -> prints MB/s or IOPS
	local name=$1 dir=$2; shift 2
	fio --name="$name" --directory="$dir" --filename=fio.dat --size="$size" --ioengine=psync \
		--output-format=json "$@" >"$work/fio.json"
}
bw() { jq -r ".jobs[0].$1.bw_bytes / 1e6 | floor" "$work/fio.json"; }
iops() { jq -r ".jobs[0].$1.iops | floor" "$work/fio.json"; }
timed() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", e - s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

tarball=$work/gosrc.tar
tar -C /usr/local/go -cf "$tarball" src
for t in "${targets[@]}"; do
	d=$(dir_of "$t")
	fio_run seqw "$d" --rw=write --bs=1M --end_fsync=1; fig[$t,seq_write_MBps]=$(bw write)
	drop; fio_run seqr "$d" --rw=read --bs=1M; fig[$t,seq_read_cold_MBps]=$(bw read)
	fio_run randr "$d" --rw=randread --bs=4k --direct=1 --runtime="$runtime" --time_based; fig[$t,rand_read_4k_iops]=$(iops read)
	fio_run randw "$d" --rw=randwrite --bs=4k --direct=1 --runtime="$runtime" --time_based; fig[$t,rand_write_4k_iops]=$(iops write)
	rm -f "$d/fio.dat"
	drop; fig[$t,untar_s]=$(timed tar -C "$d" -xf "$tarball")
	drop; fig[$t,ls_lR_s]=$(timed ls -lR "$d/src")
	fig[$t,du_s]=$(timed du -s "$d/src")
	fig[$t,rm_rf_s]=$(timed rm -rf "$d/src")
done

printf '\n%-22s %12s %12s %12s %10s %10s\n' workload zone non-zone raw zone/nz raw/nz
for w in seq_write_MBps seq_read_cold_MBps rand_read_4k_iops rand_write_4k_iops untar_s ls_lR_s du_s rm_rf_s; do
	z=${fig[zone,$w]} p=${fig[plain,$w]} r=${fig[raw,$w]}
	printf '%-22s %12s %12s %12s %10s %10s\n' "$w" "$z" "$p" "$r" "$(ratio "$z" "$p")" "$(ratio "$r" "$p")"
done
echo "(throughput and IOPS: higher is better; seconds: lower is better; size=$size, random runtime=${runtime}s, 4 KiB random with O_DIRECT)"
