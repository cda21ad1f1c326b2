/**
 * The lab kubelet: one long-running process per host (started by `systemctl start kubelet` or by
 * the lab's kubeadm). It runs the static Pods of /etc/kubernetes/manifests as processes, registers
 * the host's Node (Ready once the runtime's network is: network.ts), posts the status of the API pods
 * bound to it (podRunner.ts), and on control planes takes its turn as the lab controller.
 * Accepts (and ignores) the real kubelet's flags, so a systemd-style unit line works unchanged.
 * Logs go to stdout (the host's kubelet.log).
 */
import { existsSync, mkdirSync, watch, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostAddress, hostEnv, KUBE } from '../env';
import { kubeletPidFile } from '../processes';
import { LabController } from './controllers';
import { workloadRulesFile } from './labRules';
import { RuntimeNetwork } from './network';
import { kubeadmFlags, kubeletClient, NodeAgent } from './node';
import { PodRunner } from './podRunner';
import { PodSupervisor } from './pods';

const SYNC_INTERVAL_MS = 1000;
/** How often the lab controller runs (CSR signing and rollouts should not wait a whole heartbeat). */
const CONTROLLER_INTERVAL_MS = 2000;

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} kubelet: ${line}\n`);
}

async function main(): Promise<void> {
  const host = hostEnv();
  mkdirSync(host.labDir, { recursive: true });
  // Started by the lab's systemctl, the pid file still tells kubeadm reset which process is the kubelet.
  writeFileSync(kubeletPidFile(host), String(process.pid));
  const flags = kubeadmFlags();
  const nodeName = flags['hostname-override'] || host.hostName;
  const address = flags['node-ip'] || hostAddress(host);
  log(`starting for node ${nodeName} (${address ?? 'no address'}), manifests in ${KUBE.manifests}`);

  const pods = new PodSupervisor(host, log);
  pods.adopt();
  const network = new RuntimeNetwork(host.labDir);
  const node = new NodeAgent(nodeName, address, network, log);
  const controller = new LabController(nodeName, address, log);
  const runner = new PodRunner(
    nodeName,
    address ?? '127.0.0.1',
    host.env.KUBEHA_LAB_STATE ? workloadRulesFile(host.env.KUBEHA_LAB_STATE) : undefined,
    network,
    log,
  );
  const runPods = async (): Promise<void> => {
    const client = node.isRegistered ? kubeletClient() : undefined;
    if (!client) return;
    try {
      await runner.sync(client);
    } catch (err) {
      if (!(err instanceof Error && /ECONNREFUSED|connection refused|socket hang up|ECONNRESET/.test(err.message)))
        log(`pod status sync failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  let stopping = false;
  let wake: (() => void) | undefined;
  const stop = (): void => {
    stopping = true;
    wake?.();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  // A manifest change wakes the loop at once; the interval catches anything the watch misses.
  let watcher: ReturnType<typeof watch> | undefined;
  const ensureWatch = (): void => {
    if (watcher || !existsSync(KUBE.manifests)) return;
    try {
      watcher = watch(KUBE.manifests, () => wake?.());
      watcher.on('error', () => {
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      watcher = undefined;
    }
  };

  const heartbeatMs = host.settings.nodeHeartbeatSeconds * 1000;
  let lastHeartbeat = 0;
  let lastBeat = 0;
  let background: Promise<void> | undefined;
  while (!stopping) {
    ensureWatch();
    try {
      await pods.sync();
    } catch (err) {
      log(`pod sync failed: ${(err as Error).message}`);
    }
    // API work runs beside the pod loop so a slow API never delays restarting a dead process.
    if (!background && Date.now() - lastHeartbeat >= (node.isRegistered ? Math.min(heartbeatMs, CONTROLLER_INTERVAL_MS) : SYNC_INTERVAL_MS)) {
      lastHeartbeat = Date.now();
      const due = !node.isRegistered || Date.now() - lastBeat >= heartbeatMs;
      background = (async () => {
        await runPods();
        // A network that came or went is posted at once, as the kubelet's status loop does on a change.
        if (due || node.readinessChanged) {
          lastBeat = Date.now();
          await node.heartbeat();
        }
        await controller.run();
      })().finally(() => {
        background = undefined;
      });
    }
    await Promise.race([sleep(SYNC_INTERVAL_MS), new Promise<void>((resolve) => (wake = resolve))]);
    wake = undefined;
  }
  watcher?.close();
  log('stopping (static pods keep running, as containers do)');
  process.exit(0);
}

main().catch((err: unknown) => {
  log(`fatal: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
