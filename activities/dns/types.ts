/**
 * The contracts of the Route 53 activities (route53.ts): the weighted record pair of a failover service,
 * read and moved. Type-only module: workflows import it.
 */
import type { GtmRecord, Route53Settings } from '../../common/inputs/gtm';

/** One side of the pair. */
export type GtmSide = 'west' | 'east';

/** The weights of the pair; Route 53 sends traffic in proportion (both 0: it answers both equally). */
export interface GtmWeights {
  west: number;
  east: number;
}

/** What the pair looks like in Route 53 now. */
export interface GtmState {
  /** Undefined for a side whose record does not exist yet. */
  west?: number;
  east?: number;
  /**
   * The sides whose record does not exist yet (empty: both exist), so a caller tells "records missing"
   * without testing each side. readGtmWeights always sets it.
   */
  missing?: GtmSide[];
  /** Both records exist with the input's type, TTL and targets. */
  inShape: boolean;
}

/** The outcome of a weight change. */
export interface GtmChange {
  /** A change was sent for these weights (by this attempt, or by an earlier one when `resumed`). */
  changed: boolean;
  weights: GtmWeights;
  /** The weights read before acting; undefined for a side whose record did not exist. */
  before: { west?: number; east?: number };
  /** Route 53's change id, when a change was sent. */
  changeId?: string;
  /** How long this attempt waited for the change to become INSYNC. */
  waitedMs?: number;
  /** An earlier attempt sent the change and stopped before INSYNC; this one only waited for it. */
  resumed?: boolean;
}

/** The Route 53 activities. */
export interface DnsActivities {
  readGtmWeights(input: { route53: Route53Settings; record: GtmRecord }): Promise<GtmState>;
  setGtmWeights(input: { route53: Route53Settings; record: GtmRecord; weights: GtmWeights; syncTimeoutSeconds?: number }): Promise<GtmChange>;
}
