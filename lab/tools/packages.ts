/**
 * The lab host's package world: what is installed (`packages.json`), which Debian and
 * pkgs.k8s.io packages exist, and which of them apt knows (after `apt-get update` of the
 * repositories listed in the host's /etc/apt/sources.list.d). Nothing is downloaded: installing
 * records the package; the binaries are the lab tools already on PATH (or the real ones, etcdctl).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { compareDebVersions } from './debVersion';
import { labSetting, readState } from './labState';

/** What `packages.json` holds. */
export interface PackagesState {
  /** Installed packages and their versions. */
  installed: Record<string, string>;
  /** Packages on hold (`apt-mark hold`). */
  held: string[];
  /** Repository URLs whose index `apt-get update` fetched, with the list line it used. */
  lists: Record<string, string>;
}

/** One version of a package in a repository. */
export interface Candidate {
  name: string;
  version: string;
  /** As apt-cache prints the source: `https://pkgs.k8s.io/core:/stable:/v1.31/deb  Packages`. */
  source: string;
  depends: string[];
}

/** The Debian archive every host reaches (its lists are always there). */
export const DEBIAN_SOURCE = 'http://deb.debian.org/debian bookworm/main amd64 Packages';

const DEBIAN: Record<string, { version: string; depends?: string[] }> = {
  containerd: { version: '1.6.20~ds1-1+deb12u1', depends: ['runc'] },
  runc: { version: '1.1.5+ds1-1+deb12u1' },
  'etcd-client': { version: '3.4.23-4+b6' },
  'etcd-server': { version: '3.4.23-4+b6' },
  curl: { version: '7.88.1-10+deb12u14' },
  gpg: { version: '2.2.40-1.1' },
  'ca-certificates': { version: '20230311+deb12u1' },
  'apt-transport-https': { version: '2.6.1' },
  iptables: { version: '1.8.9-2' },
  conntrack: { version: '1:1.4.7-1+b2' },
  socat: { version: '1.7.4.4-2' },
  ebtables: { version: '2.0.11-5' },
  ethtool: { version: '1:6.1-1' },
  jq: { version: '1.6-2.1' },
};

/** What a fresh lab host has installed (a Debian 12 server). */
export const BASE_PACKAGES: Record<string, string> = {
  apt: '2.6.1',
  dpkg: '1.21.22',
  bash: '5.2.15-2+b7',
  coreutils: '9.1-1',
  'openssh-server': '1:9.2p1-2+deb12u5',
  curl: DEBIAN.curl.version,
  gpg: DEBIAN.gpg.version,
  'ca-certificates': DEBIAN['ca-certificates'].version,
  iproute2: '6.1.0-3',
  procps: '2:4.0.2-3',
  kmod: '30+20221128-1',
  systemd: '252.38-1~deb12u1',
};

const FRESH: PackagesState = { installed: { ...BASE_PACKAGES }, held: [], lists: {} };

/** The packages state of this host. */
export function readPackages(): PackagesState {
  const state = readState<PackagesState>('packages', FRESH);
  return { installed: { ...state.installed }, held: [...state.held], lists: { ...state.lists } };
}

/** A `deb` line of the host's sources: its URL, suite and signing keyring. */
export interface SourceLine {
  line: string;
  url: string;
  suite: string;
  signedBy?: string;
  file: string;
}

/** The `deb` lines of /etc/apt/sources.list.d/*.list (the host's, through its bind mount). */
export function sourceLines(dir = '/etc/apt/sources.list.d'): SourceLine[] {
  const found: SourceLine[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir)
      .filter((name) => name.endsWith('.list'))
      .sort();
  } catch {
    return found;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    for (const raw of readFileSync(file, 'utf8').split('\n')) {
      const line = raw.trim();
      const match = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (!match) continue;
      const signedBy = /signed-by=(\S+)/.exec(match[1] ?? '')?.[1];
      found.push({ line, url: match[2], suite: match[3], signedBy, file });
    }
  }
  return found;
}

/** The Kubernetes minor of a pkgs.k8s.io repository URL (`1.31`), if it is one. */
export function kubernetesMinor(url: string): string | undefined {
  return /^https:\/\/pkgs\.k8s\.io\/core:\/stable:\/v(\d+\.\d+)\/deb\/?$/.exec(url)?.[1];
}

/** The newest patch release the lab's pkgs.k8s.io offers for a minor (state.json `aptLatestPatch`, default 5). */
function latestPatch(minor: string): number {
  const setting = labSetting('aptLatestPatch');
  if (typeof setting === 'number') return setting;
  if (setting && typeof setting === 'object') {
    const perMinor = (setting as Record<string, unknown>)[minor];
    if (typeof perMinor === 'number') return perMinor;
  }
  return 5;
}

/** The packages one pkgs.k8s.io minor repository holds, newest first. */
export function kubernetesRepository(url: string, minor: string): Candidate[] {
  const source = `${url.replace(/\/$/, '')}  Packages`;
  const candidates: Candidate[] = [];
  for (let patch = latestPatch(minor); patch >= 0; patch--) {
    const version = `${minor}.${patch}-1.1`;
    candidates.push({ name: 'kubeadm', version, source, depends: ['cri-tools', 'kubernetes-cni'] });
    candidates.push({ name: 'kubelet', version, source, depends: ['kubernetes-cni'] });
    candidates.push({ name: 'kubectl', version, source, depends: [] });
  }
  candidates.push({ name: 'cri-tools', version: `${minor}.0-1.1`, source, depends: [] });
  candidates.push({ name: 'kubernetes-cni', version: '1.6.0-1.1', source, depends: [] });
  return candidates;
}

/** Every package version apt knows on this host: Debian's, and each fetched pkgs.k8s.io list. */
export function availableVersions(state: PackagesState): Candidate[] {
  const all: Candidate[] = Object.entries(DEBIAN).map(([name, p]) => ({ name, version: p.version, source: DEBIAN_SOURCE, depends: p.depends ?? [] }));
  for (const url of Object.keys(state.lists)) {
    const minor = kubernetesMinor(url);
    if (minor) all.push(...kubernetesRepository(url, minor));
  }
  return all;
}

/** The versions of one package, newest first. */
export function versionsOf(name: string, state: PackagesState): Candidate[] {
  return availableVersions(state)
    .filter((c) => c.name === name)
    .sort((a, b) => compareDebVersions(b.version, a.version));
}

/** Whether a keyring file is there and not empty (apt's signature check, as far as the lab goes). */
export function keyringUsable(file: string | undefined): boolean {
  if (!file) return true;
  try {
    return existsSync(file) && statSync(file).size > 0;
  } catch {
    return false;
  }
}
