/**
 * Clients outside the mesh, as the lab's failover tests count them: each request resolves the service's
 * name through the lab's Route 53 data plane (Node's own resolver, no cache), then asks the address it got
 * over HTTP; and the record pair read back from the lab's Route 53 API (moto).
 */
import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { failoverToEastInputSchema } from '../../../common/inputs/failoverToEast';
import type { GtmRecord } from '../../../common/inputs/gtm';
import { GREETER_PORT } from '../../../lab/orchestrator/greeters';
import { LAB_AWS_ENVIRONMENT } from '../../../lab/orchestrator/awsEnvironment';

/** Where the lab's DNS server listens. */
export interface LabDnsAddress {
  address: string;
  port: number;
}

/** A resolver that asks only the lab's DNS server. */
export function labResolver(dns: LabDnsAddress): Resolver {
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([dns.port === 53 ? dns.address : `${dns.address}:${dns.port}`]);
  return resolver;
}

/** What `n` clients got: each answer's text (or the error), counted. */
export async function countGreetings(dns: LabDnsAddress, name: string, n: number): Promise<Record<string, number>> {
  const resolver = labResolver(dns);
  const seen: Record<string, number> = {};
  const tally = (what: string) => (seen[what] = (seen[what] ?? 0) + 1);
  for (let i = 0; i < n; i++) {
    try {
      const [address] = await resolver.resolve4(name);
      const text = await fetch(`http://${address}:${GREETER_PORT}/`, { signal: AbortSignal.timeout(2000) }).then((r) => r.text());
      tally(text.trim());
    } catch (err) {
      tally(`error: ${(err as NodeJS.ErrnoException).code ?? (err as Error).name}`);
    }
  }
  return seen;
}

/** The addresses the lab DNS answered for `n` queries, counted. */
export async function countAnswers(dns: LabDnsAddress, name: string, n: number): Promise<Record<string, number>> {
  const resolver = labResolver(dns);
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) for (const address of await resolver.resolve4(name)) seen[address] = (seen[address] ?? 0) + 1;
  return seen;
}

/** The weights of kubeha's record pair as Route 53's API holds them. */
export async function readPairWeights(endpoint: string, record: { hostedZoneId: string; recordName: string }): Promise<{ west?: number; east?: number }> {
  const route53 = new Route53Client({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: LAB_AWS_ENVIRONMENT.AWS_ACCESS_KEY_ID, secretAccessKey: LAB_AWS_ENVIRONMENT.AWS_SECRET_ACCESS_KEY },
  });
  try {
    const list = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: record.hostedZoneId, StartRecordName: record.recordName, MaxItems: 10 }));
    const sets = (list.ResourceRecordSets ?? []).filter((r) => r.Name === `${record.recordName}.`);
    const weight = (id: string) => sets.find((r) => r.SetIdentifier === id)?.Weight;
    return { west: weight('kubeha-west'), east: weight('kubeha-east') };
  } finally {
    route53.destroy();
  }
}

/** The demo service's Route 53 record as the lab's failover input names it, with Route 53's endpoint. */
export function gtmRecordOf(files: { failoverInput: string }): { endpoint: string; record: GtmRecord; key: string } {
  const input = failoverToEastInputSchema.parse(JSON.parse(readFileSync(files.failoverInput, 'utf8')));
  const service = input.services[0];
  if (!service.gtm || !input.route53.endpoint) throw new Error(`${files.failoverInput} names no Route 53 record for ${service.namespace}/${service.name}`);
  return { endpoint: input.route53.endpoint, record: service.gtm, key: `${service.namespace}/${service.name}` };
}
