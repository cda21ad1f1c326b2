/**
 * `kubeha lab up` and `kubeha lab down`: the lab AWS (a detached supervisor), every host of the
 * topology (sshd in its own mount namespace), the network in moto, state.json and the workflow inputs.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../lib/paths';
import { loopbackRange } from '../aws';
import { labNetworkLabel, readLabHostRecord, removeLabCgroups, removeLabRules, startLabHost, stopLabHost } from '../hosts';
import { labHostPaths } from '../hosts/layout';
import { awsRunning, startAwsSupervisor, stopAwsSupervisor } from './awsSupervisor';
import { stopMeshSupervisor } from './meshControl';
import { bootstrapInput } from './inputs';
import { createLabNetwork } from './network';
import { labPaths, readLabState, writeLabState, type LabPaths, type LabState, type LabStateHost } from './state';
import { loadTopology, type LabTopology } from './topology';

/** Options of {@link labUp}. */
export interface LabUpOptions {
  /** kubeha's data directory (default KUBEHA_DATA_DIR, else `.kubeha`). */
  dataDir?: string;
  /** A topology file; default the built-in topology. */
  topologyFile?: string;
  /** A topology already parsed (tests). Wins over `topologyFile`. */
  topology?: LabTopology;
  /** Progress lines. */
  say?: (line: string) => void;
}

/** What {@link labUp} returns. */
export interface LabUpResult {
  state: LabState;
  paths: LabPaths;
  /** False when the lab was running already. */
  started: boolean;
  /** How long `up` took. */
  ms: number;
}

/** The CNI manifest the lab installs: shaped like Calico's; the lab kubelet runs its install step (lab/kube/kubelet). */
function installCniManifest(paths: LabPaths): void {
  mkdirSync(path.dirname(paths.cniManifest), { recursive: true });
  copyFileSync(path.join(projectRoot, 'lab', 'cni', 'calico-like.yaml'), paths.cniManifest);
}

/** Writes one BootstrapStackedEtcd input per cluster; returns cluster -> file. */
function writeInputs(paths: LabPaths, state: Omit<LabState, 'inputs'>): Record<string, string> {
  mkdirSync(paths.inputsDir, { recursive: true });
  const files: Record<string, string> = {};
  for (const cluster of state.topology.clusters) {
    const network = state.networks.find((n) => n.cluster === cluster.name);
    if (!network || !state.aws) continue;
    const input = bootstrapInput({
      cluster: cluster.name,
      hosts: state.hosts.filter((h) => h.cluster === cluster.name),
      network,
      awsEndpoint: state.aws.endpoint,
      clientKey: state.clientKey,
      cniManifest: paths.cniManifest,
      labLabel: state.topology.hostsBlockLabel,
    });
    const file = path.join(paths.inputsDir, `bootstrap-${cluster.name}.json`);
    writeFileSync(file, `${JSON.stringify(input, null, 2)}\n`);
    files[cluster.name] = file;
  }
  return files;
}

/**
 * Brings the lab up (or completes a half-up one): lab AWS, hosts, networks, state.json, inputs.
 * A lab whose AWS is already running is kept as it is (its moto holds the clusters' load balancers).
 */
export async function labUp(options: LabUpOptions = {}): Promise<LabUpResult> {
  const started = Date.now();
  const say = options.say ?? (() => undefined);
  const paths = labPaths(options.dataDir);
  const previous = readLabState(paths);
  const running = previous && awsRunning(previous.aws);
  const topology = options.topology ?? (options.topologyFile || !running ? loadTopology(options.topologyFile) : previous.topology);
  if (running && JSON.stringify(topology) !== JSON.stringify(previous.topology)) {
    throw new Error('the lab is up with another topology: run `kubeha lab down` first');
  }
  if (previous && !running) {
    say('a previous lab did not stop cleanly: cleaning it up first');
    await labDown({ dataDir: options.dataDir });
  }
  mkdirSync(paths.labDir, { recursive: true });
  installCniManifest(paths);

  let state: LabState | undefined = running ? previous : undefined;
  try {
    if (!state) {
      say('starting the lab AWS (moto, front, load balancer data plane)');
      const aws = await startAwsSupervisor(paths, {
        regions: [...new Set(topology.clusters.map((c) => c.region))],
        // The last address of the prefix is the Route 53 data plane's (DNS on port 53).
        addressPool: loopbackRange(topology.loadBalancerAddressPrefix, 1, 253),
        dns: { address: `${topology.loadBalancerAddressPrefix}.254`, port: 53 },
        hostsBlockLabel: topology.hostsBlockLabel,
        healthCheckIntervalScale: topology.healthCheckIntervalScale,
        deregistrationDelayScale: topology.deregistrationDelayScale,
        frontPort: topology.awsFrontPort,
      });
      state = {
        version: 1,
        startedAt: new Date().toISOString(),
        topology,
        settings: topology.settings,
        hosts: [],
        aws,
        networks: [],
        inputs: {},
        clientKey: labHostPaths(paths.labDir, '_').clientKey,
      };
      // The host tools read settings from state.json from their first command on.
      writeLabState(paths, state);
    }
    const hosts: LabStateHost[] = [];
    for (const cluster of topology.clusters) {
      for (const spec of cluster.hosts) {
        const host = await startLabHost({
          labDir: paths.labDir,
          name: spec.name,
          address: spec.address,
          port: topology.sshPort,
          labLabel: topology.hostsBlockLabel,
        });
        hosts.push({
          name: spec.name,
          cluster: cluster.name,
          role: spec.role,
          address: host.address,
          port: host.port,
          hostKeyFingerprint: host.hostKeyFingerprint,
        });
        say(`host ${spec.name} (${spec.role}) ssh root@${host.address} -p ${host.port}`);
      }
    }
    state.hosts = hosts;
    for (const cluster of topology.clusters) {
      if (state.networks.some((n) => n.cluster === cluster.name)) continue;
      state.networks.push(await createLabNetwork(state.aws?.endpoint as string, cluster));
    }
    writeLabState(paths, state);
    state.inputs = writeInputs(paths, state);
    writeLabState(paths, state);
    return { state, paths, started: !running, ms: Date.now() - started };
  } catch (err) {
    if (!running) await labDown({ dataDir: options.dataDir }).catch(() => undefined);
    throw err;
  }
}

/** Options of {@link labDown}. */
export interface LabDownOptions {
  dataDir?: string;
  /** Keep the hosts' files (etc/kubernetes, var/lib/etcd, logs) instead of removing them. */
  keepFiles?: boolean;
}

/** What {@link labDown} did. */
export interface LabDownResult {
  stoppedHosts: string[];
  stoppedAws: boolean;
  removedMountPoints: string[];
  /** netfilter rules of the lab removed after its hosts stopped (left by a crash; normally 0). */
  removedRules: number;
}

/** Host names with a folder in the lab (a host may be up without being in state.json after a crash). */
function hostFolders(paths: LabPaths): string[] {
  const dir = path.join(paths.labDir, 'hosts');
  return existsSync(dir) ? readdirSync(dir) : [];
}

/**
 * Stops everything of the lab: the mesh supervisor (and its addresses on lo), the AWS supervisor (moto, proxies, the /etc/hosts block), every host
 * and every process in its namespace and cgroup (etcd, kube-apiserver, kubelet), the lab's
 * netfilter rules (hosts' source addresses, isolation), the mount points the lab created. The SSH
 * keys stay, so host keys do not change across labs.
 */
export async function labDown(options: LabDownOptions = {}): Promise<LabDownResult> {
  const paths = labPaths(options.dataDir);
  const state = readLabState(paths);
  const stoppedAws = awsRunning(state?.aws);
  await stopMeshSupervisor(paths);
  await stopAwsSupervisor(state?.aws);
  const stoppedHosts: string[] = [];
  const removedMountPoints: string[] = [];
  const names = new Set([...(state?.hosts.map((h) => h.name) ?? []), ...hostFolders(paths)]);
  const labels = new Set([labNetworkLabel(paths.labDir, state?.topology.hostsBlockLabel)]);
  for (const name of names) {
    const hostPaths = labHostPaths(paths.labDir, name);
    const record = readLabHostRecord(hostPaths);
    if (!record) continue;
    if (record.label) labels.add(record.label);
    const report = await stopLabHost({ labDir: paths.labDir, name });
    if (report.killed) stoppedHosts.push(name);
    removedMountPoints.push(...report.removedMountPoints);
    if (!options.keepFiles) rmSync(hostPaths.hostDir, { recursive: true, force: true });
  }
  // Rules and cgroups of hosts whose records were lost (a crash between adding and recording them).
  let removedRules = 0;
  for (const label of labels) {
    removedRules += await removeLabRules(label);
    await removeLabCgroups(label);
  }
  rmSync(paths.stateFile, { force: true });
  rmSync(paths.inputsDir, { recursive: true, force: true });
  rmSync(paths.awsReadyFile, { force: true });
  return { stoppedHosts, stoppedAws, removedMountPoints, removedRules };
}
