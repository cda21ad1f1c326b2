/**
 * FailoverToEast on the lab's two clusters, end to end: `lab up` with west and east, both bootstrapped
 * at once by kubeha's real worker (east's etcd, load balancer and Nodes checked from the lab's
 * records), the pair's kubeconfig with a context per cluster, LinkMeshClusters with the lab linkerd
 * (checks, the mirror through east's gateway, a second run that changes nothing), `kubeha webhook`'s
 * server behind a real Alertmanager. West's control planes lose their API servers (etcd keeps quorum);
 * one alert makes exactly one FailoverToEast run, which registers the spare, moves traffic in verified
 * steps on the HTTPRoute LinkMeshClusters wrote on west (each an Event) together with the service's Route 53 records, and fails
 * back after the hysteresis window once the alert resolves. Then every west host stops (west lost whole):
 * one alert moves the clients outside the mesh to east through Route 53 alone, counted through the lab's
 * DNS and greeters, without waiting on west; west back, the split catches up and traffic fails back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import { failoverToEastInputSchema, failoverWorkflowId, type FailoverStatus } from '../../../common/inputs/failoverToEast';
import { loadConfig } from '../../../client/webhook/config';
import { LAB_FAILOVER_ALERT, loadBalancerName } from '../../../lab/orchestrator/inputs';
import { startStaticPod, stopStaticPod } from '../../../lab/orchestrator/staticPodFaults';
import type { LabPairFiles } from '../../../lab/orchestrator/pair';
import type { LabGreeters } from '../../../lab/orchestrator/greeters';
import type { FailoverResult } from '../../../workflows/failover';
import { eventually } from '../../support/workflowHarness';
import { countGreetings, gtmRecordOf, readPairWeights } from './gtmClients';
import { westLostFailback, westLostFailover } from './westLost';
import { zoneLossChain } from './zoneLossChain';
import { checkPairKubeconfig } from './pairChecks';
import { checkMeshCommand, checkMirrorThroughGateway, linkThePair, secondLinkChangesNothing } from './meshLink';
import { startAlertmanager, type TestAlertmanager } from '../../webhook/alertmanagerProcess';
import {
  contextClient,
  DEMO,
  preparePair,
  readSplit,
  splitEvents,
  startFailoverLab,
  startLabWebhook,
  westTargets,
  type BootstrapRun,
  type FailoverLab,
  type LabWebhook,
  type LinkRun,
} from './failoverLab';
import { etcdMembers, kubeadmRuns, targetTransitions } from './support';

/** The failback window of the test's input: short, but long enough to see that it held. */
const HYSTERESIS_SECONDS = 5;

describe('FailoverToEast on the lab pair, end to end', { timeout: 20 * 60_000 }, () => {
  let lab: FailoverLab;
  let files: LabPairFiles & { greeters: LabGreeters };
  let webhook: LabWebhook | undefined;
  let alertmanager: TestAlertmanager | undefined;
  const runs: Record<string, BootstrapRun> = {};
  const timings: Record<string, number> = {};
  const began = Date.now();

  before(async () => {
    lab = await startFailoverLab();
    timings.labUpMs = Date.now() - began;
  });

  after(async () => {
    // Put the API servers back whatever happened, then take everything down.
    for (const h of lab?.lab.state.hosts.filter((x) => x.cluster === 'west' && x.role === 'control-plane') ?? []) {
      try {
        startStaticPod(h.name, 'kube-apiserver', lab.dataDir);
      } catch {
        // the lab may be gone already
      }
    }
    await alertmanager?.stop();
    await webhook?.close();
    await lab?.stop();
    timings.totalMs = Date.now() - began;
    process.stdout.write(`# failover e2e timings: ${JSON.stringify(timings)}\n`);
  });

  /** The alert Prometheus would send while west's API is down: one incident, one startsAt. */
  const incidentStartedAt = new Date().toISOString();
  const westDown = (endsAt: Date) => ({
    labels: { ...LAB_FAILOVER_ALERT, cluster: 'west' },
    annotations: { summary: "west's API is down" },
    startsAt: incidentStartedAt,
    endsAt: endsAt.toISOString(),
  });

  /** The lab's DNS server (Route 53's data plane). */
  const labDns = () => lab.lab.state.aws!.dns!;
  /** The demo service's Route 53 record as the lab's failover input names it. */
  const gtmRecord = () => gtmRecordOf(files);
  const hosts = (cluster: string, role?: string) => lab.lab.state.hosts.filter((h) => h.cluster === cluster && (!role || h.role === role));
  const lbName = (cluster: string) => loadBalancerName(cluster, lab.lab.state.topology.hostsBlockLabel);

  test("west and east bootstrap at the same time with kubeha's worker", async () => {
    const started = Date.now();
    // Both to the end, so that a failure of one still shows how the other went.
    const settled = await Promise.allSettled([lab.bootstrap('west'), lab.bootstrap('east')]);
    const failures = settled.flatMap((s) => (s.status === 'rejected' ? [String((s.reason as Error).message ?? s.reason).slice(0, 4000)] : []));
    assert.deepEqual(failures, []);
    const [west, east] = settled.map((s) => (s as PromiseFulfilledResult<BootstrapRun>).value);
    timings.bootstrapBothMs = Date.now() - started;
    timings.bootstrapWestMs = west.ms;
    timings.bootstrapEastMs = east.ms;
    runs.west = west;
    runs.east = east;
    assert.equal(west.progress.phase, 'succeeded');
    assert.equal(east.progress.phase, 'succeeded');
    assert.equal(west.result.etcd.members, 4);
    assert.equal(east.result.etcd.members, 1);
    assert.equal(west.result.kubeconfigSecret, 'clusters/west/admin-kubeconfig');
    assert.equal(east.result.kubeconfigSecret, 'clusters/east/admin-kubeconfig');
  });

  test("east from the lab's records: one etcd voter, its control plane the only healthy target, kubeadm init once", async () => {
    const [cp] = hosts('east', 'control-plane');
    const members = await etcdMembers(lab.lab.paths.labDir, cp);
    assert.deepEqual(
      members.map((m) => `${m.name}:${m.isLearner}`),
      [`${cp.name}:false`],
    );
    assert.deepEqual(await westTargets(lab, lbName('east')), { [cp.address]: 'healthy' });
    assert.equal(kubeadmRuns(lab.lab.paths.labDir, cp.name, 'init'), 1);
    const [worker] = hosts('east', 'worker');
    assert.equal(kubeadmRuns(lab.lab.paths.labDir, worker.name, 'join'), 1);
    // West beside it: 4 voters, the 3 control planes healthy, the spare not registered.
    const westMembers = await etcdMembers(lab.lab.paths.labDir, hosts('west', 'control-plane')[0]);
    assert.equal(westMembers.filter((m) => !m.isLearner).length, 4);
    const targets = await westTargets(lab, lbName('west'));
    assert.deepEqual(
      Object.keys(targets).sort(),
      hosts('west', 'control-plane')
        .map((h) => h.address)
        .sort(),
    );
    assert.ok(
      Object.values(targets).every((s) => s === 'healthy'),
      JSON.stringify(targets),
    );
  });

  test('one kubeconfig with a west and an east context; both answer through their load balancers; every Node Ready', async () => {
    files = await preparePair(lab, HYSTERESIS_SECONDS);
    await checkPairKubeconfig(lab, files);
  });

  test("the failover input and the routing file pass kubeha's own validation and point at the stored kubeconfigs", async () => {
    const input = failoverToEastInputSchema.parse(JSON.parse(readFileSync(files.failoverInput, 'utf8')));
    assert.equal(input.west.kubeconfigSecret, 'clusters/west/admin-kubeconfig');
    assert.equal(input.east.kubeconfigSecret, 'clusters/east/admin-kubeconfig');
    assert.deepEqual(
      input.controlPlane?.spares.map((h) => h.address),
      hosts('west', 'spare-control-plane').map((h) => h.address),
    );
    assert.ok(await lab.secrets.get(input.west.kubeconfigSecret));
    const config = await loadConfig(files.webhookConfig);
    assert.ok(config.auth.bearerToken, 'Bearer auth is configured');
    const route = config.routes.find((r) => r.action === 'failover');
    assert.equal(route?.action === 'failover' ? route.workflowId : undefined, failoverWorkflowId('west', 'east'));
    // Global traffic management: the service's record pair in the lab's Route 53, all on west's greeter.
    const record = input.services[0].gtm;
    assert.ok(record, 'the lab input names a Route 53 record');
    assert.deepEqual([record.west.values, record.east.values], [[files.greeters.west.address], [files.greeters.east.address]]);
    assert.deepEqual(await readPairWeights(input.route53.endpoint!, record), { west: 100, east: 0 });
    assert.deepEqual(await countGreetings(labDns(), record.recordName, 20), { 'greetings from west': 20 });
  });

  // LinkMeshClusters with the lab linkerd, on the lab's pair (meshLink.ts): FailoverToEast then moves what it made.
  let link: LinkRun;
  test('LinkMeshClusters links west and east: trust, installs, checks, link, export, mirror and split, every step done', async () => {
    link = await linkThePair(lab, files);
    timings.linkMs = link.ms;
  });
  test('kubeha check mesh --west west --east east: every check √', async () => void (await checkMeshCommand(files)));
  test("west's mirror podinfo-east points at east's gateway, and a request through it is answered by east", () => checkMirrorThroughGateway(lab, files));
  test("a second LinkMeshClusters run changes nothing on either cluster, counted from the API servers' records", async () => {
    timings.secondLinkMs = (await secondLinkChangesNothing(lab, files, link)).ms;
  });

  test("west's API servers down, one alert through Alertmanager: one run, the spare registered, traffic moved to east in steps", async () => {
    webhook = await startLabWebhook(lab, files);
    alertmanager = await startAlertmanager({ webhookUrl: webhook.url, bearerToken: webhook.token, repeatInterval: '1h' });
    const since = Date.now();
    // kube-apiserver stopped on every registered control plane: etcd keeps its 4 voters, the spare serves.
    const cps = hosts('west', 'control-plane');
    const [spare] = hosts('west', 'spare-control-plane');
    for (const h of cps) stopStaticPod(h.name, 'kube-apiserver', lab.dataDir);
    await eventually(
      async () => {
        const t = await westTargets(lab, lbName('west'));
        return cps.every((h) => t[h.address] === 'unhealthy') ? t : undefined;
      },
      90_000,
      "west's control-plane targets to turn unhealthy",
    );
    await assert.rejects(contextClient(files, 'west').request('GET', '/readyz'), "west's API is down through its load balancer");

    // Watch the split through west's API while it moves (errors: the API is down until the spare serves).
    const west = contextClient(files, 'west');
    const seen: number[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const s = await readSplit(west).catch(() => undefined);
        if (s && seen[seen.length - 1] !== s.east) seen.push(s.east);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();

    await alertmanager.postAlerts([westDown(new Date(Date.now() + 3600_000))]);
    const handle: WorkflowHandle = lab.client.workflow.getHandle(failoverWorkflowId('west', 'east'));
    const failedOver = await eventually(
      async () => {
        const s = await handle.query<FailoverStatus>('status');
        return s.state === 'failed-over' ? s : undefined;
      },
      5 * 60_000,
      `the failover (alertmanager log: ${alertmanager.log().slice(-400)})`,
    );
    timings.alertToFailedOverMs = Date.now() - since;
    watching = false;
    await watcher;

    // Exactly one execution for the pair.
    const executions: unknown[] = [];
    for await (const e of lab.client.workflow.list({ query: `WorkflowId = '${failoverWorkflowId('west', 'east')}'` })) executions.push(e);
    assert.equal(executions.length, 1);

    // The control-plane step: the spare registered and healthy in the lab AWS data plane.
    assert.deepEqual(failedOver.sparesRegistered, [spare.name]);
    const targets = await westTargets(lab, lbName('west'));
    assert.equal(targets[spare.address], 'healthy', JSON.stringify(targets));
    for (const h of cps) assert.equal(targets[h.address], 'unhealthy');
    const transitions = (await targetTransitions(lab.lab.state.aws!.endpoint, since)).filter((t) => t.id === spare.address);
    assert.ok(
      transitions.some((t) => t.to === 'healthy'),
      `the spare turned healthy: ${JSON.stringify(transitions)}`,
    );
    const decided = failedOver.decisions.map((d) => d.what);
    assert.ok(decided.includes('SpareRegistered'), decided.join(', '));
    assert.ok(decided.indexOf('SpareRegistered') < decided.indexOf('Shifted'), "the spare serves before the split (in west's API) is touched");

    // Traffic: all on east now, read back through west's API (served by the spare), one Event per step;
    // west answered, so Route 53's records moved with the split.
    assert.deepEqual(failedOver.eastPercent, { [`${DEMO.namespace}/${DEMO.name}`]: 100 });
    const traffic = failedOver.traffic[`${DEMO.namespace}/${DEMO.name}`];
    assert.deepEqual([traffic.dns?.west, traffic.dns?.east, traffic.westSplit?.eastPercent], [0, 100, 100]);
    assert.deepEqual(await readPairWeights(gtmRecord().endpoint, gtmRecord().record), { west: 0, east: 100 });
    const now = await readSplit(west);
    assert.deepEqual([now.west, now.east], [0, 100]);
    const shifts = (await splitEvents(west)).filter((e) => e.reason === 'FailoverShift');
    assert.deepEqual(
      shifts.map((e) => /podinfo (\d+) \/ podinfo-east (\d+)/.exec(e.message)?.slice(1).join('/')),
      ['75/25', '50/50', '0/100'],
    );
    // What west's API served while the run moved it (polled every 200 ms; each step holds 2 s).
    assert.ok(
      seen.every((v, i) => [0, 25, 50, 100].includes(v) && (i === 0 || v > seen[i - 1])),
      `the split moved toward east step by step: ${seen.join(' → ')}`,
    );
    assert.ok(
      seen.some((v) => v > 0 && v < 100),
      `an intermediate step was served by west's API: ${seen.join(' → ')}`,
    );
  });

  test('west back and the alert resolved: failback after the hysteresis window, the split back on west', async () => {
    const handle = lab.client.workflow.getHandle(failoverWorkflowId('west', 'east'));
    const cps = hosts('west', 'control-plane');
    for (const h of cps) startStaticPod(h.name, 'kube-apiserver', lab.dataDir);
    await eventually(
      async () => {
        const t = await westTargets(lab, lbName('west'));
        return cps.every((h) => t[h.address] === 'healthy') ? t : undefined;
      },
      90_000,
      "west's control planes to be healthy again",
    );

    const started = Date.now();
    // Prometheus resolves an alert by sending it again, same startsAt, with endsAt in the past.
    await alertmanager!.postAlerts([westDown(new Date(Date.now() - 1000))]);
    const result = (await handle.result()) as FailoverResult;
    timings.resolveToFailedBackMs = Date.now() - started;
    assert.equal(result.outcome, 'failed-back');
    assert.deepEqual(result.eastPercent, { [`${DEMO.namespace}/${DEMO.name}`]: 0 });
    assert.deepEqual(result.sparesRegistered, [hosts('west', 'spare-control-plane')[0].name]);

    const status = await handle.query<FailoverStatus>('status');
    const at = (what: string) => Date.parse(status.decisions.find((d) => d.what === what)?.at ?? 'NaN');
    assert.ok(at('AlertResolved') <= at('WindowStarted'), 'the window starts once resolved');
    assert.ok(
      at('FailingBack') - at('WindowStarted') >= HYSTERESIS_SECONDS * 1000,
      `west stayed healthy for the whole window: ${JSON.stringify(status.decisions.slice(-6))}`,
    );

    const west = contextClient(files, 'west');
    const now = await readSplit(west);
    assert.deepEqual([now.west, now.east], [100, 0]);
    const back = (await splitEvents(west)).filter((e) => e.reason === 'FailbackShift');
    assert.deepEqual(
      back.map((e) => /podinfo (\d+) \/ podinfo-east (\d+)/.exec(e.message)?.slice(1).join('/')),
      ['50/50', '75/25', '100/0'],
    );
    const executions: unknown[] = [];
    for await (const e of lab.client.workflow.list({ query: `WorkflowId = '${failoverWorkflowId('west', 'east')}'` })) executions.push(e);
    assert.equal(executions.length, 1, 'the resolution signalled the same run');
    assert.deepEqual(await readPairWeights(gtmRecord().endpoint, gtmRecord().record), { west: 100, east: 0 });
  });

  // West lost whole (every host stopped): Route 53 alone moves the clients, then the way back (westLost.ts).
  test('every west host stopped, one alert: Route 53 moves the clients to east, and the run never waits on west', () =>
    westLostFailover({ lab, files, alertmanager: alertmanager!, timings }));
  test("west back and the alert resolved: west's split catches up, failback after the window, the weights 100/0", () =>
    westLostFailback({ lab, files, alertmanager: alertmanager!, timings }));
  // West loses the zone of its etcd majority: the failover starts the recovery, approved, then the way back (zoneLossChain.ts).
  test("west's control-plane zone lost, one alert: traffic to east, RecoverControlPlane started and approved, west serves again, rejoin, failback", () =>
    zoneLossChain({ lab, files, alertmanager: alertmanager!, timings }));
});
