/**
 * The `meshIssuer` section of RotateCertificateKey: the cluster's Linkerd identity issuer (made by
 * LinkMeshClusters) joins the certificate expiry watch, and is renewed from the pair's trust anchor.
 * Pure zod: workflows import it, so no Node built-ins here.
 */
import { z } from 'zod';
import { dnsLabel } from './shared';

/** `linkerd check` warns when the issuer expires within this many days (linkerd2 healthcheck). */
export const LINKERD_EXPIRY_WARNING_DAYS = 60;

/** The cluster's Linkerd issuer: where LinkMeshClusters keeps it, when to warn and renew, how long a new one lives. */
export const meshIssuerSchema = z.strictObject({
  /** The LinkMeshClusters pair (its `pairName`, or `<west>-<east>`): the anchor and issuer are kept under `mesh/<pairName>/`. */
  pairName: dnsLabel,
  /** Which side of the pair this cluster is; its kubeconfig is the one LinkMeshClusters stored for that side. */
  role: z.enum(['west', 'east']),
  /** Warn, and renew, when the issuer expires within this many days. Default: where `linkerd check` warns. */
  thresholdDays: z.number().int().min(1).max(365).default(LINKERD_EXPIRY_WARNING_DAYS),
  /** Validity of a renewed issuer (never past the anchor), as LinkMeshClusters' `trust.issuerValidityHours`. */
  validityHours: z.number().int().min(24).max(87_600).default(8760),
  /** Set false to only watch (the warning stays). */
  renew: z.boolean().default(true),
  /** How long the restarted linkerd-identity Deployment may take to roll out. */
  rolloutSeconds: z.number().int().min(30).max(3600).default(300),
});

/** The section as written. */
export type MeshIssuerInput = z.input<typeof meshIssuerSchema>;
/** The section with every default filled in. */
export type MeshIssuerSettings = z.output<typeof meshIssuerSchema>;
