/**
 * The lab end to end, when things die. A worker process is killed (SIGKILL) while
 * BootstrapStackedEtcd joins the control planes; a second worker resumes the run, which converges to
 * the same cluster a clean run builds (checked from the lab's own records). Then an API server is
 * killed: the load balancer marks its target unhealthy, the kubelet brings it back, the target turns
 * healthy again, and the API keeps answering through the NLB's DNS name meanwhile.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
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
import { KubeClient } from '../../../lab/kube/client';
import { parseKubeconfig } from '../../../lab/kube/kubeconfig';
import { defaultTopologyInput, parseTopology, type LabUpResult } from '../../../lab/orchestrator';
import { kubehaDataConverter } from '../../../lib/codec/dataConverter';
import { createWorker } from '../../../worker';
import { startTestTemporal } from '../../support/temporal';
import { assertLabDownLeavesNothing, etcdMembers, kubeadmRuns, startTestLab, type TestLab } from './support';
import { exitOf, frontStatus, pendingActivities, startWorkerProcess } from './labWorkerRun';
import { crashLoopUntilBack, type CrashLoopOutcome } from './apiserverCrashLoop';

const TASK_QUEUE = 'kubeha-lab-e2e-resume';
const HOSTS_LABEL = `resume-${process.pid}`;
const LOAD_BALANCER_NAME = 'kubeha-west-resume-api';
/** Activities proxied as `waits` (workflows/engine/activities.ts) have a 30 s heartbeat timeout; the others 1 minute. */
const WAIT_ACTIVITIES = new Set(['waitTargetHealthy', 'waitNodeReady', 'waitRollout']);

/** West only, on addresses of its own so the other lab tests and a developer's lab can run beside it. */
function resumeTopology() {
  const west = defaultTopologyInput().clusters[0];
  return parseTopology({
    clusters: [{ ...west, hosts: west.hosts.map((h, i) => ({ ...h, address: `127.0.10.${201 + i}` })) }],
    loadBalancerAddressPrefix: '127.0.95',
    hostsBlockLabel: HOSTS_LABEL,
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('BootstrapStackedEtcd on the lab survives a killed worker; the load balancer follows a dying API server', { timeout: 30 * 60_000 }, () => {
  let dataDir: string;
  let testLab: TestLab | undefined;
  let lab: LabUpResult;
  let env: TestWorkflowEnvironment;
  /** A client with the worker's data converter (payloads are encrypted). */
  let client: Client;
  let child: ChildProcess | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let shell: RemoteShell;
  let input: BootstrapStackedEtcdInput;
  let kubeconfigSecret: string | undefined;
  const figures: Record<string, number | string> = {};

  before(async () => {
    testLab = await startTestLab('resume', resumeTopology());
    ({ dataDir, lab } = testLab);
    const labInput = JSON.parse(readFileSync(lab.state.inputs.west, 'utf8')) as BootstrapStackedEtcdInput;
    // moto names the NLB `<name>-1.<region>.elb.amazonaws.com`: another lab's west cluster would own the same
    // DNS name in /etc/hosts (first block wins), so this lab's load balancer gets a name of its own.
    input = { ...labInput, loadBalancer: { ...labInput.loadBalancer, name: LOAD_BALANCER_NAME }, onFailure: 'fail' };
    env = await startTestTemporal();
    // Builds (and on first use writes) the codec keys under dataDir before the worker process reads them.
    client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default', dataConverter: kubehaDataConverter().dataConverter });
    shell = createSshShell({ knownHosts: new FileKnownHostsStore(path.join(dataDir, 'known_hosts.json')) });
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await shell?.close();
    await env?.teardown();
    await testLab?.close();
    process.stdout.write(`# lab resume e2e figures: ${JSON.stringify(figures)}\n`);
  });

  const cps = () => lab.state.hosts.filter((h) => h.role === 'control-plane');
  const spare = () => lab.state.hosts.find((h) => h.role === 'spare-control-plane')!;

  test('a run killed halfway (SIGKILL of its worker during join-control-plane) and resumed by another worker completes', async () => {
    const started = await startWorkerProcess({
      ...process.env,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace ?? 'default',
      KUBEHA_TASK_QUEUE: TASK_QUEUE,
      KUBEHA_DATA_DIR: dataDir,
      KUBEHA_WORKER_IDENTITY: 'resume-killed-worker',
    });
    child = started.child;
    const handle = await client.workflow.start('BootstrapStackedEtcd', { taskQueue: TASK_QUEUE, workflowId: 'resume-bootstrap', args: [input] });
    const runStarted = Date.now();

    // Kill only after the join itself: a host waits (target health, Node Ready), and an activity runs.
    // (A kill during `kubeadm join` may leave a half-done join that the next attempt repairs and joins again.)
    let interrupted: { id: string; type: string; attempt: number; worker: string } | undefined;
    const deadline = Date.now() + 15 * 60_000;
    while (!interrupted) {
      assert.ok(Date.now() < deadline, 'join-control-plane never reached a waiting host');
      assert.equal(child.exitCode, null, `the worker process died by itself: ${started.output().slice(-2000)}`);
      const progress = await handle.query<Progress>('progress');
      if (!['validating', 'running', 'waiting'].includes(progress.phase)) {
        const failed = progress.steps.filter((s) => s.state === 'failed');
        assert.fail(`the run ended (${progress.phase}) before it could be interrupted, at step ${progress.currentStep}: ${JSON.stringify(failed, null, 1)}`);
      }
      const step = progress.steps.find((s) => s.step === 'join-control-plane');
      assert.ok(!step || !['done', 'failed', 'skipped'].includes(step.state), `join-control-plane ended (${step?.state}) before a waiting host was seen`);
      const waiting = progress.currentStep === 'join-control-plane' ? step?.hosts.find((h) => h.state === 'waiting') : undefined;
      if (waiting) {
        // Never a join in flight (the run may have moved on since the query answered).
        const activities = (await pendingActivities(handle)).started.filter((a) => a.type !== 'kubeadmJoin');
        if (activities.length > 0) {
          child.kill('SIGKILL');
          interrupted = activities[0];
          figures.killedDuring = `${waiting.host} ${waiting.state} ${waiting.reason ?? ''}: activity ${interrupted.type} attempt ${interrupted.attempt}`;
          break;
        }
      }
      await sleep(200);
    }
    const killedAt = Date.now();
    figures.killedAfterMs = killedAt - runStarted;
    const exit = await exitOf(child);
    assert.equal(exit, 'SIGKILL');
    assert.equal(interrupted.worker, 'resume-killed-worker');
    // What the dead worker still holds: the activity seen running may have finished in the moment before the kill.
    const held = (await pendingActivities(handle)).started.find((a) => a.worker === 'resume-killed-worker');
    figures.inFlightAtKill = held ? `${held.type} attempt ${held.attempt}` : 'none (the activity finished just before the kill)';
    const heartbeatTimeoutMs = held && WAIT_ACTIVITIES.has(held.type) ? 30_000 : 60_000;
    if (held) figures.heartbeatTimeoutMs = heartbeatTimeoutMs;

    worker = await createWorker({
      connection: env.nativeConnection,
      settings: { address: '', namespace: env.namespace ?? 'default', taskQueue: TASK_QUEUE, uiUrl: '' },
      activities: createActivities({ secrets: new FileSecretStore(path.join(dataDir, 'secrets')), shell }),
      overrides: { shutdownGraceTime: '1 second', identity: 'resume-second-worker' },
    });
    running = worker.run();
    figures.secondWorkerReadyMs = Date.now() - killedAt;

    // Resumed: the held activity runs again (Temporal retries it once its heartbeat stops) or is done, or the
    // second worker runs the next activity.
    for (;;) {
      const now = await pendingActivities(handle);
      if (now.status !== 'RUNNING') break;
      if (held && !now.started.some((a) => a.id === held.id)) break;
      const next = now.started.find((a) => a.worker === 'resume-second-worker');
      if (next) {
        if (held && next.id === held.id) assert.ok(next.attempt > held.attempt, `attempt ${next.attempt} after ${held.attempt}`);
        break;
      }
      assert.ok(Date.now() - killedAt < heartbeatTimeoutMs + 60_000, `nothing resumed ${heartbeatTimeoutMs + 60_000} ms after the kill`);
      await sleep(250);
    }
    figures.resumedAfterKillMs = Date.now() - killedAt;
    // Bounded by the heartbeat timeout, the retry's first back-off (2 s) and polling.
    if (held) assert.ok(figures.resumedAfterKillMs <= heartbeatTimeoutMs + 15_000, `resumed after ${figures.resumedAfterKillMs} ms`);

    const result = (await handle.result().catch((err: unknown) => {
      if (err instanceof WorkflowFailedError) throw new Error(`${err.message}: ${JSON.stringify(err.cause, null, 1)}`);
      throw err;
    })) as { etcd: { members: number }; kubeconfigSecret?: string };
    figures.completedAfterKillMs = Date.now() - killedAt;
    if (held) {
      // Temporal's history: the held activity's final attempt ran on the second worker.
      const { events } = await handle.fetchHistory();
      const scheduled = events?.find((e) => e.activityTaskScheduledEventAttributes?.activityId === held.id);
      const startedEvent = events?.find(
        (e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(scheduled?.eventId),
      )?.activityTaskStartedEventAttributes;
      assert.equal(startedEvent?.identity, 'resume-second-worker');
      assert.ok((startedEvent?.attempt ?? 0) > held.attempt, `final attempt ${startedEvent?.attempt}`);
    }
    figures.wholeRunMs = Date.now() - runStarted;
    const progress = await handle.query<Progress>('progress');
    assert.equal(progress.phase, 'succeeded');
    assert.equal(result.etcd.members, 4);
    kubeconfigSecret = result.kubeconfigSecret;
  });

  test('the resumed run converged: 4 voting etcd members, one kubeadm init, one join per host, exactly the 3 control planes healthy', async () => {
    const members = await etcdMembers(lab.paths.labDir, cps()[1]);
    assert.deepEqual(members.map((m) => m.name).sort(), [...cps(), spare()].map((h) => h.name).sort());
    assert.ok(
      members.every((m) => !m.isLearner),
      `learners left: ${JSON.stringify(members)}`,
    );

    const [primary] = cps();
    assert.equal(kubeadmRuns(lab.paths.labDir, primary.name, 'init'), 1, 'kubeadm init ran once on the primary');
    assert.equal(kubeadmRuns(lab.paths.labDir, primary.name, 'join'), 0, 'the primary never joined');
    for (const host of lab.state.hosts.filter((h) => h !== primary)) {
      assert.equal(kubeadmRuns(lab.paths.labDir, host.name, 'init'), 0, `${host.name} never ran kubeadm init`);
      assert.equal(kubeadmRuns(lab.paths.labDir, host.name, 'join'), 1, `${host.name} joined exactly once`);
    }

    const status = await frontStatus(lab.state.aws!.endpoint);
    assert.equal(status.loadBalancers.length, 1);
    const targets = status.loadBalancers[0].targets;
    assert.deepEqual(
      targets.map((t) => `${t.id}:${t.state}`).sort(),
      cps()
        .map((h) => `${h.address}:healthy`)
        .sort(),
    );
    assert.ok(!targets.some((t) => t.id === spare().address), 'the spare is not a target');
  });

  test('a killed API server: its target turns unhealthy, then healthy once the kubelet restarts it; /readyz through the NLB answers 200 meanwhile', async () => {
    const endpoint = lab.state.aws!.endpoint;
    const victim = cps()[1];
    const before = await frontStatus(endpoint);
    const dnsName = before.loadBalancers[0].dnsName;
    assert.ok(dnsName.startsWith(`${LOAD_BALANCER_NAME}-`), dnsName);
    assert.equal(before.loadBalancers[0].targets.find((t) => t.id === victim.address)?.state, 'healthy');
    assert.ok(kubeconfigSecret, 'the run named the admin kubeconfig secret');
    const kubeconfig = parseKubeconfig(await new FileSecretStore(path.join(dataDir, 'secrets')).get(kubeconfigSecret));
    assert.equal(new URL(kubeconfig.server).hostname, dnsName);
    const api = new KubeClient(kubeconfig);

    // /readyz through the NLB's DNS name, one request after another (each on a new connection), for the whole fault.
    const samples: { startedAt: number; endedAt: number; outcome: string }[] = [];
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const startedAt = Date.now();
        const outcome = await api.request('GET', '/readyz').then(
          (r) => String(r.status),
          (err: Error) => err.message,
        );
        samples.push({ startedAt, endedAt: Date.now(), outcome });
        await sleep(100);
      }
    })();

    // The API server killed until its target turns unhealthy, then left to the kubelet (apiserverCrashLoop.ts).
    let loop: CrashLoopOutcome;
    try {
      loop = await crashLoopUntilBack({ endpoint, victim, dataDir });
    } finally {
      probing = false;
      await probe;
    }
    const { kills, killedAt, lastKillAt, unhealthyAt, healthyAt, firstBackAt, sawOthersHealthyMeanwhile } = loop;

    figures.apiserverKills = kills;
    if (firstBackAt) figures.firstKillApiserverBackAfterMs = firstBackAt - killedAt;
    figures.unhealthyAfterFirstKillMs = unhealthyAt - killedAt;
    figures.unhealthyAfterLastKillMs = unhealthyAt - lastKillAt;
    figures.healthyAgainAfterLastKillMs = healthyAt - lastKillAt;
    figures.unhealthyForMs = healthyAt - unhealthyAt;
    const whileDown = samples.filter((s) => s.startedAt >= unhealthyAt && s.endedAt <= healthyAt);
    const beforeMarked = samples.filter((s) => s.startedAt >= killedAt && s.startedAt < unhealthyAt);
    figures.readyzWhileUnhealthy = `${whileDown.filter((s) => s.outcome === '200').length}/${whileDown.length} answered 200`;
    figures.readyzBetweenKillAndUnhealthy = `${beforeMarked.filter((s) => s.outcome === '200').length}/${beforeMarked.length} answered 200`;
    assert.ok(sawOthersHealthyMeanwhile, 'while the victim was unhealthy, the other control planes stayed healthy');
    assert.ok(whileDown.length > 0, `no /readyz request fell between unhealthy and healthy (${figures.unhealthyForMs} ms)`);
    assert.deepEqual(
      whileDown.filter((s) => s.outcome !== '200'),
      [],
      'every /readyz through the NLB answered 200 while the victim was unhealthy',
    );
  });

  test('lab down leaves nothing: no process of the lab, no /etc/hosts block, no state', async () => {
    await assertLabDownLeavesNothing(lab, dataDir, HOSTS_LABEL);
    assert.ok(child && child.exitCode === null && child.signalCode === 'SIGKILL', 'the killed worker process is gone');
  });
});
