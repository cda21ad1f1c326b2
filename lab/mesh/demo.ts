/**
 * The lab's demo application, deployed on both clusters as a user would deploy it before linking
 * them: namespace `kubeha-demo`, a `podinfo` Deployment (port 9898, as in Linkerd's multicluster
 * walkthrough) and its Service. The lab controller runs its pods and writes the Service's Endpoints;
 * LinkMeshClusters exports east's and splits west's. The processes that answer for it are the lab's
 * greeters (lab/orchestrator/greeters.ts), which east's gateway forwards to (lab/mesh/runtime/gateway.ts).
 */
import type { KubeClient, KubeObject } from '../kube/client';
import { applyObject } from './apply';

/** A service of the demo application. */
export interface LabDemoService {
  namespace: string;
  name: string;
  port: number;
}

/** The demo application's services. */
export const LAB_DEMO_SERVICES: readonly LabDemoService[] = [{ namespace: 'kubeha-demo', name: 'podinfo', port: 9898 }];

/** The field manager of what the lab deploys. */
const MANAGER = 'kubeha-lab-demo';

/** The objects of one demo service on a cluster. */
export function demoObjects(service: LabDemoService): KubeObject[] {
  const labels = { app: service.name };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: service.namespace } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: service.name, namespace: service.namespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: service.name, image: 'ghcr.io/stefanprodan/podinfo:6.7.1', ports: [{ name: 'http', containerPort: service.port }] }] },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: service.name, namespace: service.namespace, labels },
      spec: { selector: labels, ports: [{ name: 'http', port: service.port, targetPort: 'http' }] },
    },
  ];
}

/** Deploys the demo application (server-side apply: a second run changes nothing). */
export async function deployLabDemo(client: KubeClient, services: readonly LabDemoService[] = LAB_DEMO_SERVICES): Promise<string[]> {
  const applied: string[] = [];
  for (const service of services) {
    for (const object of demoObjects(service)) {
      await applyObject(client, object, MANAGER);
      applied.push(`${String(object.kind)} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name}`);
    }
  }
  return applied;
}
