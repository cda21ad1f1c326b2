/**
 * The Linkerd issuer in `kubeha report`: the expiry the watch read from the cluster, and the warning it
 * calls for. Pure: the CLI reads the issuer (activities/mesh/issuerWatch.ts) and hands the facts here.
 */

/** A cluster's Linkerd issuer as the expiry watch read it (the public facts of the mesh activity's answer). */
export interface LinkerdIssuerState {
  /** False when the cluster has no readable issuer Secret. */
  found: boolean;
  notAfter?: string;
  /** Whole days left (negative once expired). */
  daysLeft?: number;
  /** Expires within the threshold. */
  due: boolean;
  /** The watch's own words, naming the cluster and the date, when due or missing. */
  warning?: string;
  /** Whether kubeha holds what a renewal needs (the anchor key, a Linkerd-scheme Secret). */
  renewable: boolean;
  /** Why not, when not renewable. */
  notRenewableReason?: string;
}

/** The report's warning about the issuer, with what to do; undefined when it is not due. */
export function linkerdIssuerWarning(state: LinkerdIssuerState): string | undefined {
  if (!state.warning) return undefined;
  if (!state.found) return state.warning;
  const remedy = state.renewable
    ? "RotateCertificateKey with meshIssuer renews it from the pair's anchor and restarts linkerd-identity"
    : `kubeha cannot renew it: ${state.notRenewableReason ?? 'no anchor key'}`;
  return `${state.warning}: ${remedy}`;
}
