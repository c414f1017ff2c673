#!/usr/bin/env bash
# Builds the CPU image (docker/Dockerfile.cpu) and checks that it works as deployed: the demo
# (scripts/demo.sh) runs inside it against the image's binary, then the image's default command
# serves a model trained by the image, answers /v2/health/ready and an inference, and stops
# with status 0 on SIGTERM (docs/deployment.md).
# Usage: scripts/docker-check.sh [IMAGE_TAG]     (default tabula:cpu; needs a Docker daemon)
# Environment: PORT (host port for the server check, default 18080), DOCKER (default docker).
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-tabula:cpu}"
port="${PORT:-18080}"
docker="${DOCKER:-docker}"

if ! "$docker" info >/dev/null 2>&1; then
  echo "docker-check: no Docker daemon answers ('$docker info' failed); nothing was built" >&2
  exit 1
fi

work="$(mktemp -d)"
container=""
cleanup() {
  [[ -n $container ]] && "$docker" rm -f "$container" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "build $tag from docker/Dockerfile.cpu"
"$docker" build -f docker/Dockerfile.cpu -t "$tag" .

step "the demo inside the image (scripts/demo.sh with the image's tabula)"
"$docker" run --rm -v "$PWD/scripts:/demo/scripts:ro" -v "$PWD/data:/demo/data:ro" \
  --entrypoint bash "$tag" /demo/scripts/demo.sh /usr/local/bin/tabula

step "train a model with the image (as the calling user, into a host folder)"
mkdir -p "$work/models/wine/1"
"$docker" run --rm --user "$(id -u):$(id -g)" -v "$PWD/data:/data:ro" \
  -v "$work/models:/models" "$tag" train --data /data/wine.csv --target target \
  --model forest --out /models/wine/1/model.tabula
chmod -R a+rX "$work"  # mktemp's folder is private; the server runs as user 10001

step "serve it with the image's default command on 127.0.0.1:$port"
container="$("$docker" run -d -p "127.0.0.1:$port:8000" -v "$work/models:/models:ro" "$tag")"
curl -fsS --retry 30 --retry-delay 1 --retry-connrefused "http://127.0.0.1:$port/v2/health/ready"
echo
answer="$(curl -fsS "http://127.0.0.1:$port/v2/models/wine/infer" -d '{"inputs": [{"name": "x",
  "datatype": "FP64", "shape": [1, 13], "data": [14.23, 1.71, 2.43, 15.6, 127, 2.8, 3.06, 0.28,
  2.29, 5.64, 1.04, 3.92, 1065]}]}')"
echo "$answer"
if [[ $answer != *'"name":"probabilities"'* ]]; then
  echo "docker-check: the inference answer holds no probabilities" >&2
  exit 1
fi

step "stop it (SIGTERM): the server drains and exits 0"
"$docker" stop --time 30 "$container" >/dev/null
status="$("$docker" inspect --format '{{.State.ExitCode}}' "$container")"
if [[ $status != 0 ]]; then
  echo "docker-check: the server exited with status $status after SIGTERM" >&2
  "$docker" logs "$container" | tail -20 >&2
  exit 1
fi
echo "docker-check: passed ($tag)"
