/**
 * LAB EMULATION of Route 53's data plane: an authoritative DNS server (dns2, UDP and TCP) that answers
 * from the hosted zones and record sets moto holds, as Route 53's name servers would. A weighted group
 * (records of one name and type with set identifiers) answers with one set per query, picked with
 * probability weight / total weight, every set alike when all weights are 0; a plain record answers all
 * its values. A name in no zone is REFUSED; a name in a zone without the record is NXDOMAIN. Records are
 * read from moto at most every `refreshMs`, so a weight change shows within that time.
 */
import { ListHostedZonesCommand, ListResourceRecordSetsCommand, type ResourceRecordSet, Route53Client } from '@aws-sdk/client-route-53';
import dns2 from 'dns2';

const { Packet } = dns2;
/** RFC 1035 response codes (dns2 has them at run time, its typings do not). */
const RCODE = { SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

/** dns2 encodes plain resource records (its typings ask for its own Resource class). */
function addAnswer(response: { answers: unknown[] }, record: Record<string, unknown>): void {
  response.answers.push(record);
}

/** Options of {@link startLabDns}. */
export interface LabDnsOptions {
  /** moto's endpoint (Route 53's API). */
  motoEndpoint: string;
  address: string;
  port: number;
  /** How old the records read from moto may be. Default 500 ms. */
  refreshMs?: number;
  /** The weighted pick's dice (tests pass a seeded one). Default Math.random. */
  random?: () => number;
}

/** The running DNS server. */
export interface LabDns {
  address: string;
  port: number;
  /** Answers given, by name. */
  answered(): Record<string, number>;
  close(): Promise<void>;
}

interface Zone {
  name: string;
  sets: ResourceRecordSet[];
}

const bare = (name: string | undefined): string => (name ?? '').replace(/\\052/g, '*').replace(/\.$/, '').toLowerCase();

/** The set a weighted group answers with for one query, as Route 53 picks it. */
export function pickWeighted(sets: ResourceRecordSet[], random: () => number): ResourceRecordSet {
  const total = sets.reduce((sum, s) => sum + (s.Weight ?? 0), 0);
  if (total === 0) return sets[Math.min(Math.floor(random() * sets.length), sets.length - 1)];
  let point = random() * total;
  for (const set of sets) {
    point -= set.Weight ?? 0;
    if (point < 0) return set;
  }
  return sets[sets.length - 1];
}

/** Starts the server; resolves once it listens on UDP and TCP. */
export async function startLabDns(options: LabDnsOptions): Promise<LabDns> {
  const route53 = new Route53Client({ region: 'us-east-1', endpoint: options.motoEndpoint, credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' } });
  const refreshMs = options.refreshMs ?? 500;
  const random = options.random ?? Math.random;
  const counts: Record<string, number> = {};
  let cache: { at: number; zones: Promise<Zone[]> } | undefined;

  const readZones = async (): Promise<Zone[]> => {
    const zones = (await route53.send(new ListHostedZonesCommand({}))).HostedZones ?? [];
    return Promise.all(
      zones.map(async (z) => {
        const sets: ResourceRecordSet[] = [];
        let start: { StartRecordName?: string; StartRecordType?: ResourceRecordSet['Type']; StartRecordIdentifier?: string } = {};
        for (;;) {
          const page = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: z.Id, ...start }));
          sets.push(...(page.ResourceRecordSets ?? []));
          if (!page.IsTruncated) break;
          start = { StartRecordName: page.NextRecordName, StartRecordType: page.NextRecordType, StartRecordIdentifier: page.NextRecordIdentifier };
        }
        return { name: bare(z.Name), sets };
      }),
    );
  };
  const zones = (): Promise<Zone[]> => {
    if (!cache || Date.now() - cache.at > refreshMs) {
      cache = { at: Date.now(), zones: readZones() };
      cache.zones.catch(() => (cache = undefined));
    }
    return cache.zones;
  };

  const server = dns2.createServer({
    udp: true,
    tcp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      response.header.aa = 1;
      const [question] = request.questions;
      const name = bare(question?.name);
      void (async () => {
        try {
          const zone = (await zones()).filter((z) => name === z.name || name.endsWith(`.${z.name}`)).sort((a, b) => b.name.length - a.name.length)[0];
          if (!zone) {
            response.header.rcode = RCODE.REFUSED;
            return send(response);
          }
          const type = Object.entries(Packet.TYPE).find(([, code]) => code === question.type)?.[0];
          const sets = zone.sets.filter((s) => bare(s.Name) === name && s.Type === type);
          if (sets.length === 0) {
            if (!zone.sets.some((s) => bare(s.Name) === name)) response.header.rcode = RCODE.NXDOMAIN;
            return send(response);
          }
          const answer = sets.some((s) => s.SetIdentifier) ? pickWeighted(sets, random) : sets[0];
          for (const record of answer.ResourceRecords ?? []) {
            const base = { name: question.name, class: Packet.CLASS.IN, ttl: answer.TTL ?? 60 };
            if (type === 'A') addAnswer(response, { ...base, type: Packet.TYPE.A, address: record.Value });
            else if (type === 'AAAA') addAnswer(response, { ...base, type: Packet.TYPE.AAAA, address: record.Value });
            else if (type === 'CNAME') addAnswer(response, { ...base, type: Packet.TYPE.CNAME, domain: record.Value });
          }
          counts[name] = (counts[name] ?? 0) + 1;
          send(response);
        } catch {
          response.header.rcode = RCODE.SERVFAIL;
          send(response);
        }
      })();
    },
  });
  await server.listen({ udp: { port: options.port, address: options.address }, tcp: { port: options.port, address: options.address } });
  return {
    address: options.address,
    port: options.port,
    answered: () => ({ ...counts }),
    close: async () => {
      await server.close();
      route53.destroy();
    },
  };
}
