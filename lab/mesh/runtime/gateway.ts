/**
 * LAB EMULATION of Linkerd's multicluster gateway data plane on east. The gateway Deployment's pods do
 * not run in the lab, so this serves its load balancer address (the ingress the lab gave the
 * `linkerd-gateway` Service, cloudLoadBalancers.ts):
 * - `mc-gateway` (4143): a TCP proxy to the process behind east's exported service (the lab's demo
 *   greeter). Linkerd's gateway reads the destination from the proxied request and forwards to that
 *   service's pods; the lab exports one service, so every connection goes to its process;
 * - `mc-probe` (4191): `GET /ready` answers 200 "ready", as the gateway's proxy admin port does.
 *
 * Both answer only while the gateway Service has a ready endpoint (its pods Ready, as the lab controller
 * reports them): scale the gateway to 0 and connections are reset and the probe fails, as with no
 * gateway pod behind a cloud load balancer.
 */
import http from 'node:http';
import type { KubeClient } from '../../kube/client';
import { startTcpProxy, type TcpProxy } from '../../aws/tcpProxy';
import { GATEWAY_NAME, GATEWAY_PORT_NAME, MULTICLUSTER_NAMESPACE, PROBE_PATH, PROBE_PORT_NAME } from '../cli/names';
import type { LabServiceLoadBalancer } from './cloudLoadBalancers';

/** Where the gateway sends connections. */
export interface GatewayBackend {
  host: string;
  port: number;
}

/** The gateway's listeners on one address. */
export class LabGateway {
  private proxy?: TcpProxy;
  private probe?: http.Server;
  private ready = false;
  /** The address served, once listening. */
  address?: string;

  constructor(
    private readonly backend: GatewayBackend,
    private readonly log: (line: string) => void,
  ) {}

  /** Finds the gateway among east's load balancers, listens on its address, and follows its readiness. */
  async sync(east: KubeClient, loadBalancers: LabServiceLoadBalancer[], addAddress: (ip: string) => Promise<void>): Promise<void> {
    const lb = loadBalancers.find((l) => l.namespace === MULTICLUSTER_NAMESPACE && l.name === GATEWAY_NAME);
    const endpoints = await east.find<{ subsets?: Array<{ addresses?: unknown[] }> }>(`/api/v1/namespaces/${MULTICLUSTER_NAMESPACE}/endpoints/${GATEWAY_NAME}`);
    const ready = (endpoints?.subsets ?? []).some((s) => (s.addresses?.length ?? 0) > 0);
    if (ready !== this.ready) this.log(`gateway: ${ready ? 'a gateway pod is ready' : 'no gateway pod is ready'}`);
    this.ready = ready;
    if (!lb) return;
    if (this.address && this.address !== lb.ip) await this.close();
    if (this.address) return;
    const gatewayPort = lb.ports.find((p) => p.name === GATEWAY_PORT_NAME)?.port;
    const probePort = lb.ports.find((p) => p.name === PROBE_PORT_NAME)?.port;
    if (!gatewayPort || !probePort) return;
    await addAddress(lb.ip);
    this.proxy = await startTcpProxy(lb.ip, gatewayPort, () => (this.ready ? this.backend : undefined));
    this.probe = http.createServer((request, response) => {
      const ok = this.ready && request.url === PROBE_PATH;
      response.writeHead(ok ? 200 : request.url === PROBE_PATH ? 503 : 404, { 'content-type': 'text/plain' });
      response.end(ok ? 'ready\n' : 'not ready\n');
    });
    await new Promise<void>((resolve, reject) => {
      this.probe?.once('error', reject);
      this.probe?.listen(probePort, lb.ip, resolve);
    });
    this.address = lb.ip;
    this.log(`gateway: serving ${lb.ip}:${gatewayPort} → ${this.backend.host}:${this.backend.port}, probe ${lb.ip}:${probePort}${PROBE_PATH}`);
  }

  /** Stops both listeners. */
  async close(): Promise<void> {
    await this.proxy?.close();
    await new Promise<void>((resolve) => (this.probe ? this.probe.close(() => resolve()) : resolve()));
    this.proxy = undefined;
    this.probe = undefined;
    this.address = undefined;
  }
}
