/**
 * The lab's load balancer data plane, driven by kubeha's real AWS activities through the lab's
 * front: the NLB gets an address and a listener, real TCP backends go through the health states
 * at the target group's thresholds, and the proxy forwards, balances, drains and fails open.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server as HttpsServer } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import {
  CreateListenerCommand,
  CreateTargetGroupCommand,
  DescribeTargetGroupsCommand,
  ModifyTargetGroupCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateLoadBalancerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createKubernetesActivities } from '../../../activities/kubernetes';
import { KubeClient } from '../../../activities/kubernetes/client';
import { parseKubeconfig } from '../../../activities/kubernetes/kubeconfig';
import { FileSecretStore } from '../../../activities/secrets/store';
import type { LoadBalancerInfo, TargetRef } from '../../../activities/types';
import { lbInput } from '../../aws/helpers';
import { addressInHostsFile, firstLine, HOSTS_PREAMBLE, startBackend, startTestLab, type Backend, type TestLab, useTcpHealthChecks } from './helpers';
import { startReadyzServer, tcpConnects, tcpHealthCheckParams } from './readyzServer';

// Health check as kubeha's input gives it; the lab runs it 50 times faster (5 s -> 100 ms).
const HEALTH_CHECK = { intervalSeconds: 5, timeoutSeconds: 2, healthyThreshold: 3, unhealthyThreshold: 2 };
const SCALE = 0.02;
const INTERVAL_MS = HEALTH_CHECK.intervalSeconds * 1000 * SCALE;
// moto's default deregistration delay (300 s), scaled to 600 ms.
const DEREGISTRATION_SCALE = 0.002;
const DRAIN_MS = 300 * 1000 * DEREGISTRATION_SCALE;
// What a loaded machine may add to a timer-driven transition.
const SLACK_MS = 1500;

describe('lab AWS data plane (moto + front + proxy)', () => {
  let t: TestLab;
  let lb: LoadBalancerInfo;
  let address: string;
  const backends: Backend[] = [];

  const ref = (b: Backend, targetGroupArn = lb.targetGroupArn): TargetRef => ({ aws: t.settings, targetGroupArn, ip: b.host, port: b.port });
  const key = (b: Backend, targetGroupArn = lb.targetGroupArn) => ({ targetGroupArn, id: b.host, port: b.port });
  const backend = async (name: string, host: string) => {
    const b = await startBackend(name, host);
    backends.push(b);
    return b;
  };
  const healthOf = async (b: Backend, targetGroupArn = lb.targetGroupArn) =>
    (await t.aws.describeTargetHealth({ aws: t.settings, targetGroupArn })).find((r) => r.ip === b.host && r.port === b.port);
  const greetings = async (n: number, host = address) => {
    const seen: string[] = [];
    for (let i = 0; i < n; i++) seen.push(await firstLine(host, 6443));
    return seen;
  };
  const transition = (b: Backend, to: string) => t.lab.events().find((e) => e.kind === 'target' && e.id === b.host && e.port === b.port && e.to === to);

  before(async () => {
    t = await startTestLab(91, { healthCheckIntervalScale: SCALE, deregistrationDelayScale: DEREGISTRATION_SCALE });
    lb = await t.aws.ensureLoadBalancer(lbInput(t.settings, { targetGroup: { healthCheck: HEALTH_CHECK } }));
    // kubeha's API target group checks HTTPS /readyz (its own test below); the byte-level tests here use TCP backends.
    await useTcpHealthChecks(t, lb.targetGroupArn);
    address = t.lab.status().loadBalancers.find((l) => l.arn === lb.loadBalancerArn)?.address ?? '';
  });
  after(async () => {
    for (const b of backends) await b.close();
    await t?.cleanup();
  });

  test('ensureLoadBalancer through the front: the NLB gets a pool address, a TCP 6443 listener and a hosts entry; with no target it refuses', async () => {
    assert.deepEqual(lb.created, { loadBalancer: true, targetGroup: true, listener: true });
    const status = t.lab.status().loadBalancers.find((l) => l.arn === lb.loadBalancerArn);
    assert.ok(status, 'the data plane knows the load balancer');
    assert.ok(t.pool.includes(status.address), `${status.address} comes from the pool`);
    assert.deepEqual(status.listeners, [{ port: 6443, targetGroupArns: [lb.targetGroupArn], openConnections: 0, listening: true }]);
    assert.equal(await addressInHostsFile(t.hostsFile, lb.dnsName), status.address);
    const hosts = await readFile(t.hostsFile, 'utf8');
    assert.ok(hosts.startsWith(HOSTS_PREAMBLE), 'the lines before the block are untouched');
    assert.match(hosts, new RegExp(`# kubeha-lab begin\\n${status.address.replace(/\./g, '\\.')} ${lb.dnsName}\\n# kubeha-lab end\\n$`));
    assert.equal(await firstLine(status.address, 6443), 'ECONNRESET', 'no registered target: the connection is refused');
  });

  test('a target backed by a real listener goes initial -> healthy after the healthy threshold; waitTargetHealthy returns', async (ctx) => {
    const a = await backend('a', '127.0.91.101');
    assert.deepEqual(await t.aws.registerTarget(ref(a)), { registered: true });
    const right = await healthOf(a);
    assert.deepEqual(right, {
      ip: a.host,
      port: a.port,
      state: 'initial',
      reason: 'Elb.InitialHealthChecking',
      description: 'Initial health checks in progress',
    });
    const waited = await t.aws.waitTargetHealthy({ ...ref(a), deadlineSeconds: 30, pollSeconds: 1 });
    assert.equal(waited.state, 'healthy');
    assert.deepEqual(await healthOf(a), { ip: a.host, port: a.port, state: 'healthy' });

    const initial = transition(a, 'initial');
    const healthy = transition(a, 'healthy');
    assert.ok(initial && healthy && initial.kind === 'target' && healthy.kind === 'target');
    assert.equal(healthy.from, 'initial');
    // The first check runs on registration, so the threshold's last pass comes (H - 1) intervals later.
    const took = healthy.at - initial.at;
    const expected = (HEALTH_CHECK.healthyThreshold - 1) * INTERVAL_MS;
    ctx.diagnostic(`initial -> healthy: ${took} ms (healthy threshold ${HEALTH_CHECK.healthyThreshold} x interval ${INTERVAL_MS} ms: expected ${expected} ms)`);
    assert.ok(took >= expected - 5 && took <= expected + SLACK_MS, `initial -> healthy took ${took} ms, expected about ${expected} ms`);
  });

  test('the NLB name, resolved through the hosts-file mapping, forwards bytes both ways to the target', async () => {
    const resolved = await addressInHostsFile(t.hostsFile, lb.dnsName);
    assert.equal(resolved, address);
    const socket = connect({ host: resolved, port: 6443 });
    await once(socket, 'connect');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.write('ping through the lab NLB\n');
    const deadline = Date.now() + 3000;
    while (!received.includes('ping through the lab NLB') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    socket.destroy();
    assert.equal(received, 'a\nping through the lab NLB\n');
  });

  test('two healthy targets share new connections round robin', async () => {
    const b = await backend('b', '127.0.91.102');
    await t.aws.registerTarget(ref(b));
    await t.lab.waitForTargetState(key(b), 'healthy', 10_000);
    const seen = await greetings(6);
    assert.deepEqual(seen.filter((s) => s === 'a').length, 3, seen.join(','));
    assert.deepEqual(seen.filter((s) => s === 'b').length, 3, seen.join(','));
  });

  test('deregister -> draining: no new connections, open ones keep working; gone after the deregistration delay', async (ctx) => {
    const b = backends.find((x) => x.name === 'b') as Backend;
    // A connection to b opened before the deregistration (round robin: try until b answers).
    let open: ReturnType<typeof connect> | undefined;
    for (let i = 0; i < 4 && !open; i++) {
      const s = connect({ host: address, port: 6443 });
      const [line] = (await once(s, 'data')) as [Buffer];
      if (line.toString() === 'b\n') open = s;
      else s.destroy();
    }
    assert.ok(open, 'a connection reached b');

    assert.deepEqual(await t.aws.deregisterTarget(ref(b)), { deregistered: true });
    assert.deepEqual(await healthOf(b), {
      ip: b.host,
      port: b.port,
      state: 'draining',
      reason: 'Target.DeregistrationInProgress',
      description: 'Target deregistration is in progress',
    });
    assert.deepEqual(await greetings(4), ['a', 'a', 'a', 'a'], 'a draining target takes no new connection');
    open.write('still there\n');
    const [echo] = (await once(open, 'data')) as [Buffer];
    assert.equal(echo.toString(), 'still there\n', 'an open connection keeps working while the target drains');
    open.destroy();

    const goneAt = await t.lab.waitForTargetState(key(b), 'gone', DRAIN_MS + 5000);
    const drained = transition(b, 'draining');
    assert.ok(drained);
    const took = goneAt - drained.at;
    ctx.diagnostic(`draining -> gone: ${took} ms (deregistration delay 300 s x ${DEREGISTRATION_SCALE} = ${DRAIN_MS} ms)`);
    assert.ok(took >= DRAIN_MS - 5 && took <= DRAIN_MS + SLACK_MS, `draining lasted ${took} ms, expected ${DRAIN_MS} ms`);
    assert.equal(await healthOf(b), undefined, 'a drained target is no longer listed');
    assert.deepEqual(await t.aws.deregisterTarget(ref(b)), { deregistered: false });
  });

  test('a backend that stops turns unhealthy after the unhealthy threshold, and gets no more connections', async (ctx) => {
    const c = await backend('c', '127.0.91.103');
    await t.aws.registerTarget(ref(c));
    await t.lab.waitForTargetState(key(c), 'healthy', 10_000);
    const stoppedAt = Date.now();
    await c.close();
    const unhealthyAt = await t.lab.waitForTargetState(key(c), 'unhealthy', 10_000);
    const took = unhealthyAt - stoppedAt;
    // The first failing check comes within one interval, then U - 1 more intervals.
    const low = (HEALTH_CHECK.unhealthyThreshold - 1) * INTERVAL_MS;
    const high = HEALTH_CHECK.unhealthyThreshold * INTERVAL_MS;
    ctx.diagnostic(
      `backend stopped -> unhealthy: ${took} ms (unhealthy threshold ${HEALTH_CHECK.unhealthyThreshold} x interval ${INTERVAL_MS} ms: expected ${low}-${high} ms)`,
    );
    assert.ok(took >= low - 5 && took <= high + SLACK_MS, `unhealthy after ${took} ms, expected ${low}-${high} ms`);
    assert.deepEqual(await healthOf(c), {
      ip: c.host,
      port: c.port,
      state: 'unhealthy',
      reason: 'Target.FailedHealthChecks',
      description: 'Health checks failed',
    });
    assert.deepEqual(await greetings(4), ['a', 'a', 'a', 'a']);
  });

  test('with every target unhealthy the NLB fails open: connections still reach the targets', async () => {
    const a = backends.find((x) => x.name === 'a') as Backend;
    const c = backends.find((x) => x.name === 'c') as Backend;
    // Health checks on a port nobody listens on fail for a, while its traffic port still works.
    const dead = await startBackend('dead', '127.0.91.109');
    await dead.close();
    await t.clients.elbv2.send(new ModifyTargetGroupCommand({ TargetGroupArn: lb.targetGroupArn, HealthCheckPort: String(dead.port) }));
    await t.lab.sync();
    await t.lab.waitForTargetState(key(a), 'unhealthy', 10_000);
    const rows = await t.aws.describeTargetHealth({ aws: t.settings, targetGroupArn: lb.targetGroupArn });
    assert.deepEqual(
      rows.map((r) => r.state),
      ['unhealthy', 'unhealthy'],
    );
    // Round robin over both unhealthy targets: a answers, c (really down) resets.
    const seen = await greetings(4);
    assert.deepEqual([...seen].sort(), ['ECONNRESET', 'ECONNRESET', 'a', 'a'], seen.join(','));

    await t.clients.elbv2.send(new ModifyTargetGroupCommand({ TargetGroupArn: lb.targetGroupArn, HealthCheckPort: 'traffic-port' }));
    await t.lab.sync();
    await t.lab.waitForTargetState(key(a), 'healthy', 10_000);
    assert.deepEqual(await greetings(2), ['a', 'a'], 'healthy again: only a');
    await t.aws.deregisterTarget(ref(c));
  });

  test('a target group no listener uses reports unused (Target.NotInUse); attached to a second NLB it is checked and served', async () => {
    const { elbv2 } = t.clients;
    const vpcId = (await elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [lb.targetGroupArn] }))).TargetGroups?.[0]?.VpcId;
    const tg = (
      await elbv2.send(
        new CreateTargetGroupCommand({ Name: 'spare-api', Protocol: 'TCP', Port: 6443, TargetType: 'ip', VpcId: vpcId, ...tcpHealthCheckParams(HEALTH_CHECK) }),
      )
    ).TargetGroups?.[0];
    const tgArn = tg?.TargetGroupArn ?? '';
    const d = await backend('d', '127.0.91.104');
    assert.deepEqual(await t.aws.registerTarget(ref(d, tgArn)), { registered: true });
    assert.deepEqual(await healthOf(d, tgArn), {
      ip: d.host,
      port: d.port,
      state: 'unused',
      reason: 'Target.NotInUse',
      description: 'Target group is not configured to receive traffic from the load balancer',
    });

    const second = (await elbv2.send(new CreateLoadBalancerCommand({ Name: 'kh-spare', Type: 'network', Scheme: 'internal', Subnets: t.settings.subnetIds })))
      .LoadBalancers?.[0];
    await elbv2.send(
      new CreateListenerCommand({
        LoadBalancerArn: second?.LoadBalancerArn,
        Protocol: 'TCP',
        Port: 6443,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: tgArn }],
      }),
    );
    await t.lab.sync();
    await t.lab.waitForTargetState(key(d, tgArn), 'healthy', 10_000);
    const events = t.lab
      .events()
      .filter((e) => e.kind === 'target' && e.id === d.host)
      .map((e) => (e.kind === 'target' ? `${e.from}->${e.to}` : ''));
    assert.deepEqual(events, ['none->unused', 'unused->initial', 'initial->healthy']);

    const secondAddress = await addressInHostsFile(t.hostsFile, second?.DNSName ?? '');
    assert.ok(secondAddress && t.pool.includes(secondAddress) && secondAddress !== address, `second NLB at ${secondAddress}, first at ${address}`);
    assert.deepEqual(await greetings(2, secondAddress), ['d', 'd']);
    assert.deepEqual(await greetings(2), ['a', 'a'], 'the first NLB still forwards to its own group');
  });
});

describe('lab AWS data plane: HTTPS /readyz health checks, as kubeha configures them', () => {
  let t: TestLab;
  let lb: LoadBalancerInfo;
  let dir: string;
  let status = 200;
  let server: HttpsServer;

  before(async () => {
    t = await startTestLab(96, { healthCheckIntervalScale: SCALE, deregistrationDelayScale: DEREGISTRATION_SCALE });
    lb = await t.aws.ensureLoadBalancer(lbInput(t.settings, { targetGroup: { healthCheck: HEALTH_CHECK } }));
    await t.lab.sync();
    dir = await mkdtemp(path.join(tmpdir(), 'kubeha-readyz-'));
    server = await startReadyzServer(dir, '127.0.96.101', () => status);
  });
  after(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await t?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  test('a server whose /readyz answers 500 leaves the load balancer though its port still accepts connections, and comes back at 200', async () => {
    const port = (server.address() as { port: number }).port;
    const target: TargetRef = { aws: t.settings, targetGroupArn: lb.targetGroupArn, ip: '127.0.96.101', port };
    const key = { targetGroupArn: lb.targetGroupArn, id: target.ip, port };
    await t.aws.registerTarget(target);
    await t.lab.waitForTargetState(key, 'healthy', 10_000);
    status = 500;
    await t.lab.waitForTargetState(key, 'unhealthy', 10_000);
    assert.equal(await tcpConnects(target.ip, port), true, 'TCP still connects: a TCP check would have kept it');
    status = 200;
    await t.lab.waitForTargetState(key, 'healthy', 10_000);
    const states = t.lab
      .events()
      .filter((e) => e.kind === 'target' && e.id === target.ip)
      .map((e) => (e.kind === 'target' ? e.to : ''));
    assert.deepEqual(states, ['initial', 'healthy', 'unhealthy', 'healthy']);
  });
  test('a kept-alive connection stays with the server it reached after that server leaves the group; kubeha probes on a fresh one', async () => {
    // The first server is registered and healthy (the test above); its clients keep their connections.
    const port = (server.address() as { port: number }).port;
    const first = { aws: t.settings, targetGroupArn: lb.targetGroupArn, ip: '127.0.96.101', port };
    await t.lab.waitForTargetState({ targetGroupArn: lb.targetGroupArn, id: first.ip, port }, 'healthy', 10_000);
    server.keepAliveTimeout = 60_000;
    const address = t.lab.status().loadBalancers.find((l) => l.arn === lb.loadBalancerArn)?.address ?? '';
    const kubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: nlb, cluster: {server: "https://${address}:6443", insecure-skip-tls-verify: true}}]`,
      'users: [{name: probe, user: {token: not-checked}}]',
      'contexts: [{name: nlb, context: {cluster: nlb, user: probe}}]',
      'current-context: nlb',
    ].join('\n');
    const secrets = new FileSecretStore(path.join(dir, 'secrets'));
    await secrets.put('clusters/nlb/admin-kubeconfig', kubeconfig);
    const kube = createKubernetesActivities({ secrets, pollIntervalMs: 100, requestTimeoutMs: 5000, crdTimeoutMs: 1000 });
    const keptAliveTarget = parseKubeconfig(kubeconfig);
    const keptAlive = new KubeClient(keptAliveTarget, { requestTimeoutMs: 5000 });
    assert.equal((await keptAlive.request('GET', '/readyz')).status, 200);
    assert.equal((await kube.apiReady({ kubeconfigSecret: 'clusters/nlb/admin-kubeconfig' })).ok, true);

    // The first server loses its etcd and leaves the group (as RecoverControlPlane fences a lost member);
    // a second one, serving, takes its place.
    await mkdir(path.join(dir, 'second'));
    const second = await startReadyzServer(path.join(dir, 'second'), '127.0.96.102', () => 200);
    try {
      const secondRef = { aws: t.settings, targetGroupArn: lb.targetGroupArn, ip: '127.0.96.102', port: (second.address() as { port: number }).port };
      status = 500;
      await t.aws.deregisterTarget(first);
      await t.aws.registerTarget(secondRef);
      await t.lab.waitForTargetState({ targetGroupArn: lb.targetGroupArn, id: secondRef.ip, port: secondRef.port }, 'healthy', 10_000);

      const pinned = await keptAlive.request('GET', '/readyz');
      assert.equal(pinned.status, 500, 'the NLB keeps a connection with the target it first reached, as AWS does by default');
      const ready = await kube.apiReady({ kubeconfigSecret: 'clusters/nlb/admin-kubeconfig' });
      assert.equal(ready.ok, true, `apiReady asks on a fresh connection, so the registered server answers: ${ready.status} ${ready.body}`);
    } finally {
      status = 200;
      const closed = new Promise<void>((resolve) => second.close(() => resolve()));
      second.closeAllConnections();
      await closed;
      keptAliveTarget.agent.destroy();
    }
  });
});
