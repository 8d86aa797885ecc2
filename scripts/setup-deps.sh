#!/usr/bin/env bash
# Installs the system packages ezfs's build, tests and benchmarks need on a fresh Debian machine:
# fuse3 (fusermount3), attr (setfattr/getfattr), fio and jq (make bench).
set -euo pipefail
need=()
for pkg in fuse3 attr fio jq; do
	dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
