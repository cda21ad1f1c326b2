/**
 * Phases init and join share: the kubelet's files and start, the waits for the kubelet and the API
 * server, marking a control-plane Node, and the join command kubeadm prints.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { ApiError, type KubeClient, TransportError } from './client';
import { type HostEnv, KUBE } from './env';
import { KubeadmError } from './errors';
import { kubeletPid, restartKubelet } from './processes';

export type Out = (line: string) => void;

/** Go's time.Duration printing, to milliseconds: `501.2ms`, `5.52s`. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms.toFixed(1).replace(/\.0$/, '')}ms`;
  return `${(ms / 1000).toFixed(3).replace(/0+$/, '').replace(/\.$/, '')}s`;
}

/** /var/lib/kubelet/config.yaml and kubeadm-flags.env (the lab kubelet reads its node name and address there). */
export function writeKubeletFiles(nodeName: string, address: string, out: Out): void {
  mkdirSync(KUBE.kubeletDir, { recursive: true });
  out(`[kubelet-start] Writing kubelet environment file with flags to file "${KUBE.kubeletDir}/kubeadm-flags.env"`);
  writeFileSync(
    `${KUBE.kubeletDir}/kubeadm-flags.env`,
    `KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --hostname-override=${nodeName} --node-ip=${address}"\n`,
  );
  out(`[kubelet-start] Writing kubelet configuration to file "${KUBE.kubeletDir}/config.yaml"`);
  writeFileSync(
    `${KUBE.kubeletDir}/config.yaml`,
    stringify({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: `${KUBE.pki}/ca.crt` } },
      authorization: { mode: 'Webhook' },
      cgroupDriver: 'systemd',
      clusterDNS: ['10.96.0.10'],
      clusterDomain: 'cluster.local',
      rotateCertificates: true,
      staticPodPath: KUBE.manifests,
    }),
  );
}

/** Starts the kubelet and waits until its process runs (the lab kubelet has no healthz port). */
export async function startKubelet(host: HostEnv, out: Out): Promise<void> {
  out('[kubelet-start] Starting the kubelet');
  await restartKubelet(host);
  out('[kubelet-check] Waiting for a healthy kubelet at http://127.0.0.1:10248/healthz. This can take up to 4m0s');
  const started = Date.now();
  while (!kubeletPid(host)) {
    if (Date.now() - started > 4 * 60_000) throw new KubeadmError('The kubelet is not running');
    await sleep(100);
  }
  out(`[kubelet-check] The kubelet is healthy after ${goDuration(Date.now() - started)}`);
}

/** Waits for `GET /livez` on the host's API server. */
export async function waitForApiServer(client: KubeClient, url: string, out: Out, timeoutMs = 4 * 60_000): Promise<void> {
  out('[control-plane-check] Waiting for healthy control plane components. This can take up to 4m0s');
  out(`[control-plane-check] Checking kube-apiserver at ${url}/livez`);
  const started = Date.now();
  let last = '';
  for (;;) {
    try {
      const { status } = await client.request('GET', '/livez');
      if (status === 200) break;
      last = `the server responded with status ${status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() - started > timeoutMs) {
      throw new KubeadmError(
        `[control-plane-check] kube-apiserver is not healthy after ${goDuration(Date.now() - started)}: ${last}\n\nA control plane component may have crashed or exited when started by the container runtime.`,
      );
    }
    await sleep(500);
  }
  out(`[control-plane-check] kube-apiserver is healthy after ${goDuration(Date.now() - started)}`);
}

const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';
const EXCLUDE_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** Labels and taints a control-plane Node once the kubelet has registered it. */
export async function markControlPlane(client: KubeClient, nodeName: string, taints: unknown[] | undefined, out: Out, timeoutMs = 4 * 60_000): Promise<void> {
  const wanted = (taints ?? [{ key: CONTROL_PLANE_LABEL, effect: 'NoSchedule' }]) as { key: string; effect: string; value?: string }[];
  out(`[mark-control-plane] Marking the node ${nodeName} as control-plane by adding the labels: [${CONTROL_PLANE_LABEL} ${EXCLUDE_LB_LABEL}]`);
  if (wanted.length > 0)
    out(
      `[mark-control-plane] Marking the node ${nodeName} as control-plane by adding the taints [${wanted.map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).join(' ')}]`,
    );
  const started = Date.now();
  for (;;) {
    try {
      const node = await client.get(`/api/v1/nodes/${nodeName}`);
      const existing = ((node.spec as { taints?: { key: string; effect: string }[] } | undefined)?.taints ?? []).filter(
        (t) => !wanted.some((w) => w.key === t.key && w.effect === t.effect),
      );
      await client.mergePatch(`/api/v1/nodes/${nodeName}`, {
        metadata: { labels: { [CONTROL_PLANE_LABEL]: '', [EXCLUDE_LB_LABEL]: '' } },
        spec: { taints: [...existing, ...wanted] },
      });
      return;
    } catch (err) {
      const waiting = (err instanceof ApiError && (err.status === 404 || err.status >= 500)) || err instanceof TransportError;
      if (!waiting || Date.now() - started > timeoutMs) throw new KubeadmError(`error applying control-plane label and taints: ${(err as Error).message}`);
      await sleep(500);
    }
  }
}

/**
 * kubeadm's join command (cmd/util/join.go): `\`-continued lines with a tab, the pins, and for
 * control planes `--control-plane [--certificate-key K]`.
 */
export function joinCommand(options: { endpoint: string; token: string; caHashes: string[]; controlPlane?: boolean; certificateKey?: string }): string {
  let text = `kubeadm join ${options.endpoint} --token ${options.token} \\\n\t`;
  for (const hash of options.caHashes) text += `--discovery-token-ca-cert-hash ${hash} `;
  if (options.controlPlane) text += `\\\n\t--control-plane ${options.certificateKey ? `--certificate-key ${options.certificateKey}` : ''}`;
  return text;
}

/** The one-line form `token create --print-join-command` prints. */
export function oneLine(command: string): string {
  return command.replaceAll('\\\n', '').replaceAll('\t', '');
}
