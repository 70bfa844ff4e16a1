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

# Pinned stacks the generated monorepos mix, as services mix them.
web="requests==2.32.3 urllib3==2.2.3 idna==3.10 certifi==2024.8.30 charset-normalizer==3.4.0"
model="pydantic==2.9.2 pydantic-core==2.23.4 annotated-types==0.7.0 typing-extensions==4.12.2"
aws="boto3==1.35.54 botocore==1.35.54 s3transfer==0.10.3 jmespath==1.0.1 python-dateutil==2.9.0.post0 six==1.16.0 urllib3==2.2.3"

# fn NAME PIN... writes the function folder $repo/functions/NAME: its
# sorted requirements file and a handler.
fn() {
	mkdir -p "$repo/functions/$1"
	printf '%s\n' ${@:2} | sort -u > "$repo/functions/$1/requirements.txt"
	echo "def handler(e, c): return 1" > "$repo/functions/$1/app.py"
}

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

# shop10 writes ten functions that share the stacks heavily, as a shop's
# services do.
shop10() {
	fn orders    $web $model
	fn payments  $web $model $aws
	fn refunds   $web $model $aws
	fn notify    $web PyYAML==6.0.2
	fn reports   $aws PyYAML==6.0.2
	fn export    $aws $model
	fn thumbs    $aws attrs==24.2.0
	fn audit     $model PyYAML==6.0.2
	fn search    $web attrs==24.2.0
	fn webhooks  $web $model PyYAML==6.0.2
}

# mono24 writes a 24-function monorepo of real packages: shop10's ten, and
# fourteen more mixing the web, model and AWS stacks with crypto and data
# packages, as services mix them.
mono24() {
	shop10
	fn billing   $aws $model orjson==3.10.11
	fn invoices  $aws $model orjson==3.10.11
	fn ledger    $aws cryptography==43.0.3 cffi==1.17.1 pycparser==2.22
	fn tokens    $web cryptography==43.0.3 cffi==1.17.1 pycparser==2.22
	fn sessions  $web $model
	fn users     $aws $model
	fn groups    $aws $model
	fn mailer    $web PyYAML==6.0.2 attrs==24.2.0
	fn sms       $web
	fn metrics   $aws orjson==3.10.11
	fn ingest    $aws PyYAML==6.0.2 orjson==3.10.11
	fn schedule  $aws python-dateutil==2.9.0.post0
	fn cleanup   $aws
	fn health    six==1.16.0
}

# pins39 writes four functions with 39 distinct pinned packages between
# them: web, model, AWS, data, crypto and templating stacks.
pins39() {
	fn api   $web $model fastapi==0.115.4 starlette==0.41.2 anyio==4.6.2.post1 sniffio==1.3.1
	fn etl   $aws numpy==2.1.3 pandas==2.2.3 pytz==2024.2 tzdata==2024.2 tenacity==9.0.0 structlog==24.4.0
	fn auth  $web cryptography==43.0.3 cffi==1.17.1 pycparser==2.22 PyJWT==2.9.0
	fn misc  PyYAML==6.0.2 attrs==24.2.0 orjson==3.10.11 jsonschema==4.23.0 jsonschema-specifications==2024.10.1 \
		referencing==0.35.1 rpds-py==0.21.0 Jinja2==3.1.4 MarkupSafe==3.0.2 click==8.1.7
}

# uv_bin prints the path of a uv binary from PyPI, installed once into a
# virtual environment under the user's cache (the yardstick of the cold
# benchmarks; never a dependency of layers).
uv_bin() {
	local venv="${XDG_CACHE_HOME:-$HOME/.cache}/layers-bench/uv-venv"
	if [ ! -x "$venv/bin/uv" ]; then
		python3 -m venv "$venv" >&2
		"$venv/bin/pip" install -q uv >&2
	fi
	echo "$venv/bin/uv"
}
