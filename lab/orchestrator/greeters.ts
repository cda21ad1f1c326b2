/**
 * The pair's greeters (lab/mesh/greeter.ts): on each cluster's first worker, a process of that host
 * answering "greetings from <cluster>" on the host's address, port 8080; the targets a service's
 * Route 53 record points at. Started idempotently (a running one is kept) and waited for.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { runOnLabHost } from '../hosts';
import { labHostOf } from './hostAccess';
import type { LabPaths, LabState } from './state';

/** The greeters' port on their hosts. */
export const GREETER_PORT = 8080;

/** What clients call: each cluster's greeter URL and the text it answers. */
export type LabGreeters = Record<string, { host: string; address: string; url: string; text: string }>;

/** The host a cluster's greeter runs on: its first worker, else its first host. */
export function greeterHost(state: LabState, cluster: string) {
  const hosts = state.hosts.filter((h) => h.cluster === cluster);
  const host = hosts.find((h) => h.role === 'worker') ?? hosts[0];
  if (!host) throw new Error(`the lab has no host in cluster ${cluster}`);
  return host;
}

/** Starts (or keeps) the greeter of each cluster and waits until each answers. */
export async function startLabGreeters(paths: LabPaths, state: LabState, clusters: readonly string[]): Promise<LabGreeters> {
  const greeters: LabGreeters = {};
  for (const cluster of clusters) {
    const host = greeterHost(state, cluster);
    const text = `greetings from ${cluster}`;
    const start = [
      'pid=$(cat "$KUBEHA_LAB_DIR/greeter.pid" 2>/dev/null)',
      `if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo running; else setsid kubeha-lab-greeter --address ${host.address} --port ${GREETER_PORT} --text '${text}' >>"$KUBEHA_LAB_DIR/greeter.log" 2>&1 </dev/null & echo started; fi`,
    ].join('; ');
    await runOnLabHost(labHostOf(paths, host.name), start);
    greeters[cluster] = { host: host.name, address: host.address, url: `http://${host.address}:${GREETER_PORT}/`, text };
  }
  for (const [cluster, greeter] of Object.entries(greeters)) {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const answer = await fetch(greeter.url, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.text(),
        () => '',
      );
      if (answer.trim() === greeter.text) break;
      if (Date.now() > deadline) throw new Error(`${cluster}'s greeter on ${greeter.host} (${greeter.url}) does not answer "${greeter.text}" after 15 s`);
      await sleep(200);
    }
  }
  return greeters;
}
