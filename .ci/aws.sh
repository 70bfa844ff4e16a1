#!/usr/bin/env bash
# Installs what the publish and image tests need besides the Docker engine:
#   - moto's server (the AWS emulator for Lambda, S3 and ECR) from PyPI, with
#     pip's configured index;
#   - Debian's docker-registry (a distribution v2 registry the image tests
#     push to on 127.0.0.1).
# The tests start their own servers on free ports; nothing is started here.
# Idempotent: a step is skipped when its command is already there.
set -euo pipefail

log() { printf 'aws.sh: %s\n' "$*" >&2; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v moto_server >/dev/null 2>&1; then
	log "installing moto[server]"
	python3 -m pip install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6'
	# pyenv installs console scripts behind shims that need a rehash.
	if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
fi
command -v moto_server >/dev/null 2>&1 || { log "error: moto_server is not on PATH after installing"; exit 1; }

if ! command -v docker-registry >/dev/null 2>&1 && [ ! -x /usr/bin/docker-registry ]; then
	log "installing docker-registry"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null
	# The package starts a registry service on :5000; tests start their own.
	if command -v systemctl >/dev/null 2>&1; then as_root systemctl disable --now docker-registry >/dev/null 2>&1 || true; fi
	as_root pkill -f '^/usr/bin/docker-registry serve /etc/docker/registry/config.yml' >/dev/null 2>&1 || true
fi
log "moto_server and docker-registry are installed"
