/**
 * The services FailoverToEast moves, as the user writes them (the split objects on west and east, the
 * Route 53 record pair) and with every default resolved after Linkerd's mirror naming.
 *
 * Part of FailoverToEast's input (./failoverToEast.ts). Pure zod: no Node built-ins.
 */
import { type GtmRecord, gtmRecordSchema } from './gtm';
import { z } from 'zod';
import { dnsLabel } from './shared';

/** The API versions a split object may have. */
const splitApiVersionSchema = z.enum([
  'split.smi-spec.io/v1alpha1',
  'split.smi-spec.io/v1alpha2',
  'policy.linkerd.io/v1beta2',
  'policy.linkerd.io/v1beta3',
  'gateway.networking.k8s.io/v1',
]);

/** The object the mesh splits traffic with, in west. */
const splitSchema = z
  .strictObject({
    /**
     * An HTTPRoute with weighted backendRefs (the default: what LinkMeshClusters writes on Linkerd 2.13+,
     * where SMI is deprecated) or an SMI TrafficSplit (the seed's; needs linkerd-smi).
     */
    kind: z.enum(['TrafficSplit', 'HTTPRoute']).default('HTTPRoute'),
    /** For HTTPRoute: `policy.linkerd.io/v1beta2` (Linkerd 2.13+) or `gateway.networking.k8s.io/v1` (2.18+). */
    apiVersion: splitApiVersionSchema.optional(),
    /** The split object's name; defaults to the service's name. */
    name: dnsLabel.optional(),
  })
  .refine((split) => split.apiVersion === undefined || split.apiVersion.startsWith('split.smi-spec.io/') === (split.kind === 'TrafficSplit'), {
    message: 'does not serve this kind: TrafficSplit is split.smi-spec.io, HTTPRoute is policy.linkerd.io or gateway.networking.k8s.io',
    path: ['apiVersion'],
  });

/**
 * The split on east that east's own clients of the service go through: its west backend is the mirror
 * of west's service on east (Linkerd names it `<service>-<west cluster>`), its east backend east's service.
 */
const eastSplitSchema = z
  .strictObject({
    kind: z.enum(['TrafficSplit', 'HTTPRoute']).default('HTTPRoute'),
    apiVersion: splitApiVersionSchema.optional(),
    /** The split object's name on east; defaults to the service's name. */
    name: dnsLabel.optional(),
    /** West's service mirrored on east; defaults to `<name>-<west cluster>`. */
    westBackend: dnsLabel.optional(),
  })
  .refine((split) => split.apiVersion === undefined || split.apiVersion.startsWith('split.smi-spec.io/') === (split.kind === 'TrafficSplit'), {
    message: 'does not serve this kind: TrafficSplit is split.smi-spec.io, HTTPRoute is policy.linkerd.io or gateway.networking.k8s.io',
    path: ['apiVersion'],
  });

/** One service moved between the clusters. */
export const serviceSchema = z.strictObject({
  namespace: dnsLabel,
  /** The service clients call on west (the TrafficSplit's root service, the HTTPRoute's parent). */
  name: dnsLabel,
  /** West's own backend; defaults to `name`. */
  westBackend: dnsLabel.optional(),
  /** The mirrored service on west pointing at east; defaults to `<name>-<east cluster>` as Linkerd names it. */
  eastBackend: dnsLabel.optional(),
  /** The service's name in east; defaults to `name`. */
  eastService: dnsLabel.optional(),
  split: splitSchema.default({ kind: 'HTTPRoute' }),
  /** The service's Route 53 weighted record pair, for clients outside the mesh (global traffic management). */
  gtm: gtmRecordSchema.optional(),
  /** A split on east for east's own clients of the service (west's mirror there, and east's service): moved without west. */
  eastSplit: eastSplitSchema.optional(),
});
/** A service as the user writes it. */
export type FailoverServiceInput = z.input<typeof serviceSchema>;

/** A service after validation, with the defaults zod fills in. */
export type FailoverServiceConfig = z.output<typeof serviceSchema>;

/** A service with every default resolved. */
export interface ResolvedService {
  namespace: string;
  name: string;
  westBackend: string;
  eastBackend: string;
  eastService: string;
  split: { kind: 'TrafficSplit' | 'HTTPRoute'; apiVersion: string; name: string };
  /** The Route 53 record pair, when the service has one. */
  gtm?: GtmRecord;
  /** East's own split, when the input names one. */
  eastSplit?: { kind: 'TrafficSplit' | 'HTTPRoute'; apiVersion: string; name: string; westBackend: string; eastBackend: string };
}

const defaultApiVersion = (kind: 'TrafficSplit' | 'HTTPRoute') => (kind === 'TrafficSplit' ? 'split.smi-spec.io/v1alpha1' : 'policy.linkerd.io/v1beta2');

/** Fills in a service's defaults (backend names after Linkerd's mirror naming, the split's apiVersion). */
export function resolveService(service: FailoverServiceConfig, eastCluster: string, westCluster: string): ResolvedService {
  const kind = service.split.kind;
  const eastService = service.eastService ?? service.name;
  const eastSplit = service.eastSplit;
  return {
    ...(service.gtm ? { gtm: service.gtm } : {}),
    ...(eastSplit
      ? {
          eastSplit: {
            kind: eastSplit.kind,
            apiVersion: eastSplit.apiVersion ?? defaultApiVersion(eastSplit.kind),
            name: eastSplit.name ?? service.name,
            westBackend: eastSplit.westBackend ?? `${service.name}-${westCluster}`,
            eastBackend: eastService,
          },
        }
      : {}),
    namespace: service.namespace,
    name: service.name,
    westBackend: service.westBackend ?? service.name,
    eastBackend: service.eastBackend ?? `${service.name}-${eastCluster}`,
    eastService,
    split: {
      kind,
      apiVersion: service.split.apiVersion ?? defaultApiVersion(kind),
      name: service.split.name ?? service.name,
    },
  };
}
