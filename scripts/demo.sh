#!/usr/bin/env bash
# A guided demo on the embedded default: a volume with a local key store (passphrase main key),
# one zone key, one encryption zone, mounted; then a copy in, a listing, what the backing
# directory holds, a key roll with the re-encrypt walk, and the unmount. Run as root (or a
# user allowed to use fusermount3).
set -euo pipefail
cd "$(dirname "$0")/.."
ezfs=$PWD/bin/ezfs
demo=${EZFS_DEMO_DIR:-/tmp/ezfs-demo}
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

if grep -q " $demo/mnt " /proc/mounts; then "$ezfs" unmount "$demo/mnt"; fi
rm -rf "$demo"
mkdir -p "$demo/backing" "$demo/mnt"
(umask 077 && printf 'correct horse battery staple\n' >"$demo/passphrase")
export EZFS_PASSPHRASE_FILE=$demo/passphrase

step "$ezfs" init "$demo/backing"
step "$ezfs" key create securelakekey --backing "$demo/backing"
step "$ezfs" mount "$demo/backing" "$demo/mnt"
trap '"$ezfs" unmount "$demo/mnt" 2>/dev/null || true' EXIT
step mkdir "$demo/mnt/securelake"
step "$ezfs" zone create "$demo/mnt/securelake" --key securelakekey
step cp /etc/services "$demo/mnt/securelake/services.txt"
step cp /etc/services "$demo/mnt/plain.txt"
step ls -l "$demo/mnt" "$demo/mnt/securelake"
step "$ezfs" file info "$demo/mnt/securelake/services.txt"
step "$ezfs" zone list --json
step cmp /etc/services "$demo/mnt/securelake/services.txt"
printf '\nthe backing file holds only ciphertext:\n'
step sh -c "head -c 96 '$demo/backing/securelake/services.txt' | od -A d -t x1 | head -4"
step "$ezfs" key roll securelakekey
step "$ezfs" reencrypt start "$demo/mnt/securelake" --wait
step "$ezfs" file info "$demo/mnt/securelake/services.txt" --json
step "$ezfs" unmount "$demo/mnt"
trap - EXIT
printf '\ndone: the volume is in %s/backing; mount it again with\n  %s mount %s/backing %s/mnt --passphrase-file %s/passphrase\n' \
	"$demo" "$ezfs" "$demo" "$demo" "$demo"
