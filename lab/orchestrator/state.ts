/**
 * The running lab's record, `<dataDir>/lab/state.json` (lab/README.md): the topology, each host's
 * address, port and host key, the lab AWS supervisor and the network made in moto. The host tools
 * read `settings` and `hosts` from it too (lab/tools/labState.ts, lab/kube/env.ts).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dataDir } from '../../lib/paths';
import type { ProcessRef } from '../tools/processes';
import type { LabTopology } from './topology';

/** Where the lab keeps its files. */
export interface LabPaths {
  /** `<dataDir>/lab`. */
  labDir: string;
  stateFile: string;
  inputsDir: string;
  /** The supervisor of the lab AWS: its log and the file it reports its endpoint in. */
  awsDir: string;
  awsReadyFile: string;
  awsLog: string;
  /** The lab's CNI manifest (a small Calico-like one). */
  cniManifest: string;
}

/** The lab paths under kubeha's data directory (KUBEHA_DATA_DIR, else `.kubeha`). */
export function labPaths(root: string = dataDir()): LabPaths {
  const labDir = path.join(path.resolve(root), 'lab');
  const awsDir = path.join(labDir, 'aws');
  return {
    labDir,
    stateFile: path.join(labDir, 'state.json'),
    inputsDir: path.join(labDir, 'inputs'),
    awsDir,
    awsReadyFile: path.join(awsDir, 'ready.json'),
    awsLog: path.join(awsDir, 'supervisor.log'),
    cniManifest: path.join(labDir, 'cni', 'calico-like.yaml'),
  };
}

/** A host as state.json records it. */
export interface LabStateHost {
  name: string;
  cluster: string;
  role: string;
  address: string;
  port: number;
  hostKeyFingerprint: string;
}

/** What the supervisor reports once the lab AWS serves (`aws/ready.json`). */
export interface LabAwsRecord {
  supervisor: ProcessRef;
  endpoint: string;
  motoEndpoint: string;
  motoPid?: number;
  hostsFile: string;
  hostsBlockLabel?: string;
  /** The Route 53 data plane's DNS server. */
  dns?: { address: string; port: number };
}

/** A cluster's network in moto. */
export interface LabNetwork {
  cluster: string;
  region: string;
  vpcId: string;
  subnetIds: string[];
}

/** state.json. */
export interface LabState {
  version: 1;
  startedAt: string;
  topology: LabTopology;
  /** Read by the host tools (`labSetting`). */
  settings: LabTopology['settings'];
  hosts: LabStateHost[];
  aws?: LabAwsRecord;
  networks: LabNetwork[];
  /** The input files written for kubeha, per cluster. */
  inputs: Record<string, string>;
  /** The lab's SSH client key (kubeha's `ssh.privateKey.file`). */
  clientKey: string;
}

/** Reads state.json, undefined when there is none. */
export function readLabState(paths: LabPaths): LabState | undefined {
  if (!existsSync(paths.stateFile)) return undefined;
  try {
    return JSON.parse(readFileSync(paths.stateFile, 'utf8')) as LabState;
  } catch (err) {
    throw new Error(`cannot read ${paths.stateFile}: ${(err as Error).message}`);
  }
}

/** Writes state.json atomically: host tools read it on every command. */
export function writeLabState(paths: LabPaths, state: LabState): void {
  mkdirSync(paths.labDir, { recursive: true });
  const temp = `${paths.stateFile}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temp, paths.stateFile);
}
