#!/usr/bin/env bash
# Builds the linkerd CLI from the Go module proxy, for kubeha's mesh activities, tests and the lab.
#
# Edge CLIs since edge-25.7 embed their Helm charts, so `go install github.com/linkerd/linkerd2/cli@edge-X`
# yields a CLI whose offline rendering (`linkerd install --ignore-cluster`) is the real one.
#
# Idempotent: a cached binary that answers `linkerd version --client --short` with the pinned version is
# not rebuilt. Binaries land in ${KUBEHA_CACHE_DIR:-$HOME/.cache/kubeha}/linkerd/<version>/bin/linkerd.
#
# Usage: lab/build/build-linkerd.sh
# Env:   LINKERD_VERSION        the edge (or stable) tag, default below
#        KUBEHA_CACHE_DIR       cache root
#        LINKERD_BUILD_JOBS     parallel compile jobs (go build -p), default 2: the machines are small
#        LINKERD_PRINT_BIN=1    only print where the binary for the pinned version goes, and exit
# Exit:  0 built or already built; 1 build failed; 3 the module proxy refuses the module (nothing to build
#        from: the message quotes the proxy's answer).
set -euo pipefail

version="${LINKERD_VERSION:-edge-25.11.3}"
module="github.com/linkerd/linkerd2/cli"
cache_root="${KUBEHA_CACHE_DIR:-$HOME/.cache/kubeha}"
bin_dir="$cache_root/linkerd/$version/bin"
binary="$bin_dir/linkerd"
if [[ "${LINKERD_PRINT_BIN:-}" == 1 ]]; then
  echo "$binary"
  exit 0
fi
jobs="${LINKERD_BUILD_JOBS:-2}"

log() { echo "build-linkerd: $(date +%H:%M:%S) $*"; }

is_built() {
  [[ -x "$binary" ]] || return 1
  local out
  out="$(timeout 20 "$binary" version --client --short 2>/dev/null || true)"
  [[ "$out" == *"$version"* ]]
}

if is_built; then
  log "linkerd $version already built: $binary"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "build-linkerd: the go toolchain is required" >&2
  exit 1
fi

mkdir -p "$bin_dir"
exec 9>"$bin_dir/.build.lock"
if ! flock -n 9; then
  log "another build of $version is running; waiting for it"
  flock 9
  if is_built; then exit 0; fi
fi

# Ask the proxy first: a refusal is final and deserves its own exit code and words, not a compile log.
info="$(go list -m -json "github.com/linkerd/linkerd2@$version" 2>&1)" || {
  if grep -qE '403|404|410|not available|unknown revision|invalid version' <<<"$info"; then
    echo "build-linkerd: the Go module proxy ($(go env GOPROXY)) refuses github.com/linkerd/linkerd2@$version:" >&2
    sed 's/^/build-linkerd:   /' <<<"$info" >&2
    echo "build-linkerd: nothing can be built here; put a linkerd $version binary at $binary or set LINKERD_PATH" >&2
    exit 3
  fi
  echo "build-linkerd: cannot resolve github.com/linkerd/linkerd2@$version:" >&2
  echo "$info" >&2
  exit 1
}

log "go: $(go version)"
log "building linkerd $version (go install -p $jobs); a cold build takes several minutes"
start=$SECONDS
gobin="$bin_dir/.gobin.$$"
trap 'rm -rf "$gobin"' EXIT
# The version stamp is what `linkerd version --client` prints and what the CLI compares with the
# control plane; without it the CLI reports "undefined-version".
CGO_ENABLED=0 GOBIN="$gobin" GOFLAGS="-buildvcs=false" \
  go install -p "$jobs" -trimpath -ldflags "-s -w -X github.com/linkerd/linkerd2/pkg/version.Version=$version" \
  "$module@$version"
# go install names the binary after the package directory (`cli`); rename only a complete binary.
mv -f "$gobin/cli" "$binary"
if ! is_built; then
  echo "build-linkerd: $binary does not report $version" >&2
  exit 1
fi
log "built linkerd $version in $((SECONDS - start))s, $(du -h "$binary" | cut -f1): $binary"
