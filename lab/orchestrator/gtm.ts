/**
 * Global traffic management for the lab's pair: a Route 53 hosted zone in moto and, per service, the
 * weighted record pair kubeha keeps (set identifiers kubeha-west and kubeha-east), created once with all
 * traffic on west, pointing at each cluster's greeter. This is the operator's one-time setup that a
 * failover finds in place (its precheck refuses a missing pair); the lab's DNS server answers from it.
 */
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import type { GtmRecordInput } from '../../common/inputs/gtm';
import { LAB_AWS_ENVIRONMENT } from './awsEnvironment';

/** The lab's hosted zone. `.test` is reserved (RFC 2606): it never leaks to real DNS. */
export const LAB_ZONE = 'kubeha-lab.test';

/** The record a service's clients resolve: `<name>.<namespace>.<zone>`. */
export function labRecordName(service: { namespace: string; name: string }): string {
  return `${service.name}.${service.namespace}.${LAB_ZONE}`;
}

/** What {@link ensureLabGtm} needs. */
export interface LabGtmSource {
  /** The lab AWS endpoint (Route 53's API). */
  endpoint: string;
  services: ReadonlyArray<{ namespace: string; name: string }>;
  /** Each side's greeter address (where the records point). */
  westAddress: string;
  eastAddress: string;
  /** The records' TTL: short, so clients follow a shift within seconds. Default 5. */
  ttl?: number;
}

function client(endpoint: string): Route53Client {
  return new Route53Client({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: LAB_AWS_ENVIRONMENT.AWS_ACCESS_KEY_ID, secretAccessKey: LAB_AWS_ENVIRONMENT.AWS_SECRET_ACCESS_KEY },
  });
}

/** The zone's id, creating the zone when the lab has none yet. */
async function ensureZone(route53: Route53Client): Promise<string> {
  const found = await route53.send(new ListHostedZonesByNameCommand({ DNSName: LAB_ZONE, MaxItems: 1 }));
  const zone = found.HostedZones?.find((z) => z.Name === `${LAB_ZONE}.`);
  const id = zone?.Id ?? (await route53.send(new CreateHostedZoneCommand({ Name: LAB_ZONE, CallerReference: `kubeha-lab-${LAB_ZONE}` }))).HostedZone?.Id;
  if (!id) throw new Error(`moto created no hosted zone ${LAB_ZONE}`);
  return id.replace(/^\/hostedzone\//, '');
}

/**
 * Creates the zone and each service's record pair (west 100, east 0) where missing; a pair already there
 * keeps its weights (a failover may hold it). Returns each service's `gtm` section, keyed `namespace/name`.
 */
export async function ensureLabGtm(source: LabGtmSource): Promise<Record<string, GtmRecordInput>> {
  const route53 = client(source.endpoint);
  try {
    const zoneId = await ensureZone(route53);
    const ttl = source.ttl ?? 5;
    const records: Record<string, GtmRecordInput> = {};
    for (const service of source.services) {
      const name = labRecordName(service);
      const existing = await route53.send(
        new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: name, StartRecordType: 'A', MaxItems: 2 }),
      );
      const have = new Set((existing.ResourceRecordSets ?? []).filter((r) => r.Name === `${name}.` && r.Type === 'A').map((r) => r.SetIdentifier));
      const sides = [
        { id: 'kubeha-west', weight: 100, address: source.westAddress },
        { id: 'kubeha-east', weight: 0, address: source.eastAddress },
      ].filter((side) => !have.has(side.id));
      if (sides.length) {
        await route53.send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: zoneId,
            ChangeBatch: {
              Comment: 'kubeha lab: the pair, all traffic on west',
              Changes: sides.map((side) => ({
                Action: 'CREATE',
                ResourceRecordSet: { Name: name, Type: 'A', SetIdentifier: side.id, Weight: side.weight, TTL: ttl, ResourceRecords: [{ Value: side.address }] },
              })),
            },
          }),
        );
      }
      records[`${service.namespace}/${service.name}`] = {
        hostedZoneId: zoneId,
        zoneName: LAB_ZONE,
        recordName: name,
        type: 'A',
        ttl,
        west: { values: [source.westAddress] },
        east: { values: [source.eastAddress] },
      };
    }
    return records;
  } finally {
    route53.destroy();
  }
}
