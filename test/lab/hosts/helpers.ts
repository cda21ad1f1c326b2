/**
 * Helpers of the lab host tests: a scratch lab folder, lab hosts on their own loopback addresses
 * (high free ports, so suites can run side by side), and kubeha's real SSH shell pinned to them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { HostSpec } from '../../../common/inputs/shared';
import { FileKnownHostsStore } from '../../../activities/ssh/knownHosts';
import { createSshShell } from '../../../activities/ssh';
import type { CommandResult, RemoteShell } from '../../../activities/ssh/types';
import { labHostSpec, startLabHost, stopLabHost, type LabHost } from '../../../lab/hosts';
import { freePort } from '../../../lib/freePort';

/** A lab in a scratch folder, with kubeha's SSH shell; `close()` stops every host and removes the folder. */
export interface TestLab {
  labDir: string;
  shell: RemoteShell;
  hosts: LabHost[];
  start(name: string, address: string): Promise<LabHost>;
  spec(host: LabHost, role?: HostSpec['role']): HostSpec;
  /** Runs a command on a host and returns its result whatever the exit code. */
  sh(host: LabHost, command: string, stdin?: string): Promise<CommandResult>;
  close(): Promise<void>;
}

export async function createTestLab(prefix: string): Promise<TestLab> {
  const labDir = await mkdtemp(path.join(os.tmpdir(), `kubeha-lab-${prefix}-`));
  const shell = createSshShell({ knownHosts: new FileKnownHostsStore(path.join(labDir, 'known_hosts.json')) });
  const hosts: LabHost[] = [];
  const lab: TestLab = {
    labDir,
    shell,
    hosts,
    async start(name, address) {
      const host = await startLabHost({ labDir, name, address, port: await freePort(address) });
      hosts.push(host);
      return host;
    },
    spec: (host, role = 'control-plane') => labHostSpec(host, role),
    sh: (host, command, stdin) => shell.run(labHostSpec(host), { command, stdin, timeoutMs: 60_000 }),
    async close() {
      await shell.close();
      for (const host of hosts) await stopLabHost(host);
      await rm(labDir, { recursive: true, force: true });
    },
  };
  return lab;
}
