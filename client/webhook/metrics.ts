/**
 * The webhook's few Prometheus metrics, written in the text exposition format (version 0.0.4): a
 * counter of requests by outcome, a latency histogram by outcome, and a counter of what was asked of
 * Temporal per route. Small enough not to need a client library.
 */

/** Latency buckets in seconds: a webhook answer should take milliseconds; Temporal trouble takes seconds. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

class Counter {
  private readonly values = new Map<string, { labels: Record<string, string>; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Record<string, string>, by = 1): void {
    const key = labelText(labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels, value: by });
  }

  get(labels: Record<string, string>): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${value}`);
    return lines;
  }
}

class Histogram {
  private readonly series = new Map<string, { labels: Record<string, string>; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  observe(labels: Record<string, string>, seconds: number): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    BUCKETS.forEach((le, i) => {
      if (seconds <= le) s.counts[i] += 1;
    });
    s.sum += seconds;
    s.count += 1;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      BUCKETS.forEach((le, i) => lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(le) })} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`);
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines;
  }
}

/** The webhook's metrics. */
export class WebhookMetrics {
  readonly requests = new Counter(
    'kubeha_webhook_requests_total',
    'Webhook requests by outcome (accepted, duplicate, ignored, unauthorized, bad_request, bad_version, too_large, unavailable, ...).',
  );
  readonly latency = new Histogram('kubeha_webhook_request_duration_seconds', 'Time from request to answer, by outcome.');
  readonly dispatches = new Counter(
    'kubeha_webhook_dispatches_total',
    'Calls to Temporal per route and kind (signal_with_start, signal, deduplicated, not_running, already_handled, failed).',
  );

  /** Records one answered request. */
  record(outcome: string, seconds: number): void {
    this.requests.inc({ outcome });
    this.latency.observe({ outcome }, seconds);
  }

  /** The exposition text. */
  render(): string {
    return [...this.requests.render(), ...this.latency.render(), ...this.dispatches.render()].join('\n') + '\n';
  }
}
