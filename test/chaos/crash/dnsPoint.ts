/**
 * The DNS crash point: FailoverToEast moving a service's Route 53 records with kubeha's real activities
 * (moto), its worker SIGKILLed after the first UPSERT was sent and while Route 53 still reports the
 * change PENDING. The replacement worker must resume the wait for that change, never send it twice, and
 * the run must end failed back with exactly one change per traffic step.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import type { WorkflowHandle } from '@temporalio/client';
import { failoverInput, notification } from '../../failover/fakeFailoverWorld';
import { MOTO_CREDENTIALS, MOTO_REGION, startMoto } from '../../support/moto';
import type { Arena } from './arena';
import { changesSent, type CrashRoute53 } from './dnsWorld';
import { inFlightOf } from './observe';
import type { PointResult } from './runPoint';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string | (() => string), check: () => Promise<T | undefined> | T | undefined, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`never: ${typeof what === 'string' ? what : what()}`);
    await sleep(100);
  }
}

/** The zone and the pair (west 100, east 0) an operator set up before any failover. */
async function seedRecords(endpoint: string): Promise<string> {
  const api = new Route53Client({ region: MOTO_REGION, endpoint, credentials: MOTO_CREDENTIALS });
  try {
    const zone = await api.send(new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `crash-${Date.now()}` }));
    const zoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
    const set = (id: string, weight: number, address: string) => ({
      Action: 'CREATE' as const,
      ResourceRecordSet: { Name: 'podinfo.example.com', Type: 'A' as const, SetIdentifier: id, Weight: weight, TTL: 30, ResourceRecords: [{ Value: address }] },
    });
    await api.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: { Changes: [set('kubeha-west', 100, '10.10.0.10'), set('kubeha-east', 0, '10.20.0.10')] },
      }),
    );
    return zoneId;
  } finally {
    api.destroy();
  }
}

/** Runs the point (see the header); problems land in `result`. */
export async function dnsPoint(arena: Arena, result: PointResult, outcome: <T>(handle: WorkflowHandle, timeoutMs?: number) => Promise<T>): Promise<void> {
  result.trigger = 'first UPSERT sent, change PENDING';
  const moto = await startMoto();
  try {
    const route53: CrashRoute53 = {
      endpoint: moto.endpoint,
      changeLog: path.join(arena.dataDir, 'route53-changes.log'),
      holdFile: path.join(arena.dataDir, 'route53-pending'),
    };
    const zoneId = await seedRecords(moto.endpoint);
    writeFileSync(route53.holdFile, 'PENDING until removed\n');
    const worldFile = path.join(arena.dataDir, 'failover-world.json');
    const env = {
      KUBEHA_CRASH_ROUTE53: JSON.stringify(route53),
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    };
    await arena.startWorker(worldFile, env);
    const gtm = {
      hostedZoneId: zoneId,
      zoneName: 'example.com',
      recordName: 'podinfo.example.com',
      ttl: 30,
      west: { values: ['10.10.0.10'] },
      east: { values: ['10.20.0.10'] },
    };
    const input = failoverInput({ services: [{ namespace: 'test', name: 'podinfo', gtm }], route53: { endpoint: moto.endpoint } });
    const handle = await arena.client.workflow.signalWithStart('FailoverToEast', {
      taskQueue: arena.taskQueue,
      workflowId: `crash-failover-dns-${Date.now()}`,
      args: [input],
      signal: 'alert',
      signalArgs: [notification('firing')],
    });
    await until('the first UPSERT', () => (changesSent(route53).length > 0 ? true : undefined));
    // Let the checkpoint heartbeat reach the server, as it does within milliseconds of the UPSERT.
    await sleep(1000);
    const killedIdentity = arena.identity;
    const killedAt = await arena.killWorker();
    const held = await inFlightOf(handle, killedIdentity);
    result.inFlight = held.activity ? `${held.activity.type} #${held.activity.attempt}` : 'no activity';
    result.bound = held.bound;
    result.boundMs = held.boundMs;
    const { readyMs } = await arena.startWorker(worldFile, env);
    result.workerReadyMs = readyMs;
    // Route 53 finishes propagating only once the replacement runs: it must wait for the same change.
    rmSync(route53.holdFile);
    type Status = { state: string; traffic: Record<string, { dns?: { east: number } }> };
    let last: unknown;
    await until(
      () => `failed over: status ${JSON.stringify(last).slice(0, 1500)}; Route 53 changes ${changesSent(route53).join(', ')}`,
      async () => {
        const s = await handle.query<Status>('status');
        last = { state: s.state, traffic: s.traffic, progress: await handle.query('progress') };
        return s.state === 'failed-over' ? s : undefined;
      },
    );
    result.resumeMs = Date.now() - killedAt;
    await handle.signal('alert', notification('resolved'));
    const end = await outcome<{ outcome: string }>(handle, 120_000);
    result.completed = true;
    if (end.outcome !== 'failed-back') result.problems.push(`outcome ${end.outcome}`);
    const sent = changesSent(route53);
    result.notes.push(`Route 53 changes ${sent.join(' → ')}`);
    result.duplicates = Math.max(0, sent.length - 4);
    if (sent.join(',') !== '50/50,0/100,50/50,100/0')
      result.problems.push(`Route 53 changes ${sent.join(',')}, expected 50/50,0/100,50/50,100/0 (one per step)`);
  } finally {
    await moto.stop();
  }
}
