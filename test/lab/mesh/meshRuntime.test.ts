/**
 * The lab's mesh runtime (lab/mesh/runtime) against two real kube-apiservers: east's gateway Service
 * gets a load balancer address of east's VPC, the machine reaches it on lo, the gateway forwards to
 * the backend process only while a gateway pod is ready (the probe says so too), the address survives
 * a restart of the runtime, and stopping it removes its listeners and the address.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { poolAddress } from '../../../lab/mesh/runtime/cloudLoadBalancers';
import { startLabMeshRuntime, type LabMeshRuntime } from '../../../lab/mesh/runtime';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver';

const run = promisify(execFile);
const MC = 'linkerd-multicluster';
const EAST_VPC = '10.77.0.0/16';
const WEST_VPC = '10.76.0.0/16';
const GATEWAY_IP = poolAddress(EAST_VPC, 0);

let west: TestApiServer;
let east: TestApiServer;
let backend: http.Server;
let runtime: LabMeshRuntime | undefined;

async function must<T = unknown>(api: TestApiServer, method: string, apiPath: string, body?: unknown, contentType?: string): Promise<T> {
  const res = await api.request<T>(method, apiPath, body, contentType);
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${apiPath}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const onLo = async (ip: string) => (await run('ip', ['-o', 'addr', 'show', 'dev', 'lo'])).stdout.includes(` ${ip}/32 `);
/** One GET on a connection of its own (no keep-alive: a pooled connection would outlive a restart). */
const get = (url: string) =>
  new Promise<{ status: number; text: string }>((resolve) => {
    const request = http.get(url, { agent: false, timeout: 3000 }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: text.trim() }));
      response.on('error', (err) => resolve({ status: 0, text: err.message }));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', (err) => resolve({ status: 0, text: err.message }));
  });
const start = (backendPort: number) =>
  startLabMeshRuntime({
    west: { kubeconfig: west.kubeconfig, vpcCidr: WEST_VPC },
    east: { kubeconfig: east.kubeconfig, vpcCidr: EAST_VPC },
    gatewayBackend: { host: '127.0.0.1', port: backendPort },
    intervalMs: 200,
  });

describe('lab mesh runtime: service load balancers and east gateway', { timeout: 240_000 }, () => {
  before(async () => {
    [west, east] = await Promise.all([startTestApiServer(), startTestApiServer()]);
    backend = http.createServer((_q, r) => r.end('greetings from east\n'));
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    await must(east, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: MC } });
    await must(east, 'POST', `/api/v1/namespaces/${MC}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'linkerd-gateway', namespace: MC },
      spec: {
        type: 'LoadBalancer',
        selector: { app: 'linkerd-gateway' },
        ports: [
          { name: 'mc-gateway', port: 4143 },
          { name: 'mc-probe', port: 4191 },
        ],
      },
    });
  });
  after(async () => {
    await runtime?.stop();
    backend?.close();
    await Promise.all([west?.stop(), east?.stop()]);
  });

  test('the gateway gets an address of east VPC, reachable here, which refuses traffic while no gateway pod is ready', async () => {
    runtime = start((backend.address() as AddressInfo).port);
    assert.deepEqual(await runtime.nextPass(), []);
    await runtime.nextPass();
    const svc = await must<{ status: { loadBalancer: { ingress: Array<{ ip: string }> } } }>(east, 'GET', `/api/v1/namespaces/${MC}/services/linkerd-gateway`);
    assert.deepEqual(
      svc.status.loadBalancer.ingress.map((i) => i.ip),
      [GATEWAY_IP],
    );
    assert.ok(await onLo(GATEWAY_IP), `${GATEWAY_IP} is on lo`);
    assert.deepEqual(runtime.addresses(), [GATEWAY_IP]);
    assert.equal((await get(`http://${GATEWAY_IP}:4143/`)).status, 0, 'no gateway pod: the connection is reset');
    assert.equal((await get(`http://${GATEWAY_IP}:4191/ready`)).status, 503);
  });

  test('with a ready gateway pod, a request to the gateway reaches the backend and the probe answers ready', async () => {
    await must(east, 'POST', `/api/v1/namespaces/${MC}/endpoints`, {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'linkerd-gateway', namespace: MC },
      subsets: [{ addresses: [{ ip: '10.244.3.4' }], ports: [{ name: 'mc-gateway', port: 4143 }] }],
    });
    await runtime!.nextPass();
    assert.deepEqual(await get(`http://${GATEWAY_IP}:4143/`), { status: 200, text: 'greetings from east' });
    assert.deepEqual(await get(`http://${GATEWAY_IP}:4191/ready`), { status: 200, text: 'ready' });
  });

  test('a second LoadBalancer Service gets the next address; a restarted runtime keeps both; stop removes listeners and addresses', async () => {
    await must(east, 'POST', `/api/v1/namespaces/${MC}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'other', namespace: MC },
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
    });
    await runtime!.nextPass();
    const other = await must<{ status: { loadBalancer: { ingress: Array<{ ip: string }> } } }>(east, 'GET', `/api/v1/namespaces/${MC}/services/other`);
    assert.deepEqual(
      other.status.loadBalancer.ingress.map((i) => i.ip),
      [poolAddress(EAST_VPC, 1)],
    );

    await runtime!.stop();
    assert.equal(await onLo(GATEWAY_IP), false, 'the address left lo');
    // Off lo the address leaves the machine (the network may answer for it): the backend no longer does.
    assert.notEqual((await get(`http://${GATEWAY_IP}:4143/`)).text, 'greetings from east');

    runtime = start((backend.address() as AddressInfo).port);
    await runtime.nextPass();
    await runtime.nextPass();
    const svc = await must<{ status: { loadBalancer: { ingress: Array<{ ip: string }> } } }>(east, 'GET', `/api/v1/namespaces/${MC}/services/linkerd-gateway`);
    assert.deepEqual(
      svc.status.loadBalancer.ingress.map((i) => i.ip),
      [GATEWAY_IP],
      'the gateway keeps its address',
    );
    assert.deepEqual(await get(`http://${GATEWAY_IP}:4143/`), { status: 200, text: 'greetings from east' });
    await runtime.stop();
    runtime = undefined;
    assert.equal(await onLo(GATEWAY_IP), false);
  });
});
