#!/usr/bin/env bash
# Builds real Kubernetes server binaries (kube-apiserver, kubeadm) from the Go module proxy.
#
# `go install k8s.io/kubernetes/cmd/...@vX` fails because k8s.io/kubernetes replaces its staging
# modules with local paths; the wrapper module in lab/build/kube/ replaces them with their published
# v0.Y.Z releases instead (go.mod and go.sum there pin every dependency).
#
# Idempotent: a binary that already exists in the cache and answers `--version` with the pinned
# version is not rebuilt. Binaries land in ${KUBEHA_CACHE_DIR:-$HOME/.cache/kubeha}/kube/<version>/bin/.
#
# Usage: lab/build/build-kube.sh [binary ...]      (default: kube-apiserver kubeadm)
# Env:   KUBEHA_CACHE_DIR   cache root
#        KUBE_BUILD_JOBS    parallel compile jobs (go build -p), default 2: the lab machines are small
#        KUBE_PRINT_BIN_DIR=1  only print the bin directory for the pinned version and exit
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
module_dir="$here/kube"

# The version comes from the wrapper module so that go.mod stays the only place to bump it.
version="$(awk '$1 == "k8s.io/kubernetes" { print $2 } $1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' \
  "$module_dir/go.mod" | head -n1)"
if [[ -z "$version" ]]; then
  echo "build-kube: cannot read the k8s.io/kubernetes version from $module_dir/go.mod" >&2
  exit 1
fi

cache_root="${KUBEHA_CACHE_DIR:-$HOME/.cache/kubeha}"
bin_dir="$cache_root/kube/$version/bin"
if [[ "${KUBE_PRINT_BIN_DIR:-}" == 1 ]]; then
  echo "$bin_dir"
  exit 0
fi

binaries=("$@")
if [[ ${#binaries[@]} -eq 0 ]]; then
  binaries=(kube-apiserver kubeadm)
fi
jobs="${KUBE_BUILD_JOBS:-2}"

log() { echo "build-kube: $(date +%H:%M:%S) $*"; }

# True when the cached binary runs and reports the pinned version.
is_built() {
  local bin="$bin_dir/$1"
  [[ -x "$bin" ]] || return 1
  local out
  # kubeadm has a `version` subcommand; the server binaries take --version (and would start
  # serving if given an unknown argument, so never try `version` on them).
  if [[ "$1" == kubeadm ]]; then
    out="$(timeout 20 "$bin" version -o short 2>/dev/null || true)"
  else
    out="$(timeout 20 "$bin" --version 2>/dev/null || true)"
  fi
  [[ "$out" == *"$version"* ]]
}

missing=()
for name in "${binaries[@]}"; do
  if is_built "$name"; then
    log "$name $version already built: $bin_dir/$name"
  else
    missing+=("$name")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build-kube: the go toolchain is required (go version >= the 'go' line of $module_dir/go.mod)" >&2
  exit 1
fi

mkdir -p "$bin_dir"
# Test runs and the lab may call this script at the same time: one build at a time, the others
# wait and then find the binaries built.
exec 9>"$bin_dir/.build.lock"
if ! flock -n 9; then
  log "another build of $version is running; waiting for it"
  flock 9
fi

minor="${version#v1.}"
minor="${minor%%.*}"
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
# The same version stamps the Kubernetes release build sets (hack/lib/version.sh); without them the
# binaries report v0.0.0-master and kubeadm would refuse to work with a real control plane version.
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done

log "go: $(go version)"
total_start=$SECONDS
for name in "${missing[@]}"; do
  if is_built "$name"; then
    log "$name $version was built meanwhile"
    continue
  fi
  log "building $name $version (go build -p $jobs); a cold build takes several minutes"
  start=$SECONDS
  tmp="$bin_dir/.$name.tmp.$$"
  (
    cd "$module_dir"
    CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=readonly" \
      go build -p "$jobs" -trimpath -tags notest,grpcnotrace -ldflags "$ldflags" \
      -o "$tmp" "k8s.io/kubernetes/cmd/$name"
  )
  # Rename only a complete binary so that a reader never sees a half-written file.
  mv -f "$tmp" "$bin_dir/$name"
  if ! is_built "$name"; then
    echo "build-kube: $bin_dir/$name does not report $version" >&2
    exit 1
  fi
  log "built $name in $((SECONDS - start))s, $(du -h "$bin_dir/$name" | cut -f1): $bin_dir/$name"
done
log "done in $((SECONDS - total_start))s"
