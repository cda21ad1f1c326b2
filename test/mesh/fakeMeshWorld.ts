/**
 * A stand-in pair of clusters for LinkMeshClusters' WORKFLOW tests: activity stubs backed by in-memory
 * state that, like the real activities, check first and act only when needed. `actions` counts side
 * effects so that "nothing was done twice" is asserted. The activities themselves are tested against
 * real peers (kube-apiserver, openssl) in the other files of this folder.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ClusterAccess, MeshActivities, MeshCheckReport, MeshRole, TrustMaterial } from '../../activities/mesh/types';

/** The mesh activities LinkMeshClusters calls (the issuer watch belongs to RotateCertificateKey). */
type LinkActivities = Omit<MeshActivities, 'meshIssuerExpiry' | 'renewMeshIssuer'>;
import type { KubernetesActivities } from '../../activities/types';
import { ErrorType, kubehaFailure } from '../../common/errors';
import { ChangeLedger } from '../support/changeLedger';

/** A failure to inject into the next `times` calls of an activity (optionally for one cluster). */
export interface MeshInjection {
  activity: string;
  cluster?: string;
  times?: number;
  error: () => Error;
}

interface FakeCluster {
  crds: boolean;
  anchors?: string;
  issuer?: string;
  multicluster: boolean;
  controllers: string[];
}

/** The in-memory pair and its stubs. */
/** The mesh activities whose job is to change a cluster. */
const CHANGING = [
  'ensureTrust',
  'installLinkerdCrds',
  'installControlPlane',
  'installMulticluster',
  'linkClusters',
  'exportServices',
  'ensureTrafficSplit',
] as const;

export class FakeMeshWorld extends ChangeLedger {
  trustStored = false;
  readonly clusters: Record<MeshRole, FakeCluster> = {
    west: { crds: false, multicluster: false, controllers: [] },
    east: { crds: false, multicluster: false, controllers: [] },
  };
  linked = false;
  readonly exported = new Set<string>();
  readonly split = new Set<string>();
  /** `linkerd check` answers unhealthy this many more times (pods starting). */
  uncheckedRounds = 0;
  /** Warnings `linkerd check` reports (e.g. issuer within 60 days). */
  checkWarnings: string[] = [];
  cliVersion = 'edge-25.11.3';
  /** Contexts each kubeconfig has. */
  contexts: Record<MeshRole, string[]> = { west: ['west'], east: ['east'] };
  readonly calls: string[] = [];
  readonly injections: MeshInjection[] = [];

  /** How often a side effect happened. */
  count(kind: string): number {
    return this.actions.get(kind) ?? 0;
  }

  private call(name: string, cluster?: string): void {
    this.calls.push(cluster ? `${name}:${cluster}` : name);
    const injection = this.injections.find((i) => i.activity === name && (i.cluster === undefined || i.cluster === cluster) && (i.times ?? 1) > 0);
    if (injection) {
      injection.times = (injection.times ?? 1) - 1;
      throw injection.error();
    }
  }

  private access(role: MeshRole, name: string, context: string): ClusterAccess {
    return { role, name, context, kubeconfigSecret: `mesh/test/${role}/kubeconfig`, server: `https://${role}.example:6443` };
  }

  private trust(): TrustMaterial {
    const issuer = (role: MeshRole) => ({
      certificateSecret: `t/${role}.crt`,
      keySecret: `t/${role}.key`,
      fingerprint: `issuer-${role}`,
      notAfter: '2027-01-01T00:00:00.000Z',
    });
    return {
      anchorsSecret: 't/anchors',
      anchorFingerprints: ['anchor-1'],
      anchorsNotAfter: '2035-01-01T00:00:00.000Z',
      issuers: { west: issuer('west'), east: issuer('east') },
      created: [],
      warnings: [],
    };
  }

  /** The stub activities (mesh and the one Kubernetes wait the workflow uses). */
  activities(): LinkActivities & Pick<KubernetesActivities, 'waitRollout'> {
    const stubs = this.stubs();
    // Every successful call of an activity that changes the world is counted, whatever it found to do.
    for (const name of CHANGING) {
      const stub = stubs[name] as (input: { cluster?: ClusterAccess; dryRun?: boolean }) => Promise<unknown>;
      (stubs as unknown as Record<string, unknown>)[name] = async (input: { cluster?: ClusterAccess; dryRun?: boolean }) => {
        const result = await stub(input);
        if (!input.dryRun) this.called(input.cluster ? `${name}:${input.cluster.role}` : name);
        return result;
      };
    }
    return stubs;
  }

  private stubs(): LinkActivities & Pick<KubernetesActivities, 'waitRollout'> {
    const roleOf = (access: ClusterAccess) => access.role;
    return {
      preflightMesh: async (input) => {
        this.call('preflightMesh');
        const issues: Array<{ path: string; message: string }> = [];
        for (const role of ['west', 'east'] as const) {
          const ctx = input[role].context ?? role;
          if (!this.contexts[role].includes(ctx)) issues.push({ path: `${role}.context`, message: `context "${ctx}" is not in the kubeconfig` });
        }
        const [w, e] = [this.clusters.west.anchors, this.clusters.east.anchors];
        if (w && e && w !== e) issues.push({ path: 'east.context', message: 'Linkerd on east trusts other anchors than Linkerd on west' });
        if (issues.length) {
          throw kubehaFailure({
            type: ErrorType.InvalidInput,
            message: `invalid LinkMeshClusters input: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
            retryable: false,
            hint: 'fix the named fields',
            details: { issues },
          });
        }
        return {
          west: this.access('west', input.west.name, input.west.context ?? 'west'),
          east: this.access('east', input.east.name, input.east.context ?? 'east'),
          installed: { west: { anchorFingerprints: w ? [w] : [] }, east: { anchorFingerprints: e ? [e] : [] } },
          cliVersion: this.cliVersion,
        };
      },
      ensureTrust: async ({ dryRun }) => {
        this.call('ensureTrust');
        const material = this.trust();
        if (!this.trustStored && !dryRun) {
          this.trustStored = true;
          this.act('generate-trust');
          material.created = ['anchors', 'west issuer', 'east issuer'];
        }
        return material;
      },
      installLinkerdCrds: async ({ cluster, dryRun }) => {
        this.call('installLinkerdCrds', cluster.role);
        const c = this.clusters[roleOf(cluster)];
        if (c.crds) return { cluster: cluster.name, alreadyInstalled: true, applied: 0, workloads: [], note: 'present' };
        if (!dryRun) {
          c.crds = true;
          this.act(`crds:${cluster.role}`);
        }
        return { cluster: cluster.name, alreadyInstalled: false, applied: 12, workloads: [], note: 'applied 12 objects' };
      },
      installControlPlane: async ({ cluster, trust }) => {
        this.call('installControlPlane', cluster.role);
        const c = this.clusters[roleOf(cluster)];
        const issuer = trust.issuers[cluster.role].fingerprint;
        const workloads = [{ kind: 'Deployment' as const, namespace: 'linkerd', name: 'linkerd-identity' }];
        if (c.anchors === trust.anchorFingerprints[0] && c.issuer === issuer)
          return { cluster: cluster.name, alreadyInstalled: true, applied: 0, workloads, note: 'match' };
        c.anchors = trust.anchorFingerprints[0];
        c.issuer = issuer;
        this.act(`control-plane:${cluster.role}`);
        return { cluster: cluster.name, alreadyInstalled: false, applied: 40, workloads, note: 'applied 40 objects' };
      },
      meshCheck: async ({ cluster }) => {
        this.call('meshCheck', cluster.role);
        const c = this.clusters[roleOf(cluster)];
        const report: MeshCheckReport = {
          cluster: cluster.name,
          healthy: true,
          checks: [{ category: 'linkerd-identity', description: 'certificate config is valid', status: 'ok' }],
        };
        if (!c.anchors || (cluster.role === 'west' && this.uncheckedRounds > 0)) {
          if (cluster.role === 'west') this.uncheckedRounds--;
          report.healthy = false;
          report.checks.push({
            category: 'linkerd-control-plane',
            description: 'control plane pods are ready',
            status: 'error',
            error: 'No running pods for "linkerd-destination"',
          });
        }
        for (const w of this.checkWarnings) report.checks.push({ category: 'linkerd-identity', description: w, status: 'warning', error: 'expires soon' });
        return report;
      },
      installMulticluster: async ({ cluster, controllersFor }) => {
        this.call('installMulticluster', cluster.role);
        const c = this.clusters[roleOf(cluster)];
        const workloads = [{ kind: 'Deployment' as const, namespace: 'linkerd-multicluster', name: 'linkerd-gateway' }];
        if (c.multicluster && c.controllers.join() === controllersFor.join())
          return { cluster: cluster.name, alreadyInstalled: true, applied: 0, workloads, note: 'present' };
        c.multicluster = true;
        c.controllers = controllersFor;
        this.act(`multicluster:${cluster.role}`);
        return { cluster: cluster.name, alreadyInstalled: false, applied: 20, workloads, note: 'applied' };
      },
      linkClusters: async ({ command }) => {
        this.call('linkClusters');
        const command_ = command === 'auto' ? 'link-gen' : command;
        if (this.linked) return { command: command_, alreadyLinked: true, applied: 0, workloads: [], gatewayAddresses: ['gw.east.example'] };
        this.linked = true;
        this.act('link');
        return { command: command_, alreadyLinked: false, applied: 3, workloads: [], gatewayAddresses: ['gw.east.example'] };
      },
      verifyLink: async ({ west }) => {
        this.call('verifyLink');
        const ok = this.linked;
        return {
          cluster: west.name,
          healthy: ok,
          checks: [{ category: 'kubeha multicluster', description: 'Link east exists on west', status: ok ? 'ok' : 'error' }],
        };
      },
      exportServices: async ({ services }) => {
        this.call('exportServices');
        const labelled: string[] = [];
        const alreadyExported: string[] = [];
        for (const s of services) {
          const key = `${s.namespace}/${s.name}`;
          if (this.exported.has(key)) alreadyExported.push(key);
          else {
            this.exported.add(key);
            this.act(`export:${key}`);
            labelled.push(key);
          }
        }
        return { labelled, alreadyExported };
      },
      verifyMirrors: async (input) => this.mirrorsOf(input.services, input.east.name),
      waitMirrors: async (input) => {
        this.call('waitMirrors');
        return this.mirrorsOf(input.services, input.east.name);
      },
      ensureTrafficSplit: async ({ services, kind, linkerdVersion }) => {
        this.call('ensureTrafficSplit');
        const resolved = kind === 'auto' ? (linkerdVersion?.startsWith('stable-2.12') ? 'smi' : 'httproute') : kind;
        for (const s of services) {
          const key = `${s.namespace}/${s.name}`;
          if (!this.split.has(key)) {
            this.split.add(key);
            this.act(`split:${key}`);
          }
        }
        return {
          kind: resolved,
          apiVersion: resolved === 'smi' ? 'split.smi-spec.io/v1alpha2' : 'gateway.networking.k8s.io/v1',
          applied: services.map((s) => `${s.namespace}/${s.name}`),
        };
      },
      waitRollout: async () => {
        this.call('waitRollout');
      },
    };
  }

  private mirrorsOf(services: Array<{ namespace: string; name: string }>, eastName: string) {
    return {
      gateway: { reported: ['gw.east.example'], ips: ['203.0.113.10'], port: 4143 },
      mirrors: services.map((s) => ({
        service: `${s.namespace}/${s.name}`,
        mirror: `${s.namespace}/${s.name}-${eastName}`,
        exists: this.linked && this.exported.has(`${s.namespace}/${s.name}`),
        endpointIps: ['203.0.113.10'],
        pointsAtGateway: this.linked && this.exported.has(`${s.namespace}/${s.name}`),
        message: 'points at the gateway',
      })),
    };
  }
}

/** A failure a retry cannot fix. */
export function permanentMeshFailure(message: string): () => Error {
  return () => ApplicationFailure.create({ type: ErrorType.CommandFailed, message, nonRetryable: true, details: [{ hint: 'injected by the test' }] });
}
