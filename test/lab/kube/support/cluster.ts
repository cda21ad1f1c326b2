/**
 * Test helpers over a namespace host: its admin client, kubeha's own kubeadm configs for it, and
 * kubeha's etcdctl command run on it.
 */
import { KubeClient, type KubeObject } from '../../../../lab/kube/client';
import { parseKubeconfig } from '../../../../lab/kube/kubeconfig';
import { etcdctlCommand, type EtcdMemberInfo, parseMemberList } from '../../../../activities/hosts/etcd';
import type { NamespaceHost } from './namespaceHost';

/** An admin client for the host's API server (its admin.conf, pointed at the host's own address). */
export function adminOf(host: NamespaceHost): KubeClient {
  const text = host.readFile('/etc/kubernetes/admin.conf');
  if (!text) throw new Error(`${host.name} has no admin.conf`);
  return new KubeClient(parseKubeconfig(text)).withServer(`https://${host.address}:6443`);
}

/** kubeha's `etcdctl member list -w json` on the host (through the lab's etcdctl). */
export async function members(host: NamespaceHost): Promise<EtcdMemberInfo[]> {
  const result = await host.run(['sh', '-c', etcdctlCommand('member list -w json')]);
  if (result.code !== 0) throw new Error(`etcdctl member list failed on ${host.name}: ${result.stderr}`);
  return parseMemberList(result.stdout);
}

/** kubeha's `etcdctl member remove <id>` on the host. */
export async function removeMember(host: NamespaceHost, id: string): Promise<void> {
  const result = await host.run(['sh', '-c', etcdctlCommand(`member remove ${id}`)]);
  if (result.code !== 0) throw new Error(`etcdctl member remove failed on ${host.name}: ${result.stderr}`);
}

/** A Node's Ready condition status, or undefined when the Node does not exist. */
export async function nodeReady(client: KubeClient, name: string): Promise<{ ready?: string; node?: KubeObject }> {
  const node = await client.find(`/api/v1/nodes/${name}`);
  const conditions = (node?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  return { ready: conditions.find((c) => c.type === 'Ready')?.status, node };
}

/** Polls until `check` returns a value, or fails after the timeout. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
