/**
 * The DNS side of the lab benchmark: after a firing alert, when Route 53's API (moto) first holds the
 * record pair with weight on east (the change is INSYNC at once on moto, as kubeha's activity waits for),
 * and when the lab's DNS server first answers east's address (it rereads the records every 500 ms, as
 * Route 53's name servers take time to follow a change). Both polled tightly from this process; the first
 * traffic step gives east 25 %, so a query answers east with that chance and the poll asks every 5 ms.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { countAnswers, readPairWeights, type LabDnsAddress } from '../test/lab/e2e/gtmClients';

/** What one cycle's DNS poll saw, in performance.now() time. */
export interface DnsShiftTimes {
  insyncAt: number;
  answerAt: number;
}

/** What the poll watches. */
export interface DnsShiftTarget {
  dns: LabDnsAddress;
  endpoint: string;
  record: { hostedZoneId: string; recordName: string };
  eastAddress: string;
}

/** Polls until the API holds east's weight and the lab DNS answered east, or the deadline. */
export async function watchDnsShift(target: DnsShiftTarget, deadlineMs = 120_000): Promise<DnsShiftTimes> {
  const deadline = Date.now() + deadlineMs;
  const insync = (async () => {
    for (;;) {
      if (((await readPairWeights(target.endpoint, target.record)).east ?? 0) > 0) return performance.now();
      if (Date.now() > deadline) throw new Error(`Route 53 never held east's weight for ${target.record.recordName}`);
      await sleep(20);
    }
  })();
  const answer = (async () => {
    for (;;) {
      const seen = await countAnswers(target.dns, target.record.recordName, 1);
      if (seen[target.eastAddress]) return performance.now();
      if (Date.now() > deadline) throw new Error(`the lab DNS never answered east (${target.eastAddress}) for ${target.record.recordName}`);
      await sleep(5);
    }
  })();
  const [insyncAt, answerAt] = await Promise.all([insync, answer]);
  return { insyncAt, answerAt };
}

/** Whether the pair is back on west (the next cycle's start). */
export async function dnsOnWest(target: DnsShiftTarget): Promise<boolean> {
  const w = await readPairWeights(target.endpoint, target.record);
  return w.west === 100 && w.east === 0;
}
