/**
 * The HA report of a stacked-etcd topology: how many etcd voters, the quorum and the failures it
 * tolerates, and, zone by zone, what losing that zone does: does etcd keep quorum, does the API stay
 * served through the load balancer, and if not, what recovery is possible and what it costs (data lost,
 * time down). Pure (no I/O, no Node built-ins): the CLI prints it and workflows may carry it.
 *
 * Facts it rests on (etcd FAQ, Kubernetes docs): quorum is floor(n/2)+1 voters; an even count adds a vote
 * to every write and no tolerance; a spare control plane is a voter even while out of the load balancer;
 * reads through the API need quorum too; a member that survives a quorum loss can be restarted with
 * `--force-new-cluster` (its own data); with none left only a snapshot restores the cluster.
 */
import type { HostSpec } from './inputs/shared';
import { linkerdIssuerWarning, type LinkerdIssuerState } from './linkerdIssuer';

/** Zone name used for hosts whose input gives none. */
export const NO_ZONE = '(no zone)';

/** What losing one zone does. */
export interface ZoneLoss {
  zone: string;
  /** Every host in the zone. */
  hosts: string[];
  votersLost: number;
  votersLeft: number;
  keepsQuorum: boolean;
  /** Whether the API keeps answering through the load balancer with no action at all. */
  apiServed: boolean;
  /** What brings the API back, when it goes down: nothing needed, registering a spare, a survivor, a snapshot. */
  recovery: 'none-needed' | 'register-spare' | 'survivor' | 'snapshot';
  /** The surviving member a quorum-loss recovery restores from (the survivor case). */
  restoreFrom?: string;
  dataLoss: string;
  downtime: string;
}

/** Where the topology sits among the seed article's four availability models. */
export interface AvailabilityModel {
  level: 1 | 2 | 3 | 4;
  name: string;
  why: string;
}

/** The report. */
export interface HaReport {
  cluster: string;
  voters: number;
  quorum: number;
  failuresTolerated: number;
  registeredControlPlanes: number;
  spares: number;
  workers: number;
  zones: ZoneLoss[];
  warnings: string[];
  model: AvailabilityModel;
  /** The cluster's Linkerd issuer, when the report was asked to read it (`--mesh-issuer`). */
  linkerdIssuer?: LinkerdIssuerState;
}

/** What a report is made from: the bootstrap input's cluster, hosts and health check, and whether a failover pair exists. */
export interface HaTopology {
  clusterName: string;
  hosts: readonly Pick<HostSpec, 'name' | 'role' | 'zone'>[];
  /** The load balancer's health check (seconds between checks, failures to mark a target unhealthy). */
  healthCheck?: { intervalSeconds: number; unhealthyThreshold: number };
  /** East, when a FailoverToEast pair moves this cluster's traffic elsewhere. */
  failoverTo?: string;
  /** How often etcd snapshots are taken (a backup schedule), for the data a snapshot restore loses. */
  snapshotEvery?: string;
  /** The cluster's Linkerd issuer as the expiry watch read it. */
  linkerdIssuer?: LinkerdIssuerState;
}

/** etcd's quorum for `voters` voting members. */
export function quorumOf(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/** How many voters may be lost with quorum kept. */
export function failuresTolerated(voters: number): number {
  return voters === 0 ? 0 : voters - quorumOf(voters);
}

function availabilityModel(topology: HaTopology, voters: number, zonesWithControlPlanes: number, zoned: boolean): AvailabilityModel {
  if (topology.failoverTo)
    return {
      level: 4,
      name: 'multiple instances in multiple regions',
      why: `a second cluster (${topology.failoverTo}) takes the traffic when this one is lost (FailoverToEast)`,
    };
  if (voters <= 1) return { level: 1, name: 'single instance', why: 'one control plane and one etcd member: any loss of it stops the API' };
  if (zoned && zonesWithControlPlanes > 1)
    return {
      level: 3,
      name: 'multiple instances on multiple hosts',
      why: `control planes in ${zonesWithControlPlanes} zones behind one load balancer, one etcd cluster`,
    };
  return {
    level: 2,
    name: 'multiple instances on one host',
    why: zoned ? 'every control plane in one zone: losing it loses them all' : 'several control planes, but no zones are given: assume they are adjacent',
  };
}

/** The report for a topology. */
export function haReport(topology: HaTopology): HaReport {
  const controlPlanes = topology.hosts.filter((h) => h.role === 'control-plane');
  const spares = topology.hosts.filter((h) => h.role === 'spare-control-plane');
  const voters = controlPlanes.length + spares.length;
  const quorum = quorumOf(voters);
  const zoneOf = (h: { zone?: string }) => h.zone ?? NO_ZONE;
  const zoneNames = [...new Set(topology.hosts.map(zoneOf))].sort();
  const detectSeconds = topology.healthCheck ? topology.healthCheck.intervalSeconds * topology.healthCheck.unhealthyThreshold : undefined;
  const snapshotLoss = topology.snapshotEvery
    ? `writes since the last snapshot (up to ${topology.snapshotEvery})`
    : 'everything: no etcd snapshots are scheduled';

  const zones = zoneNames.map((zone): ZoneLoss => {
    const inZone = topology.hosts.filter((h) => zoneOf(h) === zone);
    const votersLost = inZone.filter((h) => h.role !== 'worker').length;
    const votersLeft = voters - votersLost;
    const keepsQuorum = votersLeft >= quorum;
    const registeredLeft = controlPlanes.filter((h) => zoneOf(h) !== zone);
    const sparesLeft = spares.filter((h) => zoneOf(h) !== zone);
    const survivor = [...registeredLeft, ...sparesLeft][0];
    const base = { zone, hosts: inZone.map((h) => h.name), votersLost, votersLeft, keepsQuorum };
    if (keepsQuorum && registeredLeft.length > 0) {
      const targetsLost = registeredLeft.length < controlPlanes.length;
      return {
        ...base,
        apiServed: true,
        recovery: 'none-needed',
        dataLoss: 'none',
        downtime:
          targetsLost && detectSeconds
            ? `none; requests to the lost targets fail for up to ${detectSeconds} s until the load balancer marks them unhealthy`
            : 'none',
      };
    }
    if (keepsQuorum) {
      return {
        ...base,
        apiServed: false,
        recovery: 'register-spare',
        restoreFrom: sparesLeft[0]?.name,
        dataLoss: 'none',
        downtime: 'until a spare control plane is registered in the load balancer and healthy (FailoverToEast does it on the alert)',
      };
    }
    if (survivor) {
      return {
        ...base,
        apiServed: false,
        recovery: 'survivor',
        restoreFrom: survivor.name,
        dataLoss: `at most the last writes ${survivor.name} had not received (etcd replicates before it acknowledges, so usually none)`,
        downtime: `until etcd is restored on ${survivor.name} with --force-new-cluster and the API answers again (minutes)`,
      };
    }
    return {
      ...base,
      apiServed: false,
      recovery: 'snapshot',
      dataLoss: snapshotLoss,
      downtime: 'until a new control plane is restored from a snapshot (minutes to hours)',
    };
  });

  const warnings: string[] = [];
  if (voters > 1 && voters % 2 === 0)
    warnings.push(
      `${voters} etcd voters: an even count needs ${quorum} for quorum and tolerates ${failuresTolerated(voters)} failure(s), no more than ${voters - 1} would; every write waits for one more vote`,
    );
  if (spares.length > 0 && failuresTolerated(voters) === failuresTolerated(voters - spares.length)) {
    warnings.push(
      `the spare control plane(s) ${spares.map((s) => s.name).join(', ')} add a vote but no tolerance (${failuresTolerated(voters - spares.length)} failure(s) with or without them)`,
    );
  }
  const unzoned = topology.hosts.filter((h) => !h.zone && h.role !== 'worker');
  if (unzoned.length > 0)
    warnings.push(`${unzoned.map((h) => h.name).join(', ')} have no zone: what losing a zone does cannot be told for them (give hosts[].zone)`);
  for (const loss of zones) {
    if (!loss.keepsQuorum && loss.votersLost > 0)
      warnings.push(
        `losing zone ${loss.zone} loses etcd quorum (${loss.votersLeft} of ${voters} voters left, ${quorum} needed): the API stops until ${loss.recovery === 'survivor' ? `etcd is restored on ${loss.restoreFrom}` : 'a snapshot is restored'}`,
      );
  }
  const issuerWarning = topology.linkerdIssuer && linkerdIssuerWarning(topology.linkerdIssuer);
  if (issuerWarning) warnings.push(issuerWarning);
  const zonesWithControlPlanes = new Set(controlPlanes.concat(spares).map(zoneOf)).size;
  return {
    cluster: topology.clusterName,
    voters,
    quorum,
    failuresTolerated: failuresTolerated(voters),
    registeredControlPlanes: controlPlanes.length,
    spares: spares.length,
    workers: topology.hosts.length - voters,
    zones,
    warnings,
    model: availabilityModel(topology, voters, zonesWithControlPlanes, unzoned.length === 0),
    ...(topology.linkerdIssuer ? { linkerdIssuer: topology.linkerdIssuer } : {}),
  };
}
