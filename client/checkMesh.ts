/**
 * `kubeha check mesh --west CTX --east CTX`: LinkMeshClusters' verifications alone (its check, link and
 * export steps' checks), run in process against the two clusters, printed as `linkerd check` prints
 * (√ / ‼ / ×, hints) or as JSON. Changes nothing; the kubeconfigs are cut to their contexts in a
 * throw-away secret store that is removed afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { renderReport } from '../activities/mesh/checkResults';
import { createMeshActivities } from '../activities/mesh';
import { resolveClusterAccess } from '../activities/mesh/clusterAccess';
import type { MeshActivities, MeshCheck, MeshCheckReport } from '../activities/mesh/types';
import { FileSecretStore } from '../activities/secrets/store';

/** Options of `kubeha check mesh`. */
export interface CheckMeshOptions {
  west: string;
  east: string;
  /** Kubeconfig of both contexts; per-cluster files override. Default $KUBECONFIG or ~/.kube/config. */
  kubeconfig?: string;
  westKubeconfig?: string;
  eastKubeconfig?: string;
  /** Mesh names; default the context names. */
  westName?: string;
  eastName?: string;
  /** Only kubeha's own checks (no linkerd CLI on this machine). */
  withoutCli?: boolean;
  json?: boolean;
}

/** What `kubeha check mesh` found. */
export interface CheckMeshReport {
  healthy: boolean;
  reports: MeshCheckReport[];
}

/** Makes a check line of an error thrown by a verification, so one broken part does not hide the rest. */
function failedCheck(category: string, description: string, err: unknown): MeshCheck {
  return { category, description, status: 'error', error: (err as Error).message };
}

/** Runs the verifications; never throws for an unhealthy mesh (the report says so). */
export async function checkMesh(options: CheckMeshOptions, activities?: (store: FileSecretStore) => MeshActivities): Promise<CheckMeshReport> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kubeha-check-mesh-'));
  try {
    const secrets = new FileSecretStore(dir);
    const mesh = activities ? activities(secrets) : createMeshActivities({ secrets });
    const fallback = options.kubeconfig ?? process.env.KUBECONFIG?.split(path.delimiter)[0] ?? path.join(os.homedir(), '.kube', 'config');
    const cluster = (context: string, file: string | undefined, name: string | undefined) => ({
      name:
        (name ?? context)
          .toLowerCase()
          .replace(/[^a-z0-9-]/g, '-')
          .replace(/^-+|-+$/g, '')
          .slice(0, 63) || 'cluster',
      kubeconfig: { file: path.resolve(file ?? fallback) },
      context,
      set: [],
    });
    const west = cluster(options.west, options.westKubeconfig, options.westName);
    const east = cluster(options.east, options.eastKubeconfig, options.eastName);
    // The contexts must exist (the preflight's first half); an unknown one throws, naming it.
    const westAccess = await resolveClusterAccess(secrets, 'check', 'west', west);
    const eastAccess = await resolveClusterAccess(secrets, 'check', 'east', east);
    const reports: MeshCheckReport[] = [];
    for (const access of [westAccess, eastAccess]) {
      reports.push(
        await mesh
          .meshCheck({ cluster: access, scope: 'core', withoutCli: options.withoutCli })
          .catch((err) => ({ cluster: access.name, healthy: false, checks: [failedCheck('linkerd check', 'the checks ran', err)] })),
      );
    }
    reports.push(
      await mesh
        .verifyLink({ west: westAccess, east: eastAccess, withoutCli: options.withoutCli })
        .catch((err) => ({ cluster: westAccess.name, healthy: false, checks: [failedCheck('kubeha multicluster', 'the link checks ran', err)] })),
    );
    let mirrorChecks: MeshCheck[];
    try {
      const { gateway, mirrors } = await mesh.verifyMirrors({ west: westAccess, east: eastAccess, services: [] });
      mirrorChecks = mirrors.length
        ? mirrors.map(
            (m) =>
              ({
                category: 'kubeha mirrors',
                description: `mirror ${m.mirror} points at east's gateway`,
                status: m.pointsAtGateway ? 'ok' : 'error',
                ...(m.pointsAtGateway ? {} : { error: m.message }),
              }) as MeshCheck,
          )
        : [
            {
              category: 'kubeha mirrors',
              description: 'east exports services',
              status: 'warning',
              error: `no Service on east is labelled mirror.linkerd.io/exported=true (gateway ${gateway.reported.join(', ')})`,
            },
          ];
    } catch (err) {
      mirrorChecks = [failedCheck('kubeha mirrors', 'mirrors can be verified', err)];
    }
    reports.push({ cluster: westAccess.name, healthy: !mirrorChecks.some((c) => c.status === 'error'), checks: mirrorChecks });
    return { healthy: reports.every((r) => r.healthy), reports };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Registers `kubeha check mesh` on a commander 14 program (adds the `check` group when missing). */
export function registerCheckMeshCommand(program: Command): void {
  const check =
    program.commands.find((c) => c.name() === 'check') ?? program.command('check').description('verify what a workflow built, without changing anything');
  check
    .command('mesh')
    .description("verify the Linkerd mesh between two clusters: linkerd check on both, the link, east's exports and their mirrors on west")
    .requiredOption('--west <context>', 'kubeconfig context of the cluster that mirrors (west)')
    .requiredOption('--east <context>', 'kubeconfig context of the cluster that exports (east)')
    .option('--kubeconfig <file>', 'kubeconfig holding both contexts (default $KUBECONFIG or ~/.kube/config)')
    .option('--west-kubeconfig <file>', "west's kubeconfig, when it is another file")
    .option('--east-kubeconfig <file>', "east's kubeconfig, when it is another file")
    .option('--west-name <name>', "west's mesh name (default the context)")
    .option('--east-name <name>', "east's mesh name: the Link and the mirror suffix (default the context)")
    .option('--without-cli', "kubeha's own checks only (no linkerd CLI needed)", false)
    .option('--json', 'print the report as JSON', false)
    .action(async (options: CheckMeshOptions) => {
      const report = await checkMesh(options);
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${report.reports.map(renderReport).join('\n\n')}\n`);
      process.exitCode = report.healthy ? 0 : 1;
    });
}
