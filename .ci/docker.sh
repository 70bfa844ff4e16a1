#!/usr/bin/env bash
# Prepares a Docker engine and the stand-in images for the real-engine tests.
# Idempotent: every step is skipped when already done.
#
#   1. installs Debian's docker.io, mmdebstrap and qemu-user-static with
#      binfmt-support when missing;
#   2. starts dockerd in the background when no engine answers (log: /tmp/dockerd.log);
#   3. registers qemu-aarch64 with binfmt_misc, so that the engine runs arm64
#      containers (mounting binfmt_misc first when it is not mounted);
#   4. builds three stand-in build images with mmdebstrap when the engine
#      does not have them yet, each Debian with python3, pip and binutils:
#        - bookworm (Python 3.11) for linux/amd64: the python3.11 x86_64 target;
#        - bookworm (Python 3.11) for linux/arm64: the python3.11 arm64 target;
#        - trixie (Python 3.13) for linux/amd64: the python3.13 x86_64 target;
#   5. derives from each a stand-in Lambda base image for verify and the
#      container-image fallback: LAMBDA_TASK_ROOT=/var/task, WORKDIR /var/task
#      and an ENTRYPOINT that, like AWS's, takes the handler as its one
#      argument; this one imports the handler and calls it once with
#      $LAYERS_EVENT (default {}), printing the result as JSON.
#
# Each image is loaded from a hand-written docker-archive (config, manifest,
# the root file system as its one layer) rather than with `docker import`:
# the engine's import records the host's architecture whatever --platform
# says, and an arm64 image labelled amd64 is one the builder refuses.
#
# The root file systems are cached as tarballs under $LAYERS_STANDIN_CACHE
# (default /var/cache/layers-standin), named by suite, architecture and a
# digest of the recipe, so that a machine that lost its images (or a CI
# runner that keeps that folder) loads them again in seconds; the arm64
# bootstrap runs under qemu and takes minutes.
#
# The Debian mirror is read from this machine's apt configuration at run time
# (override with LAYERS_DEBIAN_MIRROR); no mirror host is written here. A
# suite the apt configuration does not list (trixie on a bookworm machine)
# uses the mirror of the machine's own release.
# LAYERS_STANDIN_IMAGE, LAYERS_STANDIN_LAMBDA_IMAGE, LAYERS_STANDIN_ARM64_IMAGE,
# LAYERS_STANDIN_ARM64_LAMBDA_IMAGE, LAYERS_STANDIN_PY313_IMAGE and
# LAYERS_STANDIN_PY313_LAMBDA_IMAGE override the image tags (the tests read
# the same variables).
set -euo pipefail

IMAGE="${LAYERS_STANDIN_IMAGE:-layers-standin/build-python3.11:bookworm}"
LAMBDA_IMAGE="${LAYERS_STANDIN_LAMBDA_IMAGE:-layers-standin/lambda-python3.11:bookworm}"
ARM64_IMAGE="${LAYERS_STANDIN_ARM64_IMAGE:-layers-standin/build-python3.11:bookworm-arm64}"
ARM64_LAMBDA_IMAGE="${LAYERS_STANDIN_ARM64_LAMBDA_IMAGE:-layers-standin/lambda-python3.11:bookworm-arm64}"
PY313_IMAGE="${LAYERS_STANDIN_PY313_IMAGE:-layers-standin/build-python3.13:trixie}"
PY313_LAMBDA_IMAGE="${LAYERS_STANDIN_PY313_LAMBDA_IMAGE:-layers-standin/lambda-python3.13:trixie}"
CACHE="${LAYERS_STANDIN_CACHE:-/var/cache/layers-standin}"
PACKAGES=python3,python3-pip,binutils
DOCKERD_LOG=/tmp/dockerd.log
DOCKERD_WAIT=60 # seconds
MMDEBSTRAP_LOG=/tmp/mmdebstrap.log
BINFMT=/proc/sys/fs/binfmt_misc
TMPFILES=()
ROOTFS=

log() { printf 'docker.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

cleanup() { [ "${#TMPFILES[@]}" -eq 0 ] || as_root rm -rf "${TMPFILES[@]}"; }
trap cleanup EXIT

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# mirror SUITE prints the first Debian mirror the apt configuration uses for
# "SUITE main", from one-line sources.list files and deb822 .sources files;
# with no entry for SUITE, the first one for a release suite (one without a
# '-', so never the security or updates archives).
mirror() {
	if [ -n "${LAYERS_DEBIAN_MIRROR:-}" ]; then
		printf '%s\n' "$LAYERS_DEBIAN_MIRROR"
		return
	fi
	local m
	m="$(mirror_for "$1")"
	[ -n "$m" ] || m="$(mirror_for '')"
	printf '%s\n' "${m%%$'\n'*}"
}

# mirror_for SUITE prints the mirrors of "SUITE main" entries; SUITE ""
# matches any release suite.
mirror_for() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk -v suite="$1" '
			$1 == "deb" {
				i = 2
				if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				uri = $i; s = $(i + 1)
				if (suite == "" ? s ~ /-/ : s != suite) next
				for (j = i + 2; j <= NF; j++) if ($j == "main") { print uri; exit }
			}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk -v suite="$1" '
			function matches(   n, a, k) {
				if (suite != "") return (" " suites " ") ~ (" " suite " ")
				n = split(suites, a, " ")
				for (k = 1; k <= n; k++) if (a[k] !~ /-/) return 1
				return 0
			}
			function flush() {
				if (types ~ /(^| )deb( |$)/ && matches() && (" " comps " ") ~ / main /) {
					split(uris, u, " "); print u[1]; found = 1
				}
				types = suites = comps = uris = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); if (found) exit; next }
			{
				key = $1; sub(/:$/, "", key); $1 = ""; sub(/^ +/, "")
				if (key == "Types") types = $0
				else if (key == "Suites") suites = $0
				else if (key == "Components") comps = $0
				else if (key == "URIs") uris = $0
			}
			END { if (!found) flush() }' "$f"
	done
}

install_packages() {
	local missing=()
	command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
	command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
	[ -x /usr/bin/qemu-aarch64-static ] || missing+=(qemu-user-static)
	command -v update-binfmts >/dev/null 2>&1 || [ -x /usr/sbin/update-binfmts ] || missing+=(binfmt-support)
	[ "${#missing[@]}" -eq 0 ] && return
	log "installing ${missing[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

start_engine() {
	if docker info >/dev/null 2>&1; then
		log "engine answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
		return
	fi
	case "${DOCKER_HOST:-unix:///var/run/docker.sock}" in
	unix:///var/run/docker.sock) ;;
	*) die "DOCKER_HOST=$DOCKER_HOST does not answer; refusing to start a local dockerd in its place" ;;
	esac
	log "starting dockerd (log: $DOCKERD_LOG)"
	as_root sh -c "nohup dockerd >>'$DOCKERD_LOG' 2>&1 </dev/null &"
	local i
	for ((i = 0; i < DOCKERD_WAIT; i++)); do
		if docker info >/dev/null 2>&1; then
			log "engine up after ${i}s"
			return
		fi
		sleep 1
	done
	tail -n 20 "$DOCKERD_LOG" >&2 || true
	die "dockerd did not answer within ${DOCKERD_WAIT}s; see $DOCKERD_LOG"
}

# enable_binfmt registers qemu-aarch64 so that the kernel runs aarch64
# binaries, in containers too: the F (fix binary) flag makes the kernel
# open the interpreter at registration, so it need not exist inside images.
enable_binfmt() {
	# Looking for register also triggers a systemd automount of binfmt_misc.
	if [ ! -e "$BINFMT/register" ]; then
		log "mounting binfmt_misc"
		as_root mount -t binfmt_misc binfmt_misc "$BINFMT"
	fi
	if ! grep -qs '^enabled' "$BINFMT/qemu-aarch64"; then
		as_root update-binfmts --enable qemu-aarch64
	fi
	grep -qs '^enabled' "$BINFMT/qemu-aarch64" || die "qemu-aarch64 is not enabled in $BINFMT"
	grep -qs '^flags:.*F' "$BINFMT/qemu-aarch64" ||
		die "qemu-aarch64 is registered without the F flag: containers cannot find the interpreter"
}

# rootfs SUITE ARCH sets ROOTFS to the cached root file system tarball for
# SUITE on ARCH (a Debian architecture), bootstrapping it when missing. A
# tarball is moved into the cache only once complete.
rootfs() {
	local suite=$1 arch=$2 hooks=/usr/share/mmdebstrap/hooks m key tarball tmp start=$SECONDS
	key="$(printf '%s\n' "$suite" "$arch" "$PACKAGES" variant=essential merged-usr eatmydata no-docs | sha256sum | cut -c1-12)"
	tarball="$CACHE/$suite-$arch-$key.tar"
	if [ -s "$tarball" ]; then
		log "root file system $suite/$arch cached ($tarball)"
		ROOTFS=$tarball
		return
	fi
	[ -d "$hooks/merged-usr" ] && [ -d "$hooks/eatmydata" ] || die "mmdebstrap hook dirs missing under $hooks"
	m="$(mirror "$suite")"
	[ -n "$m" ] || die "no 'deb ... main' entry in /etc/apt/sources.list{,.d/*}; set LAYERS_DEBIAN_MIRROR"
	log "bootstrapping $suite for $arch (mirror from apt configuration; log: $MMDEBSTRAP_LOG)"
	as_root mkdir -p "$CACHE"
	tmp="$(as_root mktemp "$CACHE/.$suite-$arch.XXXXXX.tar")"
	TMPFILES+=("$tmp")
	if ! as_root mmdebstrap --quiet --variant=essential --arch="$arch" \
		--include="$PACKAGES" \
		--hook-dir="$hooks/merged-usr" --hook-dir="$hooks/eatmydata" \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--dpkgopt='path-exclude=/usr/share/info/*' \
		"$suite" "$tmp" "deb $m $suite main" >"$MMDEBSTRAP_LOG" 2>&1; then
		tail -n 30 "$MMDEBSTRAP_LOG" >&2 || true
		die "mmdebstrap $suite/$arch failed; see $MMDEBSTRAP_LOG"
	fi
	as_root chmod 0644 "$tmp"
	as_root mv "$tmp" "$tarball"
	log "bootstrapped $suite for $arch in $((SECONDS - start))s ($(stat -c %s "$tarball") bytes)"
	ROOTFS=$tarball
}

# build_image TAG SUITE ARCH loads the stand-in build image TAG for the
# Debian architecture ARCH (amd64, arm64) from the root file system of
# SUITE, when the engine does not have it yet.
build_image() {
	local tag=$1 suite=$2 arch=$3 tarball dir diff got start=$SECONDS
	if docker image inspect "$tag" >/dev/null 2>&1; then
		log "image $tag present"
		return
	fi
	rootfs "$suite" "$arch"
	tarball=$ROOTFS
	dir="$(mktemp -d /tmp/layers-standin.XXXXXX)"
	TMPFILES+=("$dir")
	diff="$(sha256sum "$tarball" | cut -d' ' -f1)"
	# The image's config: what `docker import --change` would set, with the
	# right architecture; its one layer is the root file system as is.
	printf '{"architecture":"%s","os":"linux","created":"%s","config":{"Env":["LANG=C.UTF-8"],"Cmd":["python3"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"%s","created_by":"mmdebstrap %s %s (.ci/docker.sh)"}]}' \
		"$arch" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$diff" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$suite" "$arch" >"$dir/config.json"
	printf '[{"Config":"config.json","RepoTags":["%s"],"Layers":["rootfs.tar"]}]' "$tag" >"$dir/manifest.json"
	ln -s "$tarball" "$dir/rootfs.tar"
	tar -C "$dir" --dereference -cf - manifest.json config.json rootfs.tar | docker load >/dev/null
	got="$(docker image inspect --format '{{.Os}}/{{.Architecture}}' "$tag")"
	[ "$got" = "linux/$arch" ] || die "image $tag is for $got, not linux/$arch"
	log "loaded $tag ($got) in $((SECONDS - start))s, $(docker image inspect --format '{{.Size}}' "$tag") bytes"
}

# build_lambda_image BASE TAG ARCH commits a created (never started)
# container of the build image BASE with the entrypoint files copied in:
# no pull, no builder. A commit keeps the base image's architecture.
build_lambda_image() {
	local base=$1 tag=$2 arch=$3 dir ctr
	if docker image inspect "$tag" >/dev/null 2>&1; then
		log "image $tag present"
		return
	fi
	dir="$(mktemp -d /tmp/layers-lambda-standin.XXXXXX)"
	TMPFILES+=("$dir")
	mkdir -p "$dir/var/task" "$dir/var/runtime"
	cat >"$dir/lambda-entrypoint.sh" <<-'EOS'
	#!/bin/sh
	# Stand-in for the Lambda base image's entrypoint: the handler is the one argument.
	if [ $# -ne 1 ]; then
		echo "entrypoint requires the handler name to be the first argument" >&2
		exit 142
	fi
	exec python3 /var/runtime/bootstrap.py "$1"
	EOS
	cat >"$dir/var/runtime/bootstrap.py" <<-'EOS'
	"""Stand-in for the Lambda runtime: import the handler from LAMBDA_TASK_ROOT
	and call it once with the event in $LAYERS_EVENT, printing the result."""
	import importlib, json, os, sys

	module, _, name = sys.argv[1].rpartition(".")
	sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", "/var/task"))
	handler = getattr(importlib.import_module(module.replace("/", ".")), name)
	print(json.dumps(handler(json.loads(os.environ.get("LAYERS_EVENT", "{}")), None)))
	EOS
	chmod 0755 "$dir/lambda-entrypoint.sh" "$dir/var" "$dir/var/task" "$dir/var/runtime"
	chmod 0644 "$dir/var/runtime/bootstrap.py"
	ctr="$(docker create --platform "linux/$arch" "$base")"
	tar -C "$dir" --owner=0 --group=0 --numeric-owner -cf - . | docker cp - "$ctr:/"
	docker commit \
		--change 'ENV LAMBDA_TASK_ROOT=/var/task' \
		--change 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
		--change 'WORKDIR /var/task' \
		--change 'ENTRYPOINT ["/lambda-entrypoint.sh"]' \
		--change 'CMD []' \
		"$ctr" "$tag" >/dev/null
	docker rm "$ctr" >/dev/null
	log "built $tag from $base"
}

# check_runs TAG ARCH MACHINE runs python3 in TAG and checks that it runs
# on MACHINE (platform.machine()): proof that binfmt works in containers.
check_runs() {
	local got
	got="$(docker run --rm --platform "linux/$2" --entrypoint python3 "$1" -c 'import platform, sys; print(platform.machine(), "%d.%d" % sys.version_info[:2])')" ||
		die "python3 does not run in $1"
	case "$got" in
	"$3 "*) log "$1 runs: $got" ;;
	*) die "$1 runs on '$got', want $3" ;;
	esac
}

install_packages
start_engine
enable_binfmt
build_image "$IMAGE" bookworm amd64
build_lambda_image "$IMAGE" "$LAMBDA_IMAGE" amd64
build_image "$PY313_IMAGE" trixie amd64
build_lambda_image "$PY313_IMAGE" "$PY313_LAMBDA_IMAGE" amd64
build_image "$ARM64_IMAGE" bookworm arm64
build_lambda_image "$ARM64_IMAGE" "$ARM64_LAMBDA_IMAGE" arm64
check_runs "$ARM64_LAMBDA_IMAGE" arm64 aarch64
check_runs "$PY313_LAMBDA_IMAGE" amd64 x86_64
