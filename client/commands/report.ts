/**
 * `kubeha report -f <bootstrap input>`: the HA report of a topology (common/haReport.ts), as text or
 * `--json`. `--failover` names a FailoverToEast input that moves this cluster's traffic elsewhere;
 * `--snapshot-every` says how often etcd snapshots are taken, for what a snapshot restore loses.
 */
import type { Command } from 'commander';
import { bootstrapStackedEtcdInputSchema } from '../../common/inputs/bootstrapStackedEtcd';
import { failoverToEastInputSchema } from '../../common/inputs/failoverToEast';
import { parseDuration } from '../../common/inputs/rotateCertificateKey';
import { haReport, type HaReport } from '../../common/haReport';
import { CliError } from '../connection';
import { readWorkflowInput } from '../inputFile';
import { fitToWidth } from '../renderProgress';

/** Options of `kubeha report`. */
export interface ReportOptions {
  file: string;
  failover?: string;
  snapshotEvery?: string;
  json?: boolean;
}

/** Builds the report from the files named. Bad files end with exit code 2, naming every bad field. */
export function reportFromFiles(options: ReportOptions): HaReport {
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
  });
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
    .option('--json', 'print JSON', false)
    .action((options: ReportOptions) => {
      const report = reportFromFiles(options);
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report, process.stdout.columns || 80).join('\n')}\n`);
    });
}
