/**
 * One network load balancer's data plane: its loopback address and a TCP proxy per TCP listener,
 * each forwarding to the targets of the listener's target group(s).
 */
import type { EventLog } from './events';
import { startTcpProxy, type TcpProxy } from './tcpProxy';
import type { LabLoadBalancerStatus } from './types';

/** What the proxy asks for a target: the target group with that ARN picks. */
export type PickFromGroup = (targetGroupArn: string) => { host: string; port: number } | undefined;

/** A TCP listener as moto lists it. */
export interface ListenerSpec {
  port: number;
  targetGroupArns: string[];
}

interface ListenerRuntime extends ListenerSpec {
  proxy?: TcpProxy;
}

/** Thrown when the address is taken on a listener's port by another process. */
export class AddressInUseError extends Error {}

/** The data plane of one load balancer. */
export class LoadBalancerRuntime {
  private readonly listeners = new Map<number, ListenerRuntime>();

  constructor(
    readonly arn: string,
    readonly name: string,
    readonly dnsName: string,
    readonly address: string,
    private readonly pickFrom: PickFromGroup,
    private readonly events: EventLog,
  ) {}

  /**
   * Opens proxies for new listeners, closes those of removed ones, and follows target group
   * changes. Throws {@link AddressInUseError} when another process holds the address on the
   * first port this load balancer opens (the data plane then moves it to another address).
   */
  async setListeners(specs: readonly ListenerSpec[]): Promise<void> {
    const wanted = new Map(specs.map((s) => [s.port, s]));
    for (const [port, listener] of [...this.listeners]) {
      if (wanted.has(port)) continue;
      this.listeners.delete(port);
      if (listener.proxy) await this.closeProxy(listener.proxy);
    }
    for (const spec of specs) {
      let listener = this.listeners.get(spec.port);
      if (!listener) {
        listener = { ...spec };
        this.listeners.set(spec.port, listener);
      }
      listener.targetGroupArns = spec.targetGroupArns;
      if (!listener.proxy) await this.open(listener);
    }
  }

  /** Stops every proxy (the load balancer is gone, or the lab stops). */
  async close(): Promise<void> {
    for (const listener of this.listeners.values()) {
      if (listener.proxy) await this.closeProxy(listener.proxy);
      listener.proxy = undefined;
    }
    this.listeners.clear();
  }

  /** The target group ARNs the listeners forward to. */
  targetGroupArns(): string[] {
    return [...new Set([...this.listeners.values()].flatMap((l) => l.targetGroupArns))];
  }

  /** The load balancer for `lab status` (targets are filled in by the data plane). */
  status(): Omit<LabLoadBalancerStatus, 'targets'> {
    return {
      arn: this.arn,
      name: this.name,
      dnsName: this.dnsName,
      address: this.address,
      listeners: [...this.listeners.values()].map((l) => ({
        port: l.port,
        targetGroupArns: l.targetGroupArns,
        openConnections: l.proxy?.openConnections() ?? 0,
        listening: l.proxy !== undefined,
      })),
    };
  }

  private async open(listener: ListenerRuntime): Promise<void> {
    // The listener's target groups are read on every connection, so a changed forward applies at once.
    const pick = () => {
      for (const arn of listener.targetGroupArns) {
        const target = this.pickFrom(arn);
        if (target) return target;
      }
      return undefined;
    };
    try {
      listener.proxy = await startTcpProxy(this.address, listener.port, pick);
    } catch (err) {
      const nothingOpenYet = [...this.listeners.values()].every((l) => !l.proxy);
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && nothingOpenYet) {
        throw new AddressInUseError(`${this.address}:${listener.port} is taken by another process`);
      }
      throw err;
    }
    this.events.push({ kind: 'listener', loadBalancerArn: this.arn, address: this.address, port: listener.port, change: 'up' });
  }

  private async closeProxy(proxy: TcpProxy): Promise<void> {
    await proxy.close();
    this.events.push({ kind: 'listener', loadBalancerArn: this.arn, address: this.address, port: proxy.port, change: 'down' });
  }
}
