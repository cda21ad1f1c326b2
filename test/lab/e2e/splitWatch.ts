/**
 * A watch of west's split (an HTTPRoute or a TrafficSplit) that keeps watching, as an informer does: it resumes from the last
 * resourceVersion it saw when the stream ends (the lab's load balancer may move the connection to
 * another control plane), lists again when the server says that version is gone (ERROR 410) or not yet
 * known to this API server's watch cache, and keeps a record of every restart so a missed change can be
 * told apart from a change that never happened.
 */
import https from 'node:https';
import type { KubeTarget } from '../../../lab/kube/kubeconfig';

/** What the watch went through: restarts, and the last error it recovered from. */
export interface SplitWatchRecord {
  restarts: number;
  lastError?: string;
  /** The resourceVersion of the last event or list. */
  resourceVersion?: string;
}

/** How to reach the split, and how to read it at once. */
export interface SplitWatchSource {
  target: KubeTarget;
  /** The collection path, e.g. /apis/policy.linkerd.io/v1beta3/namespaces/ns/httproutes. */
  collection: string;
  name: string;
  /** A fresh read: east's weight and the object's resourceVersion. */
  read(): Promise<{ east: number; resourceVersion: string }>;
  /** East's weight in a watched object. */
  eastOf(object: unknown): number;
}

type StreamEnd = { kind: 'ended' } | { kind: 'relist'; why: string } | { kind: 'retry'; why: string; afterMs: number };

/** Starts the watch; `onEast` gets east's weight and the arrival time (performance.now()) of each change. */
export async function watchSplitResilient(
  source: SplitWatchSource,
  onEast: (east: number, at: number) => void,
): Promise<{ stop: () => void; record: SplitWatchRecord }> {
  const record: SplitWatchRecord = { restarts: 0 };
  const controller = new AbortController();
  const relist = async (): Promise<{ east: number; resourceVersion: string }> => {
    const now = await source.read();
    record.resourceVersion = now.resourceVersion;
    return now;
  };
  // Listed first, the watch starts from that version: a change made before the stream connects is still delivered.
  await relist();
  void (async () => {
    let end: StreamEnd | undefined;
    while (!controller.signal.aborted) {
      try {
        if (end) {
          record.restarts += 1;
          if (end.kind !== 'ended') record.lastError = end.why;
          if (end.kind === 'retry') await new Promise((r) => setTimeout(r, (end as { afterMs: number }).afterMs));
          if (end.kind === 'relist') {
            const before = record.resourceVersion;
            const now = await relist();
            // A change made while the watch was down is reported now, as an informer's relist would.
            if (before !== now.resourceVersion) onEast(now.east, performance.now());
          }
        }
        end = await stream(source, record, onEast, controller.signal);
      } catch (err) {
        end = { kind: 'retry', why: (err as Error).message, afterMs: 500 };
      }
    }
  })();
  return { stop: () => controller.abort(), record };
}

/** One watch request from the recorded resourceVersion; resolves when the stream ends, whatever the reason. */
function stream(source: SplitWatchSource, record: SplitWatchRecord, onEast: (east: number, at: number) => void, signal: AbortSignal): Promise<StreamEnd> {
  const { target } = source;
  const tls = { ca: target.caPem, cert: target.user.clientCertificatePem, key: target.user.clientKeyPem, rejectUnauthorized: !target.insecure };
  const authorization: Record<string, string> = target.user.token ? { Authorization: `Bearer ${target.user.token}` } : {};
  const query = new URLSearchParams({
    watch: '1',
    fieldSelector: `metadata.name=${source.name}`,
    resourceVersion: record.resourceVersion ?? '',
    allowWatchBookmarks: 'true',
  });
  return new Promise((resolve) => {
    const req = https.get(
      `${target.server}${source.collection}?${query}`,
      { ...tls, agent: false, headers: { ...authorization, Accept: 'application/json' }, signal },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          const afterMs = Math.min(5, Number(res.headers['retry-after']) || 1) * 1000;
          // 410 Gone / 504 "Too large resource version": this server's cache cannot start there; list again.
          resolve(
            res.statusCode === 410 || res.statusCode === 504
              ? { kind: 'relist', why: `HTTP ${res.statusCode}` }
              : { kind: 'retry', why: `HTTP ${res.statusCode}`, afterMs },
          );
          return;
        }
        let buffered = '';
        let end: StreamEnd = { kind: 'ended' };
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const at = performance.now();
          buffered += chunk;
          let newline: number;
          while ((newline = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, newline);
            buffered = buffered.slice(newline + 1);
            if (!line.trim()) continue;
            const event = JSON.parse(line) as { type: string; object?: { metadata?: { resourceVersion?: string }; code?: number; message?: string } };
            if (event.type === 'ERROR') {
              end = { kind: 'relist', why: `watch ERROR ${event.object?.code ?? ''}: ${event.object?.message ?? ''}` };
              continue;
            }
            if (event.object?.metadata?.resourceVersion) record.resourceVersion = event.object.metadata.resourceVersion;
            if (event.type === 'MODIFIED' || event.type === 'ADDED') onEast(source.eastOf(event.object), at);
          }
        });
        res.on('end', () => resolve(end));
        res.on('error', (err) => resolve({ kind: 'retry', why: err.message, afterMs: 200 }));
      },
    );
    req.on('error', (err) => resolve(signal.aborted ? { kind: 'ended' } : { kind: 'retry', why: err.message, afterMs: 500 }));
  });
}
