/**
 * `waitHostsBack`: waits, inside one heartbeating activity, until at least one of the lost hosts answers
 * over SSH again, or the deadline passes. The waiting stays out of the workflow's history: polling a day
 * long from the workflow would add an activity and a timer per poll and outgrow a history's limits.
 */
import type { HostSpec } from '../../common/inputs/shared';
import { cancellationSignal, heartbeat, sleepUnlessCancelled } from '../activityContext';
import type { HostRunner } from '../hosts/context';

/** What `waitHostsBack` saw: the hosts that answered (empty when the deadline passed first). */
export interface HostsBack {
  back: string[];
  waitedSeconds: number;
}

async function answers(run: HostRunner, host: HostSpec): Promise<boolean> {
  try {
    await run.run(host, { command: 'true', label: 'is the host back' });
    return true;
  } catch {
    return false;
  }
}

export async function waitHostsBack(run: HostRunner, hosts: HostSpec[], timeoutSeconds: number, pollSeconds: number): Promise<HostsBack> {
  const signal = cancellationSignal();
  const started = Date.now();
  for (;;) {
    const back: string[] = [];
    for (const host of hosts) if (await answers(run, host)) back.push(host.name);
    const waitedSeconds = Math.round((Date.now() - started) / 1000);
    if (back.length > 0 || waitedSeconds >= timeoutSeconds) return { back, waitedSeconds };
    heartbeat({ waitingFor: hosts.map((h) => h.name), waitedSeconds });
    await sleepUnlessCancelled(pollSeconds * 1000, signal);
  }
}
