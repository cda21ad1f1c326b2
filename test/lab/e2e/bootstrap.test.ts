/**
 * The lab end to end: `lab up` (west), a real Temporal dev server and kubeha's REAL worker and
 * activities run BootstrapStackedEtcd with the input the lab wrote, and the result is checked from
 * the lab's own records: etcd's member list (real etcdctl), the load balancer's data plane, the API
 * through the NLB's DNS name, every Node Ready, exactly one `kubeadm init`. A second run changes
 * nothing. `lab down` then leaves no process, no /etc/hosts block and no state behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createActivities } from '../../../activities';
import { FileSecretStore } from '../../../activities/secrets/store';
import { createSshShell, FileKnownHostsStore } from '../../../activities/ssh';
import type { RemoteShell } from '../../../activities/ssh/types';
import type { BootstrapStackedEtcdInput } from '../../../common/inputs/bootstrapStackedEtcd';
import type { Progress } from '../../../common/progress';
import type { LabAwsStatus } from '../../../lab/aws';
import { KubeClient } from '../../../lab/kube/client';
import { parseKubeconfig } from '../../../lab/kube/kubeconfig';
import { defaultTopologyInput, labFault, labStatus as readLabStatus, parseTopology, type LabUpResult } from '../../../lab/orchestrator';
import { kubehaDataConverter } from '../../../lib/codec/dataConverter';
import { createWorker } from '../../../worker';
import { startTestTemporal } from '../../support/temporal';
import { assertLabDownLeavesNothing, etcdMembers, kubeadmRuns, startTestLab, type TestLab } from './support';
import { restoreFromSnapshot } from './snapshotRestore';
import { recoverFromZoneLoss, refusedWhileQuorumHolds } from './zoneLoss';

const TASK_QUEUE = 'kubeha-lab-e2e';

/** West only, on addresses of its own so a developer's lab (127.0.10.1-6) can run beside it. */
function e2eTopology() {
  const west = defaultTopologyInput().clusters[0];
  return parseTopology({
    clusters: [{ ...west, hosts: west.hosts.map((h, i) => ({ ...h, address: `127.0.10.${101 + i}` })) }],
    loadBalancerAddressPrefix: '127.0.97',
    hostsBlockLabel: `e2e-${process.pid}`,
  });
}

async function labStatus(endpoint: string): Promise<LabAwsStatus> {
  const response = await fetch(`${endpoint}/kubeha-lab/status`);
  assert.equal(response.status, 200);
  return (await response.json()) as LabAwsStatus;
}

describe('BootstrapStackedEtcd on the lab, end to end', { timeout: 30 * 60_000 }, () => {
  let testLab: TestLab | undefined;
  let dataDir: string;
  let lab: LabUpResult;
  let env: TestWorkflowEnvironment;
  /** A client with the worker's data converter (payloads are encrypted). */
  let client: Client;
  let worker: Worker;
  let running: Promise<void>;
  let shell: RemoteShell;
  let input: BootstrapStackedEtcdInput;
  const timings: Record<string, number> = {};
  let kubeconfigSecret: string | undefined;

  before(async () => {
    testLab = await startTestLab('e2e', e2eTopology());
    ({ dataDir, lab } = testLab);
    timings.labUpMs = testLab.upMs;
    input = { ...(JSON.parse(readFileSync(lab.state.inputs.west, 'utf8')) as BootstrapStackedEtcdInput), onFailure: 'fail' };
    env = await startTestTemporal();
    shell = createSshShell({ knownHosts: new FileKnownHostsStore(path.join(dataDir, 'known_hosts.json')) });
    worker = await createWorker({
      connection: env.nativeConnection,
      settings: { address: '', namespace: env.namespace ?? 'default', taskQueue: TASK_QUEUE, uiUrl: '' },
      activities: createActivities({ secrets: new FileSecretStore(path.join(dataDir, 'secrets')), shell }),
      overrides: { shutdownGraceTime: '1 second' },
    });
    running = worker.run();
    client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', dataConverter: kubehaDataConverter().dataConverter });
  });

  after(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await shell?.close();
    await env?.teardown();
    await testLab?.close();
    process.stdout.write(`# lab e2e timings: ${JSON.stringify(timings)}\n`);
  });

  async function bootstrap(
    workflowId: string,
  ): Promise<{ progress: Progress; result: { etcd: { members: number }; kubeconfigSecret?: string; controlPlaneEndpoint: string } }> {
    const handle = await client.workflow.start('BootstrapStackedEtcd', { taskQueue: TASK_QUEUE, workflowId, args: [input] });
    const result = await handle.result().catch((err: unknown) => {
      // The failure chain names the step and the host: show it whole.
      if (err instanceof WorkflowFailedError) throw new Error(`${err.message}: ${JSON.stringify(err.cause, null, 1)}`);
      throw err;
    });
    const progress = await handle.query<Progress>('progress');
    return { progress, result };
  }

  const cps = () => lab.state.hosts.filter((h) => h.role === 'control-plane');
  const spare = () => lab.state.hosts.find((h) => h.role === 'spare-control-plane')!;

  test('the first run bootstraps the west cluster', async () => {
    const started = Date.now();
    const { progress, result } = await bootstrap('e2e-bootstrap-1');
    timings.bootstrapMs = Date.now() - started;
    assert.equal(progress.phase, 'succeeded');
    assert.equal(result.etcd.members, 4);
    kubeconfigSecret = result.kubeconfigSecret;
    for (const s of progress.steps) timings[`step:${s.step}`] = s.startedAt && s.finishedAt ? Date.parse(s.finishedAt) - Date.parse(s.startedAt) : -1;
  });

  test('etcd has 4 voting members: 3 control planes and the spare (real etcdctl against a host address)', async () => {
    const members = await etcdMembers(lab.paths.labDir, cps()[1]);
    assert.deepEqual(members.map((m) => m.name).sort(), [...cps(), spare()].map((h) => h.name).sort());
    assert.ok(
      members.every((m) => !m.isLearner),
      `learners left: ${JSON.stringify(members)}`,
    );
  });

  test('the load balancer has exactly the 3 control planes as healthy targets, never the spare', async () => {
    const status = await labStatus(lab.state.aws!.endpoint);
    assert.equal(status.loadBalancers.length, 1);
    const targets = status.loadBalancers[0].targets;
    assert.deepEqual(
      targets.map((t) => `${t.id}:${t.state}`).sort(),
      cps()
        .map((h) => `${h.address}:healthy`)
        .sort(),
    );
    assert.ok(!targets.some((t) => t.id === spare().address));
  });

  test("the API answers /readyz through the NLB's DNS name, and every host's Node is Ready", async () => {
    const status = await labStatus(lab.state.aws!.endpoint);
    const dnsName = status.loadBalancers[0].dnsName;
    assert.match(readFileSync('/etc/hosts', 'utf8'), new RegExp(`${status.loadBalancers[0].address.replace(/\./g, '\\.')}\\s+${dnsName}`));
    const store = new FileSecretStore(path.join(dataDir, 'secrets'));
    assert.ok(kubeconfigSecret, 'the run named the admin kubeconfig secret');
    const kubeconfig = parseKubeconfig(await store.get(kubeconfigSecret));
    assert.equal(new URL(kubeconfig.server).hostname, dnsName);
    const client = new KubeClient(kubeconfig);
    const ready = await client.request('GET', '/readyz');
    assert.equal(ready.status, 200);
    const nodes = await client.request('GET', '/api/v1/nodes');
    const items = (nodes.body as { items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[] }).items;
    for (const host of lab.state.hosts) {
      const node = items.find((n) => n.metadata.name === host.name);
      assert.ok(node, `node ${host.name} exists`);
      assert.equal(node.status.conditions.find((c) => c.type === 'Ready')?.status, 'True', `node ${host.name} is Ready`);
    }
  });

  test('kubeadm init ran exactly once, on the primary; every other host joined once', () => {
    const [primary] = cps();
    assert.equal(kubeadmRuns(lab.paths.labDir, primary.name, 'init'), 1);
    for (const host of lab.state.hosts.filter((h) => h !== primary)) {
      assert.equal(kubeadmRuns(lab.paths.labDir, host.name, 'init'), 0, `${host.name} never ran kubeadm init`);
      assert.equal(kubeadmRuns(lab.paths.labDir, host.name, 'join'), 1, `${host.name} joined once`);
    }
  });

  test('lab status reports the running cluster, and lab faults act on it (the kubelet restarts a killed etcd)', async () => {
    const status = await readLabStatus(dataDir);
    assert.equal(status.up, true);
    for (const h of status.hosts) {
      const member = h.role !== 'worker';
      assert.equal(h.etcd, member ? 'ok' : '-', `${h.name} etcd`);
      assert.equal(h.apiserver, member ? 'ok' : 'ECONNREFUSED', `${h.name} apiserver`);
      assert.ok(h.processes.kubelet >= 1, `${h.name} runs a kubelet`);
      if (member) assert.equal(h.processes.etcd, 1, `${h.name} runs etcd`);
    }
    const aws = status.aws as LabAwsStatus;
    assert.equal(aws.loadBalancers[0].targets.filter((t) => t.state === 'healthy').length, 3);
    // The Route 53 data plane answers on the prefix's last address; with no hosted zone it refuses every name.
    assert.deepEqual(aws.dns && { address: aws.dns.address, port: aws.dns.port }, { address: '127.0.97.254', port: 53 });
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`${aws.dns!.address}:53`]);
    await assert.rejects(resolver.resolve4('podinfo.example.com'), (err: NodeJS.ErrnoException) => err.code === 'EREFUSED');

    const victim = cps()[2];
    assert.match(await labFault('kill-etcd', [victim.name], dataDir), /killed etcd/);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const again = (await readLabStatus(dataDir)).hosts.find((h) => h.name === victim.name)!;
      if (again.etcd === 'ok' && again.processes.etcd === 1) break;
      assert.ok(Date.now() < deadline, `etcd on ${victim.name} did not come back: ${JSON.stringify(again)}`);
      await new Promise((r) => setTimeout(r, 500));
    }

    await labFault('aws-throttle', ['2'], dataDir);
    assert.deepEqual(((await readLabStatus(dataDir)).aws as LabAwsStatus).faults, [{ kind: 'throttle', remaining: 2 }]);
    await labFault('aws-clear', [], dataDir);
    assert.deepEqual(((await readLabStatus(dataDir)).aws as LabAwsStatus).faults, []);

    const worker1 = lab.state.hosts.find((h) => h.role === 'worker')!;
    await labFault('ssh-drop', [worker1.name], dataDir);
    assert.equal((await readLabStatus(dataDir)).hosts.find((h) => h.name === worker1.name)!.sshd, false);
    await labFault('ssh-restore', [worker1.name], dataDir);
    assert.equal((await readLabStatus(dataDir)).hosts.find((h) => h.name === worker1.name)!.sshd, true);
  });

  test('a second run is a no-op: no new kubeadm init or join on any host', async () => {
    const before = lab.state.hosts.map((h) => kubeadmRuns(lab.paths.labDir, h.name, 'init') + kubeadmRuns(lab.paths.labDir, h.name, 'join'));
    const started = Date.now();
    const { progress } = await bootstrap('e2e-bootstrap-2');
    timings.secondRunMs = Date.now() - started;
    assert.equal(progress.phase, 'succeeded');
    const after = lab.state.hosts.map((h) => kubeadmRuns(lab.paths.labDir, h.name, 'init') + kubeadmRuns(lab.paths.labDir, h.name, 'join'));
    assert.deepEqual(after, before);
    assert.equal(progress.steps.find((s) => s.step === 'init-primary')?.hosts[0]?.reason, 'AlreadyInitialized');
  });

  test('a CNI that breaks: install-cni run alone fails naming the crash-looping pod and the fix; repaired, it passes', async () => {
    assert.match(await labFault('cni-break', [], dataDir), /crash-loops/);
    // The kubelets post the crashes and the lab controller counts them within seconds; until then the
    // DaemonSet's status still says rolled out, as on a real cluster.
    const api = new KubeClient(parseKubeconfig(await new FileSecretStore(path.join(dataDir, 'secrets')).get(kubeconfigSecret!)));
    for (const deadline = Date.now() + 30_000; ;) {
      const ds = await api.get('/apis/apps/v1/namespaces/kube-system/daemonsets/calico-node');
      if (((ds.status as { numberReady?: number }).numberReady ?? 0) === 0) break;
      assert.ok(Date.now() < deadline, 'the lab reports the broken CNI pods within 30 s');
      await new Promise((r) => setTimeout(r, 500));
    }
    const rerun = (workflowId: string, rolloutTimeoutSeconds: number) =>
      client.workflow.start('BootstrapStackedEtcd', {
        taskQueue: TASK_QUEUE,
        workflowId,
        args: [{ ...input, onlySteps: ['install-cni'], cni: { ...input.cni, rolloutTimeoutSeconds } }],
      });
    const failed = await (await rerun('e2e-cni-broken', 20)).result().then(
      () => assert.fail('install-cni passed with every CNI pod crash-looping'),
      (err: unknown) => err,
    );
    assert.ok(failed instanceof WorkflowFailedError);
    const messages: string[] = [];
    for (let cause: unknown = failed.cause; cause instanceof Error; cause = (cause as Error & { cause?: unknown }).cause) {
      messages.push(cause.message, JSON.stringify((cause as { details?: unknown }).details ?? []));
    }
    const shown = messages.join('\n');
    process.stdout.write(`# install-cni with a broken CNI failed as the operator sees it:\n# ${shown.replace(/\n/g, '\n# ')}\n`);
    assert.match(shown, /install-cni/);
    // The pods ran before the break: their main container is the one that crash-loops now.
    assert.match(shown, /pod kube-system\/calico-node-\w+ on west-\w+-\d: CrashLoopBackOff \(calico-node restarted \d+ times\)/);
    assert.match(shown, /kubectl -n kube-system logs calico-node-\w+ -c calico-node --previous/);
    assert.match(await labFault('cni-fix', [], dataDir), /run again/);
    await (await rerun('e2e-cni-fixed', 120)).result();
  });

  test("node-notready breaks one host's runtime network: kubeha's waitNodeReady reports NetworkPluginNotReady; node-ready mends it", async () => {
    const worker = lab.state.hosts.find((h) => h.role === 'worker')!;
    const activities = createActivities({ secrets: new FileSecretStore(path.join(dataDir, 'secrets')), shell });
    assert.match(await labFault('node-notready', [worker.name], dataDir), /NotReady/);
    const failure = await (async () => {
      for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
        try {
          await activities.waitNodeReady({ kubeconfigSecret: kubeconfigSecret!, nodeName: worker.name, timeoutSeconds: 1 });
        } catch (err) {
          return err as Error;
        }
      }
      return assert.fail(`${worker.name} stayed Ready for 30 s with its runtime network broken`);
    })();
    assert.match(failure.message, new RegExp(`node ${worker.name} not Ready \\(NetworkPluginNotReady\\)`));
    assert.match(await labFault('node-ready', [worker.name], dataDir), /works again/);
    assert.equal((await activities.waitNodeReady({ kubeconfigSecret: kubeconfigSecret!, nodeName: worker.name, timeoutSeconds: 30 })).ready, true);
  });

  test('RecoverControlPlane refuses while quorum holds, naming the member that follows a leader', () =>
    refusedWhileQuorumHolds({ lab, dataDir, client, taskQueue: TASK_QUEUE, input, kubeconfigSecret: kubeconfigSecret!, timings }));

  test('west loses the zone of its three control planes: the spare is restored from its own data, serves, and the three rejoin', () =>
    recoverFromZoneLoss({ lab, dataDir, client, taskQueue: TASK_QUEUE, input, kubeconfigSecret: kubeconfigSecret!, timings }));

  test('every member loses its etcd data: the newest S3 backup is restored on the first control plane, and the others rejoin', () =>
    restoreFromSnapshot({ lab, dataDir, client, taskQueue: TASK_QUEUE, input, kubeconfigSecret: kubeconfigSecret!, timings }));

  test('lab down leaves nothing: no sshd, etcd, kube-apiserver, kubelet or moto of the lab, no /etc/hosts block', async () => {
    await assertLabDownLeavesNothing(lab, dataDir, `e2e-${process.pid}`);
  });
});
