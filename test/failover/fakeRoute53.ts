/**
 * A stand-in for Route 53 in FailoverToEast's WORKFLOW tests: the weighted pair of each record name, the
 * weight changes asked for, and a missing zone. Like the real activities it reads before it acts, so a
 * repeated call changes nothing; `requests` and `changes` prove what was sent. The real activities are
 * tested against moto (test/dns).
 */
import type { DnsActivities } from '../../activities/dns/types';
import { ErrorType, kubehaFailure } from '../../common/errors';

export class FakeRoute53 {
  /** The pair per record name (absent: no records). */
  readonly records = new Map<string, { west?: number; east?: number }>();
  /** Zone ids that do not exist. */
  readonly missingZones = new Set<string>();
  /** Every weight change asked for (`record: west/east`), in order, sent or not. */
  readonly requests: string[] = [];
  /** Changes actually sent (the records differed). */
  changes = 0;
  /** When each change was asked for (performance.now()). */
  readonly requestTimes: number[] = [];

  /** Creates the pair of a record at west 100, east 0 (what an operator sets up before any failover). */
  seed(recordName: string, weights = { west: 100, east: 0 }): void {
    this.records.set(recordName, { ...weights });
  }

  private zone(hostedZoneId: string): void {
    if (this.missingZones.has(hostedZoneId)) {
      throw kubehaFailure({
        type: ErrorType.CloudRejected,
        message: `hosted zone ${hostedZoneId} does not exist (NoSuchHostedZone)`,
        retryable: false,
        hint: 'check services[].gtm.hostedZoneId',
      });
    }
  }

  activities(): DnsActivities {
    return {
      readGtmWeights: async ({ record }) => {
        this.zone(record.hostedZoneId);
        return { ...(this.records.get(record.recordName) ?? {}), inShape: this.records.has(record.recordName) };
      },
      setGtmWeights: async ({ record, weights }) => {
        this.zone(record.hostedZoneId);
        this.requests.push(`${record.recordName}: ${weights.west}/${weights.east}`);
        this.requestTimes.push(performance.now());
        const now = this.records.get(record.recordName);
        const before = { ...(now ?? {}) };
        if (now?.west === weights.west && now?.east === weights.east) return { changed: false, weights, before };
        this.changes += 1;
        this.records.set(record.recordName, { ...weights });
        return { changed: true, weights, before, changeId: `C${this.changes}`, waitedMs: 5 };
      },
    };
  }
}
