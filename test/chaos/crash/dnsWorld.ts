/**
 * Route 53 for the DNS crash point, on both sides of the kill: the worker child runs kubeha's REAL
 * Route 53 activities against moto, through a client that writes every ChangeResourceRecordSets it sends
 * to a log file (one line each, so the count outlives a SIGKILL) and reports a change PENDING while a
 * hold file exists (Route 53 still propagating), so the point can kill the worker between UPSERT and INSYNC.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { Route53Client } from '@aws-sdk/client-route-53';
import { createDnsActivities, type DnsActivities } from '../../../activities/dns/route53';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../../support/moto';

/** Where the point's Route 53 lives and leaves its records (KUBEHA_CRASH_ROUTE53 holds it as JSON). */
export interface CrashRoute53 {
  endpoint: string;
  /** One line per ChangeResourceRecordSets sent, with its weights. */
  changeLog: string;
  /** While this file exists, GetChange answers PENDING. */
  holdFile: string;
}

/** The changes sent so far, oldest first (`west/east`). */
export function changesSent(route53: CrashRoute53): string[] {
  return existsSync(route53.changeLog) ? readFileSync(route53.changeLog, 'utf8').split('\n').filter(Boolean) : [];
}

/** kubeha's Route 53 activities on the point's moto, logging and holding as described above. */
export function crashDnsActivities(route53: CrashRoute53): DnsActivities {
  const client = new Route53Client({ region: MOTO_REGION, endpoint: route53.endpoint, credentials: MOTO_CREDENTIALS });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { ChangeBatch?: { Changes?: Array<{ ResourceRecordSet?: { Weight?: number } }> } };
      const result = await next(args);
      if (context.commandName === 'ChangeResourceRecordSetsCommand') {
        appendFileSync(route53.changeLog, `${(input.ChangeBatch?.Changes ?? []).map((c) => c.ResourceRecordSet?.Weight).join('/')}\n`);
      }
      if (context.commandName === 'GetChangeCommand' && existsSync(route53.holdFile)) {
        const output = result.output as { ChangeInfo?: { Status?: string } };
        if (output?.ChangeInfo) output.ChangeInfo.Status = 'PENDING';
      }
      return result;
    },
    { step: 'initialize', name: 'crashPointRoute53' },
  );
  return createDnsActivities({ route53: () => client, pollIntervalMs: 200 });
}
