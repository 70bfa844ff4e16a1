# Shared by the bench scripts (source it from the repository root): the
# build image, a work folder removed on exit with a fresh unit cache in it,
# the CA bundle pip must trust behind a TLS-intercepting proxy, a freshly
# built layers binary, and a millisecond clock.
IMAGE="${LAYERS_BENCH_IMAGE:-layers-standin/build-python3.11:bookworm}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ -z "${LAYERS_CA_BUNDLE:-}" ]; then
	for f in "${PIP_CERT:-}" "${SSL_CERT_FILE:-}" /etc/ssl/certs/ca-certificates.crt; do
		if [ -n "$f" ] && [ -r "$f" ]; then export LAYERS_CA_BUNDLE="$f"; break; fi
	done
fi
export LAYERS_CACHE="$work/cache"
go build -o "$work/layers" ./cmd/layers

ms() { date +%s%3N; }

# rebuilds DIR RUNS LABEL builds DIR RUNS times; each must build no unit
# (so start no container) and the worst must take under a second.
rebuilds() {
	local dir=$1 runs=$2 label=$3 worst=0 start took summary i
	for i in $(seq "$runs"); do
		start=$(ms)
		"$work/layers" build --dir "$dir" > /dev/null 2> "$work/warm.log"
		took=$(( $(ms) - start ))
		[ "$took" -gt "$worst" ] && worst=$took
		summary="$(grep '^units:' "$work/warm.log")"
		case "$summary" in
		"units: 0 built,"*) ;;
		*) echo "rebuild $i built units (so started containers): $summary"; return 1 ;;
		esac
		echo "no-change rebuild $i: $took ms, 0 units built, 0 containers"
	done
	echo "worst no-change rebuild of $label: $worst ms (target: under 1000 ms)"
	[ "$worst" -lt 1000 ]
}
