/**
 * The lab's load balancer data plane. It watches moto (load balancers, listeners, target groups,
 * registered targets) and makes it real: an address and TCP proxies per network load balancer,
 * TCP health checks per registered target, draining after deregistration, and the DNS names in the
 * hosts file. It also answers DescribeTargetHealth for the front with its own states.
 */
import type { ElasticLoadBalancingV2Client, LoadBalancer, TargetGroup, TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AddressPool } from './addressPool';
import type { EventLog } from './events';
import { removeHostsBlock, writeHostsBlock, type HostsEntry } from './hostsFile';
import { AddressInUseError, LoadBalancerRuntime } from './loadBalancer';
import {
  deregistrationDelaySeconds,
  findTargetGroup,
  forwardTargetGroupsOf,
  isNotFound,
  listListeners,
  listLoadBalancers,
  listTargetGroups,
  motoElbClient,
  motoTargetHealth,
  regionOfArn,
  targetHealthRowOf,
} from './motoReader';
import { describeTargetHealthAnswer, requestedTargets, type TargetHealthRow, type XmlAnswer } from './queryApi';
import { TargetGroupRuntime } from './targetGroup';
import { settingsOf, type TimeScales } from './targetGroupSettings';
import type { LabLoadBalancerStatus, LabTargetGroupStatus, LabTargetState } from './types';

/** What the data plane is built from. */
export interface DataPlaneOptions {
  motoEndpoint: string;
  regions: readonly string[];
  addressPool: readonly string[];
  hostsFile: string;
  hostsBlockLabel?: string;
  scales: TimeScales;
  events: EventLog;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** The data plane. Every change to its state runs one at a time (polls and the front's calls). */
export class DataPlane {
  private readonly clients = new Map<string, ElasticLoadBalancingV2Client>();
  private readonly regions: Set<string>;
  private readonly targetGroups = new Map<string, TargetGroupRuntime>();
  private readonly loadBalancers = new Map<string, LoadBalancerRuntime>();
  private readonly pool: AddressPool;
  private writtenHosts = '';
  private queue: Promise<unknown> = Promise.resolve();
  private pollTimer?: NodeJS.Timeout;
  private stopped = false;
  private lastError?: string;
  /** The last look at moto. */
  lastSync?: { at: number; error?: string };

  constructor(private readonly options: DataPlaneOptions) {
    this.regions = new Set(options.regions);
    this.pool = new AddressPool(options.addressPool);
  }

  /** Looks at moto now and every `pollIntervalMs` after each look. */
  startPolling(pollIntervalMs: number): void {
    const loop = async () => {
      await this.sync().catch(() => undefined);
      if (!this.stopped) this.pollTimer = setTimeout(() => void loop(), pollIntervalMs);
    };
    void loop();
  }

  /** One full look at moto, applied. Rejects when moto could not be read (also recorded in status and events). */
  sync(): Promise<void> {
    return this.exclusive(async () => {
      if (this.stopped) return;
      try {
        await this.syncAll();
        this.lastSync = { at: Date.now() };
        this.lastError = undefined;
      } catch (err) {
        const message = errorMessage(err);
        this.lastSync = { at: Date.now(), error: message };
        // One event per distinct failure, not one per poll.
        if (message !== this.lastError) this.options.events.push({ kind: 'error', message });
        this.lastError = message;
        throw err;
      }
    });
  }

  /**
   * The front's DescribeTargetHealth: moto's registered targets with the data plane's states (and
   * draining targets moto has already forgotten). Undefined when the data plane does not manage the
   * group (not an `ip` group, or unknown to moto): the front then relays the call to moto.
   */
  describeTargetHealth(params: URLSearchParams): Promise<XmlAnswer | undefined> {
    const arn = params.get('TargetGroupArn');
    if (!arn) return Promise.resolve(undefined);
    return this.exclusive(async () => {
      if (this.stopped) return undefined;
      const client = this.client(regionOfArn(arn) ?? [...this.regions][0] ?? 'us-east-1');
      const tg = await findTargetGroup(client, arn);
      if (!tg || tg.TargetType !== 'ip') return undefined;
      // Look at this group now, so a target registered or deregistered a moment ago shows its new state.
      const runtime = await this.syncTargetGroup(client, tg);
      if (!runtime) return undefined;
      const asked = requestedTargets(params);
      const port = tg.Port ?? 0;
      let rows: TargetHealthRow[];
      if (asked.length === 0) {
        rows = runtime.targetsInOrder().flatMap((t) => runtime.healthRow(t.id, t.port) ?? []);
      } else {
        // moto answers for targets it does not hold too (Target.NotRegistered): those rows pass through.
        const motoRows = await motoTargetHealth(
          client,
          arn,
          asked.map((t) => ({ Id: t.id, Port: t.port })),
        );
        rows = motoRows.map((d) => {
          const row = targetHealthRowOf(d, port);
          return runtime.healthRow(row.id, row.port) ?? row;
        });
      }
      return describeTargetHealthAnswer(rows);
    });
  }

  /** The state of one target and when it entered it, if the data plane holds it. */
  targetState(targetGroupArn: string, id: string, port: number): { state: LabTargetState; since: number } | undefined {
    return this.targetGroups.get(targetGroupArn)?.stateOf(id, port);
  }

  /** Every load balancer with its address, listeners and targets. */
  loadBalancerStatus(): LabLoadBalancerStatus[] {
    return [...this.loadBalancers.values()].map((lb) => ({
      ...lb.status(),
      targets: lb.targetGroupArns().flatMap((arn) => (this.targetGroups.get(arn)?.status().targets ?? []).map((t) => ({ ...t, targetGroupArn: arn }))),
    }));
  }

  /** Every target group the data plane manages. */
  targetGroupStatus(): LabTargetGroupStatus[] {
    return [...this.targetGroups.values()].map((tg) => tg.status());
  }

  /** Stops polling, checks and proxies, and removes the hosts-file block. */
  async stop(): Promise<void> {
    clearTimeout(this.pollTimer);
    await this.exclusive(async () => {
      this.stopped = true;
      clearTimeout(this.pollTimer);
      for (const lb of this.loadBalancers.values()) await lb.close();
      this.loadBalancers.clear();
      for (const tg of this.targetGroups.values()) tg.stop();
      this.targetGroups.clear();
      await removeHostsBlock(this.options.hostsFile, this.options.hostsBlockLabel);
      for (const client of this.clients.values()) client.destroy();
      this.clients.clear();
    });
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private client(region: string): ElasticLoadBalancingV2Client {
    let client = this.clients.get(region);
    if (!client) {
      client = motoElbClient(this.options.motoEndpoint, region);
      this.clients.set(region, client);
      // A region kubeha calls is watched from now on.
      this.regions.add(region);
    }
    return client;
  }

  private async syncAll(): Promise<void> {
    const seenGroups = new Set<string>();
    const seenBalancers = new Set<string>();
    for (const region of [...this.regions]) {
      const client = this.client(region);
      const [balancers, groups] = await Promise.all([listLoadBalancers(client), listTargetGroups(client)]);
      for (const tg of groups) {
        if (tg.TargetType !== 'ip' || !tg.TargetGroupArn) continue;
        seenGroups.add(tg.TargetGroupArn);
        await this.syncTargetGroup(client, tg);
      }
      for (const lb of balancers) {
        if (lb.Type !== 'network' || lb.State?.Code === 'failed' || !lb.LoadBalancerArn) continue;
        seenBalancers.add(lb.LoadBalancerArn);
        await this.syncLoadBalancer(client, lb);
      }
    }
    for (const [arn, tg] of [...this.targetGroups]) {
      if (seenGroups.has(arn)) continue;
      tg.stop();
      this.targetGroups.delete(arn);
    }
    for (const [arn, lb] of [...this.loadBalancers]) {
      if (!seenBalancers.has(arn)) await this.forgetLoadBalancer(lb);
    }
    await this.syncHostsFile();
  }

  private async syncTargetGroup(client: ElasticLoadBalancingV2Client, tg: TargetGroup): Promise<TargetGroupRuntime | undefined> {
    const settings = settingsOf(tg);
    let runtime = this.targetGroups.get(settings.arn);
    if (runtime) runtime.update(settings);
    else {
      runtime = new TargetGroupRuntime(settings, this.options.scales, this.options.events);
      this.targetGroups.set(settings.arn, runtime);
    }
    let rows: TargetHealthDescription[];
    try {
      rows = await motoTargetHealth(client, settings.arn);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // Deleted between the listing and this call.
      runtime.stop();
      this.targetGroups.delete(settings.arn);
      return undefined;
    }
    const registered = rows.map((d) => ({ id: d.Target?.Id ?? '', port: d.Target?.Port ?? settings.port }));
    await runtime.reconcile(registered, () => deregistrationDelaySeconds(client, settings.arn));
    return runtime;
  }

  private async syncLoadBalancer(client: ElasticLoadBalancingV2Client, lb: LoadBalancer): Promise<void> {
    const arn = lb.LoadBalancerArn ?? '';
    let listeners;
    try {
      listeners = await listListeners(client, arn);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    const specs = listeners
      .filter((l) => l.Protocol === 'TCP' && l.Port !== undefined)
      .map((l) => ({ port: l.Port as number, targetGroupArns: forwardTargetGroupsOf(l) }));
    // Another process may hold an address on the listener's port: move on to the next address.
    for (;;) {
      const runtime = this.loadBalancers.get(arn) ?? this.addLoadBalancer(lb);
      if (!runtime) return;
      try {
        await runtime.setListeners(specs);
        return;
      } catch (err) {
        if (!(err instanceof AddressInUseError)) throw err;
        await this.forgetLoadBalancer(runtime);
        this.pool.markTakenElsewhere(runtime.address);
        this.options.events.push({ kind: 'error', message: err.message });
      }
    }
  }

  private addLoadBalancer(lb: LoadBalancer): LoadBalancerRuntime | undefined {
    const arn = lb.LoadBalancerArn ?? '';
    const address = this.pool.allocate(arn);
    if (!address) {
      const message = `no address left in the lab's pool for load balancer "${lb.LoadBalancerName}"`;
      if (message !== this.lastError) this.options.events.push({ kind: 'error', message });
      this.lastError = message;
      return undefined;
    }
    const pickFrom = (tgArn: string) => this.targetGroups.get(tgArn)?.pick();
    const runtime = new LoadBalancerRuntime(arn, lb.LoadBalancerName ?? '', lb.DNSName ?? '', address, pickFrom, this.options.events);
    this.loadBalancers.set(arn, runtime);
    this.options.events.push({ kind: 'load-balancer', loadBalancerArn: arn, name: runtime.name, dnsName: runtime.dnsName, address, change: 'up' });
    return runtime;
  }

  private async forgetLoadBalancer(runtime: LoadBalancerRuntime): Promise<void> {
    await runtime.close();
    this.loadBalancers.delete(runtime.arn);
    this.pool.release(runtime.address);
    this.options.events.push({
      kind: 'load-balancer',
      loadBalancerArn: runtime.arn,
      name: runtime.name,
      dnsName: runtime.dnsName,
      address: runtime.address,
      change: 'down',
    });
  }

  private async syncHostsFile(): Promise<void> {
    const entries: HostsEntry[] = [...this.loadBalancers.values()]
      .filter((lb) => lb.dnsName)
      .sort((a, b) => a.address.localeCompare(b.address, 'en', { numeric: true }))
      .map((lb) => ({ address: lb.address, names: [lb.dnsName] }));
    const key = JSON.stringify(entries);
    if (key === this.writtenHosts) return;
    const changed = await writeHostsBlock(this.options.hostsFile, entries, this.options.hostsBlockLabel);
    this.writtenHosts = key;
    if (changed) this.options.events.push({ kind: 'hosts-file', file: this.options.hostsFile, entries: entries.length });
  }
}
