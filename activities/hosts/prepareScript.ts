/**
 * The host preparation script (the seed's "Install packages and configure Linux system", made
 * idempotent) and the parser of its report.
 *
 * The script CHECKS each item and changes only what differs, printing one line per item on
 * stdout: `ok <item>`, `changed <item>`, `would-change <item>` (dry run) or
 * `error <item> <reason>` (then it stops). Everything the tools print goes to stderr, so stdout
 * stays machine-readable. It is sent over stdin (`sh -s`), and its body runs with stdin from
 * /dev/null so that no tool (apt, dpkg) can swallow the rest of the script.
 *
 * The pkgs.k8s.io signing key: when /etc/apt/keyrings/kubernetes-apt-keyring.gpg is missing, the
 * HOST downloads it with curl from the same pkgs.k8s.io repository it installs the packages from.
 * A host that cannot reach pkgs.k8s.io could not install kubelet/kubeadm/kubectl either, so
 * downloading on the host adds no new requirement; the kubeha worker itself needs no internet.
 * Hosts behind a mirror can place the keyring (and the list file) beforehand: both are then `ok`.
 */
import { minorVersion, normalizeKubernetesVersion } from './kubeadmConfig';

/** What the script is told. */
export interface PrepareScriptOptions {
  kubernetesVersion: string;
  /** Control-plane and spare hosts also get etcdctl (package etcd-client). */
  controlPlane: boolean;
  dryRun: boolean;
}

/** The items the script reports, in order. */
export const PREPARE_ITEMS = [
  'swap',
  'br_netfilter',
  'sysctl',
  'containerd',
  'containerd-config',
  'kubernetes-apt-repo',
  'kube-packages',
  'kube-hold',
  'kubelet-enabled',
  'etcd-client',
] as const;

/** One of {@link PREPARE_ITEMS}. */
export type PrepareItem = (typeof PREPARE_ITEMS)[number];

function shellWord(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const BODY = String.raw`
SYSCTL_FILE=/etc/sysctl.d/99-kubernetes.conf
MODULES_FILE=/etc/modules-load.d/br_netfilter.conf
CONTAINERD_CONFIG=/etc/containerd/config.toml
KEYRING=/etc/apt/keyrings/kubernetes-apt-keyring.gpg
APT_LIST=/etc/apt/sources.list.d/kubernetes.list
REPO_URL="https://pkgs.k8s.io/core:/stable:/v$K8S_MINOR/deb/"
APT_LINE="deb [signed-by=$KEYRING] $REPO_URL /"
export DEBIAN_FRONTEND=noninteractive

report() { printf '%s %s\n' "$1" "$2"; }
fail() { printf 'error %s %s\n' "$1" "$2"; exit 1; }
# Acts unless this is a dry run: prints would-change instead. Returns 1 in a dry run so callers skip follow-ups.
will_change() {
  if [ "$DRY_RUN" = 1 ]; then report would-change "$1"; return 1; fi
  return 0
}
installed() { dpkg-query -W -f='${'${Status}'}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
pkg_version() { dpkg-query -W -f='${'${Version}'}' "$1" 2>/dev/null; }
APT_UPDATED=0
apt_update() {
  [ "$APT_UPDATED" = 1 ] && return 0
  apt-get -o DPkg::Lock::Timeout=300 update -q >&2 || fail "$1" 'apt-get update failed (see stderr)'
  APT_UPDATED=1
}
apt_install() {
  item="$1"; shift
  apt_update "$item"
  apt-get -o DPkg::Lock::Timeout=300 install -y -q --allow-downgrades --allow-change-held-packages "$@" >&2 || fail "$item" "apt-get install $* failed (see stderr)"
}

check_swap() {
  if [ -z "$(swapon --show --noheadings 2>/dev/null)" ] && ! grep -Eq '^[^#].*[[:space:]]swap[[:space:]]' /etc/fstab 2>/dev/null; then report ok swap; return; fi
  will_change swap || return 0
  swapoff -a >&2 || fail swap 'swapoff -a failed'
  # The kubelet refuses to run with swap on: keep it off across reboots.
  sed -i -E 's/^([^#].*[[:space:]]swap[[:space:]].*)$/# \1  # disabled by kubeha/' /etc/fstab || fail swap 'cannot edit /etc/fstab'
  report changed swap
}

check_br_netfilter() {
  # /sys/module lists built-in modules too; /proc/modules only loadable ones (and is absent on kernels without modules).
  loaded=0; { [ -d /sys/module/br_netfilter ] || grep -q '^br_netfilter ' /proc/modules 2>/dev/null; } && loaded=1
  persisted=0; [ "$(cat "$MODULES_FILE" 2>/dev/null)" = br_netfilter ] && persisted=1
  if [ "$loaded" = 1 ] && [ "$persisted" = 1 ]; then report ok br_netfilter; return; fi
  will_change br_netfilter || return 0
  if [ "$loaded" = 0 ]; then modprobe br_netfilter >&2 || fail br_netfilter 'modprobe br_netfilter failed'; fi
  if [ "$persisted" = 0 ]; then mkdir -p /etc/modules-load.d && printf 'br_netfilter\n' > "$MODULES_FILE" || fail br_netfilter "cannot write $MODULES_FILE"; fi
  report changed br_netfilter
}

SYSCTL_WANTED='net.ipv4.ip_forward = 1
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1'
check_sysctl() {
  file_ok=0; [ "$(cat "$SYSCTL_FILE" 2>/dev/null)" = "$SYSCTL_WANTED" ] && file_ok=1
  live_ok=1
  for key in net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables; do
    [ "$(sysctl -n "$key" 2>/dev/null)" = 1 ] || live_ok=0
  done
  if [ "$file_ok" = 1 ] && [ "$live_ok" = 1 ]; then report ok sysctl; return; fi
  will_change sysctl || return 0
  if [ "$file_ok" = 0 ]; then printf '%s\n' "$SYSCTL_WANTED" > "$SYSCTL_FILE" || fail sysctl "cannot write $SYSCTL_FILE"; fi
  sysctl -p "$SYSCTL_FILE" >&2 || fail sysctl "sysctl -p $SYSCTL_FILE failed"
  report changed sysctl
}

check_containerd() {
  if installed containerd; then report ok containerd; return; fi
  will_change containerd || return 0
  apt_install containerd containerd
  report changed containerd
}

check_containerd_config() {
  if grep -Eq '^[[:space:]]*SystemdCgroup[[:space:]]*=[[:space:]]*true' "$CONTAINERD_CONFIG" 2>/dev/null; then report ok containerd-config; return; fi
  will_change containerd-config || return 0
  command -v containerd >/dev/null 2>&1 || fail containerd-config 'containerd is not installed'
  mkdir -p /etc/containerd
  if ! grep -Eq '^[[:space:]]*SystemdCgroup[[:space:]]*=' "$CONTAINERD_CONFIG" 2>/dev/null; then
    # No runc cgroup setting at all (no file, or a minimal one): start from containerd's defaults, keep the old file aside.
    [ -f "$CONTAINERD_CONFIG" ] && cp -p "$CONTAINERD_CONFIG" "$CONTAINERD_CONFIG.kubeha.bak"
    containerd config default > "$CONTAINERD_CONFIG.kubeha.tmp" || fail containerd-config 'containerd config default failed'
    mv -f "$CONTAINERD_CONFIG.kubeha.tmp" "$CONTAINERD_CONFIG"
  fi
  sed -i -E 's/^([[:space:]]*SystemdCgroup[[:space:]]*=[[:space:]]*)false/\1true/' "$CONTAINERD_CONFIG" || fail containerd-config "cannot edit $CONTAINERD_CONFIG"
  grep -Eq '^[[:space:]]*SystemdCgroup[[:space:]]*=[[:space:]]*true' "$CONTAINERD_CONFIG" || fail containerd-config "SystemdCgroup = true is still not set in $CONTAINERD_CONFIG"
  # Restarted only here, when the configuration changed.
  systemctl restart containerd >&2 || fail containerd-config 'systemctl restart containerd failed'
  systemctl enable containerd >&2 2>/dev/null || true
  report changed containerd-config
}

check_apt_repo() {
  if [ -s "$KEYRING" ] && [ "$(cat "$APT_LIST" 2>/dev/null)" = "$APT_LINE" ]; then report ok kubernetes-apt-repo; return; fi
  will_change kubernetes-apt-repo || return 0
  if [ ! -s "$KEYRING" ]; then
    if ! command -v curl >/dev/null 2>&1 || ! command -v gpg >/dev/null 2>&1; then apt_install kubernetes-apt-repo ca-certificates curl gpg; fi
    mkdir -p -m 755 /etc/apt/keyrings
    curl -fsSL "$REPO_URL""Release.key" | gpg --dearmor --batch --yes -o "$KEYRING.kubeha.tmp" \
      || fail kubernetes-apt-repo "the host could not download the pkgs.k8s.io signing key from $REPO_URL (place it at $KEYRING to install from a mirror)"
    chmod 644 "$KEYRING.kubeha.tmp" && mv -f "$KEYRING.kubeha.tmp" "$KEYRING"
  fi
  printf '%s\n' "$APT_LINE" > "$APT_LIST" || fail kubernetes-apt-repo "cannot write $APT_LIST"
  APT_UPDATED=0
  report changed kubernetes-apt-repo
}

check_kube_packages() {
  current_ok=1
  for p in kubelet kubeadm kubectl; do
    case "$(pkg_version "$p")" in "$K8S_VERSION"-*) ;; *) current_ok=0 ;; esac
  done
  if [ "$current_ok" = 1 ]; then report ok kube-packages; return; fi
  will_change kube-packages || return 0
  apt_update kube-packages
  # The repository's package revision (1.31.2-1.1): take the newest revision of the pinned version.
  version=$(apt-cache madison kubeadm 2>/dev/null | awk -v v="$K8S_VERSION" '{ if (index($3, v "-") == 1) { print $3; exit } }')
  [ -n "$version" ] || fail kube-packages "version $K8S_VERSION is not in $REPO_URL"
  apt_install kube-packages "kubelet=$version" "kubeadm=$version" "kubectl=$version"
  report changed kube-packages
}

check_kube_hold() {
  held=$(apt-mark showhold 2>/dev/null)
  missing=''
  for p in kubelet kubeadm kubectl; do printf '%s\n' "$held" | grep -qx "$p" || missing="$missing $p"; done
  if [ -z "$missing" ]; then report ok kube-hold; return; fi
  will_change kube-hold || return 0
  # shellcheck disable=SC2086
  apt-mark hold $missing >&2 || fail kube-hold "apt-mark hold$missing failed"
  report changed kube-hold
}

check_kubelet_enabled() {
  if [ "$(systemctl is-enabled kubelet 2>/dev/null)" = enabled ]; then report ok kubelet-enabled; return; fi
  will_change kubelet-enabled || return 0
  systemctl enable kubelet >&2 || fail kubelet-enabled 'systemctl enable kubelet failed'
  report changed kubelet-enabled
}

check_etcd_client() {
  if installed etcd-client && command -v etcdctl >/dev/null 2>&1; then report ok etcd-client; return; fi
  will_change etcd-client || return 0
  apt_install etcd-client etcd-client
  report changed etcd-client
}

# The base version (1.31.2) of an installed package, empty when it is not installed.
base_version() { v=$(pkg_version "$1"); printf '%s' "${'${v%%-*}'}"; }

# A node that already runs a NEWER kubelet or kubeadm is not downgraded by preparation: apt would do it
# (--allow-downgrades), and a downgraded kubelet can no longer read what the newer one wrote.
check_no_downgrade() {
  for p in kubelet kubeadm; do
    v=$(base_version "$p")
    [ -n "$v" ] || continue
    if dpkg --compare-versions "$v" gt "$K8S_VERSION"; then
      fail kube-version "$p $v is installed, newer than $K8S_VERSION: kubeha does not downgrade a node"
    fi
  done
}

# A host that already runs as a node of a cluster at this version is left alone: preparing it again could
# only restart what serves (containerd after a config change).
already_joined() {
  [ -f /etc/kubernetes/kubelet.conf ] || return 1
  for p in kubelet kubeadm; do [ "$(base_version "$p")" = "$K8S_VERSION" ] || return 1; done
  return 0
}

main() {
  check_no_downgrade
  if already_joined; then report skipped joined; return 0; fi
  check_swap
  check_br_netfilter
  check_sysctl
  check_containerd
  check_containerd_config
  check_apt_repo
  check_kube_packages
  check_kube_hold
  check_kubelet_enabled
  if [ "$CONTROL_PLANE" = 1 ]; then check_etcd_client; fi
}
`;

/** The script, with its parameters set at the top. Send it as stdin of `sh -s`. */
export function buildPrepareScript(options: PrepareScriptOptions): string {
  const version = normalizeKubernetesVersion(options.kubernetesVersion).slice(1);
  return [
    '#!/bin/sh',
    '# kubeha: prepare a host for kubeadm (idempotent; one report line per item on stdout).',
    `K8S_VERSION=${shellWord(version)}`,
    `K8S_MINOR=${shellWord(minorVersion(version))}`,
    `CONTROL_PLANE=${options.controlPlane ? 1 : 0}`,
    `DRY_RUN=${options.dryRun ? 1 : 0}`,
    BODY,
    // The whole script is read before main runs, and main's stdin is /dev/null (see the header).
    'main </dev/null',
    '',
  ].join('\n');
}

/** What the script reported. */
export interface PrepareReport {
  ok: string[];
  changed: string[];
  wouldChange: string[];
  /** The item that failed and why, when the script stopped on an error. */
  error?: { item: string; reason: string };
  /** The host is a node of a cluster at the requested version already: nothing was checked or changed. */
  joined?: boolean;
}

/** Parses the script's stdout; lines that are not report lines are ignored. */
export function parsePrepareOutput(stdout: string): PrepareReport {
  const report: PrepareReport = { ok: [], changed: [], wouldChange: [] };
  for (const line of stdout.replace(/\r\n?/g, '\n').split('\n')) {
    const match = /^(ok|changed|would-change|error|skipped) ([A-Za-z0-9_.-]+)(?: (.*))?$/.exec(line.trim());
    if (!match) continue;
    const [, kind, item, rest] = match;
    if (kind === 'skipped') report.joined = item === 'joined' || report.joined;
    else if (kind === 'ok') report.ok.push(item);
    else if (kind === 'changed') report.changed.push(item);
    else if (kind === 'would-change') report.wouldChange.push(item);
    else report.error = { item, reason: rest ?? 'failed' };
  }
  return report;
}

/** The items a complete run must report, for this kind of host. */
export function expectedItems(controlPlane: boolean): string[] {
  return PREPARE_ITEMS.filter((item) => controlPlane || item !== 'etcd-client');
}
