/**
 * The GTM section of a failover service: the Route 53 weighted record pair kubeha keeps for it.
 * FailoverToEast's input takes it per service (activities/dns/route53.ts keeps the records); the schema is
 * kept apart so the webhook routing file can take it with the same rules. Pure zod: no Node built-ins.
 */
import { z } from 'zod';
import { urlWithoutCredentials } from './shared';

/** A DNS name, written without the trailing dot, compared case-insensitively. */
const dnsName = z
  .string()
  .transform((name) => name.replace(/\.$/, '').toLowerCase())
  .pipe(
    z
      .string()
      .regex(/^(?=.{1,253}$)([a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, 'must be a DNS name like "podinfo.example.com"'),
  );

/** Where one side's weighted record points: addresses (A/AAAA) or a hostname (CNAME). */
const targetSchema = z.strictObject({
  values: z.array(z.string().min(1)).min(1, 'must name at least one address or hostname'),
  /** Optional Route 53 health check of this side: Route 53 then stops answering it while the check fails. */
  healthCheckId: z
    .string()
    .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a Route 53 health check id (a UUID)')
    .optional(),
});

/** The Route 53 record of one failover service. */
export const gtmRecordSchema = z
  .strictObject({
    /** The hosted zone's id, as Route 53 gives it (upper-case letters and digits, "Z…" on AWS), with or without "/hostedzone/". */
    hostedZoneId: z.string().regex(/^(\/hostedzone\/)?[A-Z0-9]{1,32}$/, 'must be a Route 53 hosted zone id like "Z0123456789ABC"'),
    /** The zone's name, so kubeha can refuse a record outside it before calling Route 53. */
    zoneName: dnsName,
    recordName: dnsName,
    type: z.enum(['A', 'AAAA', 'CNAME']).default('A'),
    /** Route 53 accepts 0..2147483647; a failover record beyond a day would hold clients on west. */
    ttl: z.number().int('must be a whole number of seconds').min(0, 'must be 0 or more').max(86_400, 'must be at most 86400 seconds').default(60),
    west: targetSchema,
    east: targetSchema,
  })
  .refine((record) => record.recordName === record.zoneName || record.recordName.endsWith(`.${record.zoneName}`), {
    message: 'must be inside the hosted zone (zoneName)',
    path: ['recordName'],
  })
  .refine((record) => !record.west.values.some((value) => record.east.values.includes(value)), {
    message: 'must differ from west: a target shared by both sides cannot move traffic',
    path: ['east', 'values'],
  });
/** A service's GTM record after defaults. */
export type GtmRecord = z.infer<typeof gtmRecordSchema>;
/** A service's GTM record as the user writes it. */
export type GtmRecordInput = z.input<typeof gtmRecordSchema>;

/** Where kubeha reaches Route 53 (a global API: no region). Credentials come from the worker's environment. */
export const route53SettingsSchema = z.strictObject({
  /** Another endpoint than AWS's own (a VPC endpoint, or the lab's moto). */
  endpoint: urlWithoutCredentials(/^https?$/, 'must be an http(s) URL').optional(),
});
/** Route 53 settings after defaults. */
export type Route53Settings = z.infer<typeof route53SettingsSchema>;

/** The key two services must not share: one record name and type moves one set of clients. */
export function gtmRecordKey(record: Pick<GtmRecord, 'hostedZoneId' | 'recordName' | 'type'>): string {
  return `${record.hostedZoneId.replace(/^\/hostedzone\//, '')}/${record.recordName}/${record.type}`;
}
