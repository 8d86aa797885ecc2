# benchlib.sh, sourced by the bench scripts: a scratch directory that is removed on exit
# together with every mount below it, fresh volumes, and the arithmetic of their tables.

# bench_work DIR PREFIX EZFS: makes $work under DIR and removes it on exit, after EZFS has
# unmounted whatever is still mounted below it. Volumes made by new_volume use its passphrase.
bench_work() {
	work=$(mktemp -d "$1/$2.XXXXXX")
	bench_ezfs=$3
	trap bench_cleanup EXIT
	printf 'bench passphrase\n' >"$work/pass"
	export EZFS_PASSPHRASE_FILE=$work/pass EZFS_TEST_FAST_KDF=1
}

bench_cleanup() {
	local m
	for m in $(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts); do
		"$bench_ezfs" unmount "$m" || umount -l "$m"
	done
	rm -rf "$work"
}

# new_volume EZFS BACKING MNT [MOUNT FLAGS...]: a fresh volume with zone key k, mounted.
new_volume() {
	local ezfs=$1 backing=$2 mnt=$3
	shift 3
	mkdir -p "$backing" "$mnt"
	"$ezfs" init "$backing" >/dev/null
	"$ezfs" key create k --backing "$backing" >/dev/null
	"$ezfs" mount "$backing" "$mnt" "$@"
}

# zone_and_plain EZFS: sets backing and mnt under $work, mounts a fresh volume there, and
# makes $mnt/zone a zone and $mnt/plain a plain directory.
zone_and_plain() {
	mnt=$work/mnt backing=$work/backing
	new_volume "$1" "$backing" "$mnt"
	new_zone "$1" "$mnt/zone"
	mkdir "$mnt/plain"
}

# new_zone EZFS DIR: makes DIR a zone under key k.
new_zone() {
	mkdir "$2"
	"$1" zone create "$2" --key k >/dev/null 2>&1
}

# daemon_of MNT: the process id of the ezfs daemon serving MNT.
daemon_of() { pgrep -f -- " $1( |$)" | head -n 1; }

# cpu_ms PID: the CPU time (user and system) process PID has used so far, in ms.
cpu_ms() { awk '{ print ($14 + $15) * 1000 / '"$(getconf CLK_TCK)"' }' "/proc/$1/stat"; }

# median "N N ...": the median of the numbers.
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# ratio A B: A / B with two decimals (0 when B is 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
