/** What BootstrapStackedEtcd returns, the HA report of its topology, and the rotation schedule it may set up. */
import { log } from '@temporalio/workflow';
import { failuresTolerated, haReport, type HaReport, quorumOf } from '../../common/haReport';
import type { BootstrapStackedEtcdConfig } from '../../common/inputs/bootstrapStackedEtcd';
import { schedules } from '../rotate/activities';
import type { BootstrapContext } from './data';

/** What BootstrapStackedEtcd returns: the cluster as verified. No secrets, only their names. */
export interface BootstrapResult {
  clusterName: string;
  controlPlaneEndpoint: string;
  loadBalancerArn: string;
  targetGroupArn: string;
  /** Control-plane nodes in the load balancer (the primary first). */
  controlPlanes: string[];
  /** Spare control-plane nodes: etcd voters kept out of the load balancer. */
  spares: string[];
  workers: string[];
  /** etcd voting members, their quorum, and how many losses they tolerate. */
  etcd: { members: number; quorum: number; toleratesFailures: number };
  /** Name of the admin kubeconfig in the worker's secret store. */
  kubeconfigSecret?: string;
  /** The certificate-key rotation schedule, when the input asked for one. */
  rotationSchedule?: { scheduleId: string; created: boolean } | { error: string };
  /** What losing each zone does to this topology (`kubeha report`). */
  haReport: HaReport;
  dryRun: boolean;
}

export function etcdQuorum(voters: number): BootstrapResult['etcd'] {
  return { members: voters, quorum: quorumOf(voters), toleratesFailures: failuresTolerated(voters) };
}

/** The HA report of the run's topology (pure: the same on every replay). */
export function reportOf(config: BootstrapStackedEtcdConfig): HaReport {
  return haReport({ clusterName: config.clusterName, hosts: config.hosts, healthCheck: config.loadBalancer.targetGroup.healthCheck });
}

/** The report in one line for the Web UI's current details: the model, and the zones whose loss stops the API. */
export function haSummary(report: HaReport): string {
  const down = report.zones
    .filter((z) => !z.apiServed && z.votersLost > 0)
    .map(
      (z) =>
        `${z.zone} (${z.recovery === 'register-spare' ? 'register a spare' : z.recovery === 'survivor' ? `restore from ${z.restoreFrom}` : 'restore a snapshot'})`,
    );
  return `model ${report.model.level} of 4 (${report.model.name}); ${down.length ? `losing ${down.join(', ')} stops the API` : 'losing any one zone keeps the API'}${report.warnings.length ? `; ${report.warnings.length} warning(s): kubeha report` : ''}`;
}

export function resultOf(ctx: BootstrapContext): BootstrapResult {
  return {
    clusterName: ctx.config.clusterName,
    controlPlaneEndpoint: ctx.lb ? `${ctx.lb.dnsName}:6443` : '',
    loadBalancerArn: ctx.lb?.loadBalancerArn ?? '',
    targetGroupArn: ctx.lb?.targetGroupArn ?? '',
    controlPlanes: [ctx.primary, ...ctx.secondaries].map((h) => h.name),
    spares: ctx.spares.map((h) => h.name),
    workers: ctx.workers.map((h) => h.name),
    etcd: etcdQuorum(1 + ctx.secondaries.length + ctx.spares.length),
    kubeconfigSecret: ctx.init?.kubeconfigSecret,
    haReport: reportOf(ctx.config),
    dryRun: ctx.config.dryRun,
  };
}

/**
 * Creates the rotation schedule the input asked for. The cluster is up by now: a failure here is
 * reported in the result and progress, not a failed bootstrap (`kubeha schedule rotate` can redo it).
 */
export async function ensureRotationSchedule(ctx: BootstrapContext): Promise<BootstrapResult['rotationSchedule']> {
  const { config } = ctx;
  try {
    const info = await schedules.ensureRotationSchedule.executeWithOptions({ summary: `rotation schedule of ${config.clusterName}` }, [
      {
        clusterName: config.clusterName,
        schedule: config.rotationSchedule ?? {},
        workflowInput: {
          clusterName: config.clusterName,
          hosts: config.hosts.filter((h) => h.role !== 'worker'),
          kubeconfigSecret: ctx.init?.kubeconfigSecret,
        },
      },
    ]);
    ctx.tracker.setFact('rotation schedule', `${info.scheduleId} (${info.created ? 'created' : 'updated'}, every ${config.rotationSchedule?.every})`);
    return info;
  } catch (err) {
    const message = (err as Error).message;
    log.warn('rotation schedule not created', { message });
    ctx.tracker.setFact('rotation schedule', `not created: ${message}`);
    return { error: message };
  }
}
