/**
 * `kubeha report -f <bootstrap input>`: the HA report of a topology (common/haReport.ts), as text or
 * `--json`. `--failover` names a FailoverToEast input that moves this cluster's traffic elsewhere;
 * `--snapshot-every` says how often etcd snapshots are taken, for what a snapshot restore loses;
 * `--mesh-issuer PAIR/SIDE` reads the cluster's Linkerd issuer (read-only, through the kubeconfig
 * LinkMeshClusters keeps in the worker's secret store) and warns when it expires within the threshold.
 */
import type { Command } from 'commander';
import { createMeshActivities } from '../../activities/mesh';
import type { SecretStore } from '../../activities/secrets/store';
import { bootstrapStackedEtcdInputSchema } from '../../common/inputs/bootstrapStackedEtcd';
import { failoverToEastInputSchema } from '../../common/inputs/failoverToEast';
import { parseDuration } from '../../common/inputs/rotateCertificateKey';
import { haReport, type HaReport } from '../../common/haReport';
import { LINKERD_EXPIRY_WARNING_DAYS } from '../../common/inputs/meshIssuer';
import type { LinkerdIssuerState } from '../../common/linkerdIssuer';
import { CliError } from '../connection';
import { readWorkflowInput } from '../inputFile';
import { fitToWidth } from '../renderProgress';
import { requireSecretStore } from '../secretStore';

/** Options of `kubeha report`. */
export interface ReportOptions {
  file: string;
  failover?: string;
  snapshotEvery?: string;
  /** `PAIR/west` or `PAIR/east`: the LinkMeshClusters pair and this cluster's side. */
  meshIssuer?: string;
  issuerThresholdDays?: string;
  json?: boolean;
}

/** Builds the report from the files named. Bad files end with exit code 2, naming every bad field. */
export function reportFromFiles(options: ReportOptions, linkerdIssuer?: LinkerdIssuerState): HaReport {
  const { parsed } = readWorkflowInput(options.file, bootstrapStackedEtcdInputSchema, 'BootstrapStackedEtcd');
  let failoverTo: string | undefined;
  if (options.failover) {
    const pair = readWorkflowInput(options.failover, failoverToEastInputSchema, 'FailoverToEast').parsed;
    if (pair.west.name !== parsed.clusterName)
      throw new CliError(`${options.failover} moves traffic away from cluster ${pair.west.name}, not ${parsed.clusterName}`, 2);
    failoverTo = pair.east.name;
  }
  if (options.snapshotEvery !== undefined && parseDuration(options.snapshotEvery) === undefined)
    throw new CliError(`--snapshot-every "${options.snapshotEvery}" must be a duration like 1h or 30m`, 2);
  return haReport({
    clusterName: parsed.clusterName,
    hosts: parsed.hosts,
    healthCheck: parsed.loadBalancer.targetGroup.healthCheck,
    failoverTo,
    snapshotEvery: options.snapshotEvery,
    linkerdIssuer,
  });
}

/** Which issuer `--mesh-issuer` names, and the threshold; bad values end with exit code 2, before any store or cluster is asked. */
export function meshIssuerOption(options: ReportOptions): { pairName: string; role: 'west' | 'east'; thresholdDays: number } | undefined {
  if (!options.meshIssuer) return undefined;
  const side = /^([a-z0-9]([a-z0-9-]*[a-z0-9])?)\/(west|east)$/.exec(options.meshIssuer);
  if (!side) throw new CliError(`--mesh-issuer "${options.meshIssuer}" must be PAIR/west or PAIR/east (the LinkMeshClusters pair and this cluster's side)`, 2);
  const thresholdDays = Number(options.issuerThresholdDays ?? LINKERD_EXPIRY_WARNING_DAYS);
  if (!Number.isInteger(thresholdDays) || thresholdDays < 1 || thresholdDays > 365)
    throw new CliError(`--issuer-threshold-days "${options.issuerThresholdDays}" must be a whole number of days from 1 to 365`, 2);
  return { pairName: side[1], role: side[3] as 'west' | 'east', thresholdDays };
}

/**
 * Reads the cluster's Linkerd issuer as RotateCertificateKey's watch does: from the cluster's Secret,
 * through the kubeconfig LinkMeshClusters stored for that side; the store also says whether kubeha
 * holds the anchor key to renew it.
 */
export async function readLinkerdIssuer(
  secrets: SecretStore,
  issuer: NonNullable<ReturnType<typeof meshIssuerOption>>,
  clusterName: string,
): Promise<LinkerdIssuerState> {
  const expiry = await createMeshActivities({ secrets }).meshIssuerExpiry({ ...issuer, cluster: clusterName });
  const { found, notAfter, daysLeft, due, warning, renewable, notRenewableReason } = expiry;
  return { found, notAfter, daysLeft, due, warning, renewable, notRenewableReason };
}

/** The report as lines of at most `columns` characters. */
export function formatReport(report: HaReport, columns = 80): string[] {
  const tolerance = `tolerates ${report.failuresTolerated} failure${report.failuresTolerated === 1 ? '' : 's'}`;
  const lines = [
    `HA report of cluster ${report.cluster}`,
    `  etcd: ${report.voters} voters (${report.registeredControlPlanes} control planes in the load balancer, ${report.spares} spare), quorum ${report.quorum}, ${tolerance}`,
    `  model: ${report.model.level} of 4, ${report.model.name}: ${report.model.why}`,
    '',
    'losing a zone:',
  ];
  for (const z of report.zones) {
    const recovery = {
      'none-needed': 'nothing to do',
      'register-spare': `register spare ${z.restoreFrom ?? ''}`.trim(),
      survivor: `restore etcd from survivor ${z.restoreFrom}`,
      snapshot: 'restore from a snapshot',
    }[z.recovery];
    lines.push(
      `  ${z.zone} (${z.hosts.join(', ')}): ${z.votersLost} voter(s) lost, ${z.votersLeft} left; quorum ${z.keepsQuorum ? 'kept' : 'LOST'}; API ${z.apiServed ? 'served' : 'DOWN'}; ${recovery}`,
    );
    lines.push(`      data loss: ${z.dataLoss}`, `      downtime: ${z.downtime}`);
  }
  if (report.warnings.length > 0) lines.push('', 'warnings:', ...report.warnings.map((w) => `  ! ${w}`));
  return fitToWidth(lines, columns);
}

/** Adds `kubeha report`. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('what losing each zone does to a topology: etcd quorum, the API, recovery, data loss and downtime')
    .requiredOption('-f, --file <bootstrap.json>', 'the BootstrapStackedEtcd input (hosts[].zone names the zones)')
    .option('--failover <failover.json>', "the FailoverToEast input that moves this cluster's traffic to another cluster")
    .option('--snapshot-every <duration>', 'how often etcd snapshots are taken (e.g. 1h), for what a restore loses')
    .option('--mesh-issuer <pair/side>', "read the cluster's Linkerd issuer (LinkMeshClusters pair and side, e.g. west-east/west) and warn near its expiry")
    .option(
      '--issuer-threshold-days <days>',
      `warn when the Linkerd issuer expires within this many days (default ${LINKERD_EXPIRY_WARNING_DAYS}, as linkerd check)`,
    )
    .option('--json', 'print JSON', false)
    .action(async (options: ReportOptions) => {
      // A bad file ends here, before any cluster is asked.
      const topologyOnly = reportFromFiles(options);
      const issuer = meshIssuerOption(options);
      const linkerdIssuer = issuer ? await readLinkerdIssuer((await requireSecretStore()).store, issuer, topologyOnly.cluster) : undefined;
      const report = linkerdIssuer ? reportFromFiles(options, linkerdIssuer) : topologyOnly;
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report, process.stdout.columns || 80).join('\n')}\n`);
    });
}
