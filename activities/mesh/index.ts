/**
 * The mesh activities: Linkerd trust, installs, the multicluster link, exports and mirrors, traffic
 * split, and the checks `kubeha check mesh` shares. Built by a factory with injected clients.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, kubehaFailure } from '../../common/errors';
import type { KubeClient } from '../kubernetes/client';
import { pollUntil } from '../kubernetes/poll';
import type { SecretStore } from '../secrets/store';
import { reportOf, parseCheckJson } from './checkResults';
import { clientFor, kubeconfigSecretName, resolveClusterAccess } from './clusterAccess';
import { identityChecks, installedLinkerd } from './clusterState';
import { installControlPlane, installCrds, installMulticluster, type InstallDeps } from './install';
import { renewIssuer } from './issuerRenewal';
import { issuerExpiry } from './issuerWatch';
import { linkChecks, linkClusters } from './link';
import { LinkerdCli } from './linkerdCli';
import { exportedServices, exportServices, gatewayAddress, mirrorStatus, systemResolver, type Resolver } from './mirrors';
import { ensureTrafficSplit } from './trafficSplit';
import { ensureTrust, readAdoptedTrust, trustSecretNames } from './trust';
import { bundleFingerprints } from './pki';
import type { ClusterAccess, MeshActivities, MeshCheck, MeshRole, MirrorsInput, MirrorsResult } from './types';

/** What the mesh activities need. */
export interface MeshDependencies {
  secrets: SecretStore;
  /** The linkerd CLI driver. Default: the CLI found by findLinkerd(). */
  cli?: LinkerdCli;
  /** Hostname resolution for gateway addresses. Default: the system resolver. */
  resolver?: Resolver;
  pollIntervalMs?: number;
  requestTimeoutMs?: number;
  crdTimeoutMs?: number;
}

/** How long one `linkerd check` retries its retried checks (pods ready...) before it answers. */
const CHECK_WAIT = '10s';

type Issue = { path: string; message: string };

function issuesOf(err: unknown): Issue[] | undefined {
  if (!(err instanceof ApplicationFailure) || err.type !== ErrorType.InvalidInput) return undefined;
  const details = err.details?.[0] as { issues?: Issue[] } | undefined;
  return details?.issues;
}

/** Builds the mesh activities. */
export function createMeshActivities(deps: MeshDependencies): MeshActivities {
  const cli = deps.cli ?? new LinkerdCli(deps.secrets);
  const resolve = deps.resolver ?? systemResolver;
  const pollIntervalMs = deps.pollIntervalMs ?? 2000;
  const client = (access: Pick<ClusterAccess, 'kubeconfigSecret'>): Promise<KubeClient> => clientFor(deps.secrets, access, deps.requestTimeoutMs);
  const install: InstallDeps = { secrets: deps.secrets, cli, client, pollIntervalMs, crdTimeoutMs: deps.crdTimeoutMs ?? 60_000 };

  /** Reads what is on the cluster, mapping API errors to kubeha failures. */
  const readInstalled = async (access: ClusterAccess) => {
    const c = await client(access);
    try {
      return await installedLinkerd(c);
    } catch (err) {
      throw c.failure(err, `read Linkerd's identity on ${access.name}`);
    }
  };

  const cliChecks = async (access: ClusterAccess, args: string[]): Promise<MeshCheck[]> => {
    const { stdout, stderr, exitCode } = await cli.run([...args, '-o', 'json'], {
      what: `linkerd ${args.join(' ')} on ${access.name}`,
      kubeconfigSecret: access.kubeconfigSecret,
      context: access.context,
      acceptExitCodes: [1, 2],
    });
    try {
      return parseCheckJson(stdout);
    } catch {
      return [
        {
          category: `linkerd ${args.join(' ')}`,
          description: 'the check ran',
          status: 'error',
          error: `exit ${exitCode}: ${stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 500)}`,
        },
      ];
    }
  };

  const lookMirrors = async (input: MirrorsInput): Promise<MirrorsResult> => {
    const west = await client(input.west);
    const east = await client(input.east);
    const gateway = await gatewayAddress(east, west, input.east.name, resolve);
    const services = input.services.length ? input.services : await exportedServices(east);
    const mirrors = [];
    for (const svc of services) mirrors.push(await mirrorStatus(west, svc, input.east.name, gateway));
    return { gateway, mirrors };
  };

  return {
    async preflightMesh(input) {
      const issues: Issue[] = [];
      const access = {} as Record<MeshRole, ClusterAccess>;
      for (const role of ['west', 'east'] as const) {
        try {
          access[role] = await resolveClusterAccess(deps.secrets, input.pairName, role, input[role]);
        } catch (err) {
          const found = issuesOf(err);
          if (!found) throw err;
          issues.push(...found);
        }
      }
      let adoptedAnchors: string[] | undefined;
      if (input.trust.mode === 'adopt') {
        try {
          adoptedAnchors = await bundleFingerprints((await readAdoptedTrust(input.trust)).adopted.anchorsPem);
        } catch (err) {
          const found = issuesOf(err);
          if (!found) throw err;
          issues.push(...found);
        }
      }
      if (issues.length === 0) {
        const installed = { west: await readInstalled(access.west), east: await readInstalled(access.east) };
        const [w, e] = [installed.west.anchorFingerprints, installed.east.anchorFingerprints];
        if (w.length && e.length && w.join(',') !== e.join(',')) {
          issues.push({
            path: 'east.context',
            message: `Linkerd on east trusts other anchors than Linkerd on west (${e[0].slice(0, 16)}… vs ${w[0].slice(0, 16)}…): multicluster needs exactly the same anchors; reinstall one, or adopt a bundle holding both`,
          });
        }
        const ours = adoptedAnchors ?? (await storedAnchors(deps.secrets, input.pairName));
        for (const role of ['west', 'east'] as const) {
          const theirs = installed[role].anchorFingerprints;
          if (!theirs.length || !ours || theirs.join(',') === ours.join(',')) continue;
          issues.push({
            path: input.trust.mode === 'adopt' ? 'trust.anchors' : 'trust.mode',
            message: `${role} already runs Linkerd with other trust anchors (${theirs[0].slice(0, 16)}…); installing would break its workloads' identity: adopt those anchors (mode "adopt") or uninstall Linkerd there first`,
          });
        }
        if (issues.length === 0 && input.trust.mode === 'generate' && !ours) {
          for (const role of ['west', 'east'] as const) {
            if (installed[role].anchorFingerprints.length) {
              issues.push({
                path: 'trust.mode',
                message: `${role} already runs Linkerd with anchors kubeha did not make; adopt them (mode "adopt") or uninstall Linkerd there first`,
              });
            }
          }
        }
        if (issues.length === 0) return { west: access.west, east: access.east, installed, cliVersion: await cli.clientVersion() };
      }
      throw kubehaFailure({
        type: ErrorType.InvalidInput,
        message: `invalid LinkMeshClusters input: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        retryable: false,
        hint: 'fix the named fields and start again; nothing was changed on either cluster',
        details: { issues },
      });
    },

    ensureTrust: (input) => ensureTrust(deps.secrets, input.pairName, input.trust, input.dryRun ?? false),

    installLinkerdCrds: (input) => installCrds(install, input.cluster, input.dryRun ?? false),

    installControlPlane: (input) => installControlPlane(install, input.cluster, input.trust, input.set, input.dryRun ?? false),

    async meshCheck(input) {
      const checks: MeshCheck[] = [];
      if (input.scope === 'core') {
        const c = await client(input.cluster);
        try {
          checks.push(...(await identityChecks(c, input.expectedAnchors)));
        } catch (err) {
          throw c.failure(err, `identity checks on ${input.cluster.name}`);
        }
        // One look, not linkerd's own retries: its default --wait (5 m) outlasts the activity's timeout
        // and the step's deadline; the workflow asks again every checkIntervalSeconds.
        if (!input.withoutCli) checks.push(...(await cliChecks(input.cluster, ['check', '--wait', CHECK_WAIT])));
      } else if (!input.withoutCli) {
        checks.push(...(await cliChecks(input.cluster, ['multicluster', 'check'])));
      }
      return reportOf(input.cluster.name, checks);
    },

    installMulticluster: (input) => installMulticluster(install, input.cluster, input.controllersFor, input.dryRun ?? false),

    linkClusters: (input) => linkClusters(install, input, resolve),

    async verifyLink(input) {
      const west = await client(input.west);
      const east = await client(input.east);
      const checks = await linkChecks(west, east, input.east.name, resolve).catch((err) => {
        throw west.failure(err, 'link checks');
      });
      if (!input.withoutCli) {
        checks.push(...(await cliChecks(input.west, ['multicluster', 'check'])));
        // `multicluster gateways` reads linkerd-viz's metrics API: without viz it cannot answer (a warning).
        const gw = await cli.run(['multicluster', 'gateways', '--cluster-name', input.east.name], {
          what: 'linkerd multicluster gateways on west',
          kubeconfigSecret: input.west.kubeconfigSecret,
          context: input.west.context,
          acceptExitCodes: [1],
        });
        const row = gw.stdout
          .split('\n')
          .map((l) => l.trim().split(/\s+/))
          .find((cols) => cols[0] === input.east.name);
        if (gw.exitCode !== 0)
          checks.push({
            category: 'linkerd multicluster gateways',
            description: `gateway of ${input.east.name} is alive`,
            status: 'warning',
            error: gw.stderr.trim().slice(0, 300),
            hint: 'the gateways command needs the linkerd-viz extension on west',
          });
        else
          checks.push({
            category: 'linkerd multicluster gateways',
            description: `gateway of ${input.east.name} is alive`,
            status: row?.[1] === 'True' ? 'ok' : 'error',
            ...(row?.[1] === 'True' ? {} : { error: row ? `ALIVE is ${row[1]}` : `no row for ${input.east.name}` }),
          });
      }
      return reportOf(input.west.name, checks);
    },

    async exportServices(input) {
      const east = await client(input.east);
      try {
        return await exportServices(east, input.services, input.dryRun ?? false);
      } catch (err) {
        throw east.failure(err, 'export services on east');
      }
    },

    verifyMirrors: lookMirrors,

    async waitMirrors(input) {
      const timeoutSeconds = input.timeoutSeconds ?? 300;
      let last: MirrorsResult | undefined;
      return pollUntil<MirrorsResult, string[]>({
        timeoutMs: timeoutSeconds * 1000,
        intervalMs: pollIntervalMs,
        check: async () => {
          last = await lookMirrors(input);
          const waiting = last.mirrors.filter((m) => !m.pointsAtGateway);
          return waiting.length === 0 ? { done: true, value: last } : { done: false, progress: waiting.map((m) => m.message) };
        },
        onDeadline: (waiting) =>
          kubehaFailure({
            type: ErrorType.DeadlineExceeded,
            message: `mirrors not right after ${timeoutSeconds} s: ${waiting.join('; ')}`,
            retryable: false,
            hint: "check the service mirror controller on west (its logs name the Link and the service), the export label on east, and that east's gateway has a load balancer address",
            details: { mirrors: last?.mirrors, gateway: last?.gateway },
          }),
      });
    },

    async ensureTrafficSplit(input) {
      const west = await client(input.west);
      return ensureTrafficSplit(west, input);
    },

    // The issuer activities reach the cluster through the kubeconfig LinkMeshClusters stored for its side.
    async meshIssuerExpiry(input) {
      const c = await client({ kubeconfigSecret: kubeconfigSecretName(input.pairName, input.role) });
      try {
        return await issuerExpiry(c, deps.secrets, input);
      } catch (err) {
        throw c.failure(err, `read the Linkerd issuer of ${input.cluster}`);
      }
    },

    async renewMeshIssuer(input) {
      const kubeconfigSecret = kubeconfigSecretName(input.pairName, input.role);
      const c = await client({ kubeconfigSecret });
      try {
        return await renewIssuer(c, deps.secrets, input, kubeconfigSecret);
      } catch (err) {
        throw c.failure(err, `renew the Linkerd issuer of ${input.cluster}`);
      }
    },
  };
}

async function storedAnchors(secrets: SecretStore, pairName: string): Promise<string[] | undefined> {
  const name = trustSecretNames(pairName).anchors;
  if (!(await secrets.has(name))) return undefined;
  return bundleFingerprints(await secrets.get(name));
}
