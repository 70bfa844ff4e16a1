#!/usr/bin/env bash
# Prepares a Docker engine and the stand-in build image for the builder's
# real-engine tests. Idempotent: every step is skipped when already done.
#
#   1. installs Debian's docker.io and mmdebstrap when missing;
#   2. starts dockerd in the background when no engine answers (log: /tmp/dockerd.log);
#   3. builds the stand-in build image (Debian bookworm with python3, pip and
#      binutils) with mmdebstrap when the engine does not have it yet;
#   4. derives from it a stand-in Lambda base image for the container-image
#      fallback: LAMBDA_TASK_ROOT=/var/task, WORKDIR /var/task and an
#      ENTRYPOINT that, like AWS's, takes the handler as its one argument;
#      this one imports the handler and calls it once with $LAYERS_EVENT
#      (default {}), printing the result as JSON.
#
# The Debian mirror is read from this machine's apt configuration at run time
# (override with LAYERS_DEBIAN_MIRROR); no mirror host is written here.
# LAYERS_STANDIN_IMAGE and LAYERS_STANDIN_LAMBDA_IMAGE override the image tags.
set -euo pipefail

IMAGE="${LAYERS_STANDIN_IMAGE:-layers-standin/build-python3.11:bookworm}"
LAMBDA_IMAGE="${LAYERS_STANDIN_LAMBDA_IMAGE:-layers-standin/lambda-python3.11:bookworm}"
SUITE=bookworm
DOCKERD_LOG=/tmp/dockerd.log
DOCKERD_WAIT=60 # seconds
MMDEBSTRAP_LOG=/tmp/mmdebstrap.log
TARBALL=

log() { printf 'docker.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# mirror prints the first Debian mirror the apt configuration uses for
# "$SUITE main", from one-line sources.list files and deb822 .sources files.
mirror() {
	if [ -n "${LAYERS_DEBIAN_MIRROR:-}" ]; then
		printf '%s\n' "$LAYERS_DEBIAN_MIRROR"
		return
	fi
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk -v suite="$SUITE" '
			$1 == "deb" {
				i = 2
				if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				uri = $i; s = $(i + 1)
				if (s != suite) next
				for (j = i + 2; j <= NF; j++) if ($j == "main") { print uri; exit }
			}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk -v suite="$SUITE" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && (" " comps " ") ~ / main /) {
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

build_image() {
	if docker image inspect "$IMAGE" >/dev/null 2>&1; then
		log "image $IMAGE present"
		return
	fi
	local hooks=/usr/share/mmdebstrap/hooks m
	[ -d "$hooks/merged-usr" ] && [ -d "$hooks/eatmydata" ] || die "mmdebstrap hook dirs missing under $hooks"
	m="$(mirror)"
	m="${m%%$'\n'*}"
	[ -n "$m" ] || die "no 'deb ... $SUITE main' entry in /etc/apt/sources.list{,.d/*}; set LAYERS_DEBIAN_MIRROR"
	log "building $IMAGE from $SUITE (mirror from apt configuration)"
	local start=$SECONDS
	# Written to a file first so that a failed bootstrap never becomes an image.
	TARBALL="$(mktemp /tmp/layers-standin.XXXXXX.tar)"
	trap 'rm -f "$TARBALL"' EXIT
	if ! as_root mmdebstrap --quiet --variant=essential \
		--include=python3,python3-pip,binutils \
		--hook-dir="$hooks/merged-usr" --hook-dir="$hooks/eatmydata" \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--dpkgopt='path-exclude=/usr/share/info/*' \
		"$SUITE" "$TARBALL" "deb $m $SUITE main" >"$MMDEBSTRAP_LOG" 2>&1; then
		tail -n 30 "$MMDEBSTRAP_LOG" >&2 || true
		die "mmdebstrap failed; see $MMDEBSTRAP_LOG"
	fi
	docker import --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' "$TARBALL" "$IMAGE" >/dev/null
	rm -f "$TARBALL"
	log "built $IMAGE in $((SECONDS - start))s, $(docker image inspect --format '{{.Size}}' "$IMAGE") bytes"
}

# build_lambda_image commits a created (never started) container of the
# build image with the entrypoint files copied in: no pull, no builder.
build_lambda_image() {
	if docker image inspect "$LAMBDA_IMAGE" >/dev/null 2>&1; then
		log "image $LAMBDA_IMAGE present"
		return
	fi
	local dir ctr
	dir="$(mktemp -d /tmp/layers-lambda-standin.XXXXXX)"
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
	ctr="$(docker create "$IMAGE")"
	tar -C "$dir" --owner=0 --group=0 --numeric-owner -cf - . | docker cp - "$ctr:/"
	docker commit \
		--change 'ENV LAMBDA_TASK_ROOT=/var/task' \
		--change 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
		--change 'WORKDIR /var/task' \
		--change 'ENTRYPOINT ["/lambda-entrypoint.sh"]' \
		--change 'CMD []' \
		"$ctr" "$LAMBDA_IMAGE" >/dev/null
	docker rm "$ctr" >/dev/null
	rm -rf "$dir"
	log "built $LAMBDA_IMAGE from $IMAGE"
}

install_packages
start_engine
build_image
build_lambda_image
