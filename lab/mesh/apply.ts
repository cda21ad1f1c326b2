/**
 * Server-side apply of the lab's demo application through the lab's own API client (lab/kube/client.ts):
 * the resource path of each kind it uses.
 */
import { ApiError, type KubeClient, type KubeObject } from '../kube/client';

/** Plural resource names of the kinds the lab deploys, by `apiVersion/kind`. */
const RESOURCES: Record<string, { plural: string; namespaced: boolean }> = {
  'v1/Namespace': { plural: 'namespaces', namespaced: false },
  'v1/Service': { plural: 'services', namespaced: true },
  'apps/v1/Deployment': { plural: 'deployments', namespaced: true },
};

/** The REST path of one object. */
export function objectPath(object: KubeObject): string {
  const apiVersion = String(object.apiVersion);
  const resource = RESOURCES[`${apiVersion}/${String(object.kind)}`];
  if (!resource) throw new Error(`the lab mesh does not know where ${apiVersion} ${String(object.kind)} lives`);
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = resource.namespaced ? `/namespaces/${object.metadata?.namespace}` : '';
  return `${base}${ns}/${resource.plural}/${object.metadata?.name}`;
}

/** Applies one object server-side as `manager`, taking over fields another manager set (force). */
export async function applyObject(client: KubeClient, object: KubeObject, manager: string): Promise<void> {
  const path = `${objectPath(object)}?fieldManager=${encodeURIComponent(manager)}&force=true`;
  const answer = await client.request('PATCH', path, JSON.stringify(object), 'application/apply-patch+yaml');
  if (answer.status < 200 || answer.status > 299) {
    const body = answer.body as { message?: string; reason?: string } | undefined;
    throw new ApiError(answer.status, body?.message ?? `HTTP ${answer.status}`, body?.reason);
  }
}
