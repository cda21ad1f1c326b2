/**
 * The Linkerd issuer in `kubeha report`: the expiry the watch read from the cluster, and the warning it
 * calls for. Pure: the CLI reads the issuer (activities/mesh/issuerWatch.ts) and hands the facts here.
 */

/** A cluster's Linkerd issuer as the expiry watch read it (the public facts of the mesh activity's answer). */
export interface LinkerdIssuerState {
  found: boolean;
  notAfter?: string;
  daysLeft?: number;
  /** Expires within the threshold. */
  due: boolean;
  /** The watch's own words, naming the cluster and the date, when due or missing. */
  warning?: string;
  renewable: boolean;
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
