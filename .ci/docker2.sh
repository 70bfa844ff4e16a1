#!/usr/bin/env bash
# Starts a second Docker engine on this machine, for the tests that spread a
# build over several engines ([build.engines]). Idempotent: nothing is done
# when the engine answers already.
#
#   .ci/docker2.sh          start it (when it does not answer)
#   .ci/docker2.sh stop     stop it (SIGTERM, then wait)
#
# It is a dockerd of its own, sharing nothing with the default engine that
# .ci/docker.sh starts: its own socket, data root, exec root, pid file and
# bridge. Its containers reach the network through that bridge; the engine
# is started with --iptables=false so that it never rewrites the default
# engine's chains, and this script adds the few rules the bridge needs
# (forwarding and masquerading for its subnet), once.
#
# The socket is $LAYERS_DOCKER2_HOST (default unix:///run/layers-docker2.sock);
# the tests read the same variable. The engine starts without images: the
# build copies the build image into it from the default engine (ImageSave,
# ImageLoad), which is part of what the tests check.
set -euo pipefail

HOST="${LAYERS_DOCKER2_HOST:-unix:///run/layers-docker2.sock}"
SOCK="${HOST#unix://}"
NAME=layers-docker2
DATA_ROOT=/var/lib/$NAME
EXEC_ROOT=/run/$NAME
PIDFILE=/run/$NAME.pid
LOG=/tmp/$NAME.log
BRIDGE=layers-br2
SUBNET=172.31.250.0/24
GATEWAY=172.31.250.1/24
WAIT=60 # seconds

log() { printf 'docker2.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

answers() { docker --host "$HOST" info >/dev/null 2>&1; }

# rule TABLE CHAIN ARGS... adds an iptables rule unless it is there.
rule() {
	local table=$1 chain=$2
	shift 2
	as_root iptables -t "$table" -C "$chain" "$@" 2>/dev/null || as_root iptables -t "$table" -I "$chain" 1 "$@"
}

install_packages() {
	local missing=()
	command -v ip >/dev/null 2>&1 || missing+=(iproute2)
	command -v iptables >/dev/null 2>&1 || missing+=(iptables)
	[ "${#missing[@]}" -eq 0 ] && return
	log "installing ${missing[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

bridge() {
	if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
		as_root ip link add "$BRIDGE" type bridge
		as_root ip addr add "$GATEWAY" dev "$BRIDGE"
	fi
	as_root ip link set "$BRIDGE" up
	as_root sysctl -qw net.ipv4.ip_forward=1
	rule filter FORWARD -i "$BRIDGE" -j ACCEPT
	rule filter FORWARD -o "$BRIDGE" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
	rule nat POSTROUTING -s "$SUBNET" ! -o "$BRIDGE" -j MASQUERADE
}

start() {
	case "$HOST" in
	unix://*) ;;
	*) die "LAYERS_DOCKER2_HOST=$HOST: want a unix:// socket this script can start an engine on" ;;
	esac
	if answers; then
		log "engine at $HOST answers"
		return
	fi
	command -v dockerd >/dev/null 2>&1 || die "no dockerd: run .ci/docker.sh first"
	install_packages
	bridge
	# A killed engine leaves its pid file and socket behind.
	if [ -s "$PIDFILE" ] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
		as_root rm -f "$PIDFILE"
	fi
	as_root rm -f "$SOCK"
	log "starting dockerd at $HOST (log: $LOG)"
	as_root sh -c "nohup dockerd --host '$HOST' --data-root '$DATA_ROOT' --exec-root '$EXEC_ROOT' --pidfile '$PIDFILE' \
		--bridge '$BRIDGE' --iptables=false --ip-masq=false >>'$LOG' 2>&1 </dev/null &"
	local i
	for ((i = 0; i < WAIT; i++)); do
		if answers; then
			log "engine up after ${i}s"
			return
		fi
		sleep 1
	done
	tail -n 20 "$LOG" >&2 || true
	die "dockerd at $HOST did not answer within ${WAIT}s; see $LOG"
}

stop() {
	[ -s "$PIDFILE" ] || { log "not running"; return; }
	local pid i
	pid="$(cat "$PIDFILE")"
	as_root kill "$pid" 2>/dev/null || true
	for ((i = 0; i < WAIT; i++)); do
		kill -0 "$pid" 2>/dev/null || { log "stopped"; return; }
		sleep 1
	done
	die "dockerd $pid did not stop within ${WAIT}s"
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
*) die "usage: $0 [start|stop]" ;;
esac
